//! Certificate authorities made up by a test (rcgen): the servers a test starts present a
//! certificate of one, and clients trust it, or another, or none.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// A certificate authority of one test.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate issued by a [`TestCa`], with its private key.
pub struct TestCertificate {
    pub cert_pem: String,
    pub key_pem: String,
}

/// The PEM files of a server: its certificate, its key and the CA that issued it.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("a CA key");
        Self {
            issuer: CertifiedIssuer::self_signed(params, key).expect("a self-signed CA"),
        }
    }

    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server (and client) certificate for `names` (DNS names or IP addresses).
    pub fn issue(&self, names: &[&str]) -> TestCertificate {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("certificate parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, names.first().cloned().unwrap_or_default());
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("a key");
        let cert = params.signed_by(&key, &self.issuer).expect("a signed certificate");
        TestCertificate {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// Writes this CA's certificate to `dir/<file>`.
    pub fn write_cert(&self, dir: &Path, file: &str) -> PathBuf {
        write(dir, file, &self.cert_pem())
    }

    /// Issues a certificate for `names` and writes it, its key (readable by its owner only, as
    /// Postgres requires) and this CA to `dir`, as `<stem>.crt`, `<stem>.key` and `<stem>-ca.crt`.
    pub fn write_server_files(&self, dir: &Path, stem: &str, names: &[&str]) -> TlsFiles {
        let issued = self.issue(names);
        let key = write(dir, &format!("{stem}.key"), &issued.key_pem);
        set_owner_only(&key);
        TlsFiles {
            cert: write(dir, &format!("{stem}.crt"), &issued.cert_pem),
            key,
            ca: self.write_cert(dir, &format!("{stem}-ca.crt")),
        }
    }
}

fn write(dir: &Path, file: &str, content: &str) -> PathBuf {
    std::fs::create_dir_all(dir).expect("a directory for certificates");
    let path = dir.join(file);
    std::fs::write(&path, content).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

fn set_owner_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("chmod 600 {}: {e}", path.display()));
}
