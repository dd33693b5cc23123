//! `myaccount workload-keys`: the key of each workload that calls another (the gateway calls
//! every service; identity calls security-info), written as a private key file per workload and its
//! public half, with the variables that configure callers and callees.
//!
//! A caller signs a short-lived token with its private key for every call
//! (`platform::workload`); the callee is configured with the caller's public key. Only the
//! caller's own pod needs its private key; the public keys are not secret.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use platform::workload::{GATEWAY, IDENTITY, WorkloadKey};

/// The workloads that call another, with their variable prefix.
pub const CALLING_WORKLOADS: [(&str, &str); 2] = [(GATEWAY, "GATEWAY"), (IDENTITY, "IDENTITY")];

/// Who calls whom: each callee's variable prefix and the callers it trusts.
pub const TRUST: [(&str, &[&str]); 6] = [
    ("IDENTITY", &[GATEWAY]),
    ("SECURITYINFO", &[GATEWAY, IDENTITY]),
    ("DEVICES", &[GATEWAY]),
    ("ORGANIZATIONS", &[GATEWAY]),
    ("AUDIT", &[GATEWAY]),
    ("SIGNALS", &[GATEWAY]),
];

#[derive(Debug, thiserror::Error)]
pub enum WorkloadKeysError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An existing key file that does not hold an Ed25519 key (its content is never quoted).
    #[error("{path} does not hold an Ed25519 private key (PKCS#8 PEM): {reason}")]
    NotAKey { path: PathBuf, reason: String },
}

/// One workload's key files.
#[derive(Debug, Clone)]
pub struct WrittenKey {
    pub workload: &'static str,
    pub env_prefix: &'static str,
    /// `<workload>/<workload>.pem`, mode 0600: only this workload's pods may hold it.
    pub private_key: PathBuf,
    /// `public/<workload>.pub`: the base64url public key its callees are configured with.
    pub public_key_file: PathBuf,
    pub public_key: String,
}

/// Writes `dir/<workload>/<workload>.pem` (in a directory of its own, which a deployment mounts
/// into that workload alone) and `dir/public/<workload>.pub` (every callee mounts `dir/public`)
/// for every calling workload. Keys already in `dir` are kept (their `.pub` rewritten from
/// them); delete a `.pem` to rotate that key.
pub fn write(dir: &Path) -> Result<Vec<WrittenKey>, WorkloadKeysError> {
    let public_dir = dir.join("public");
    std::fs::create_dir_all(&public_dir).map_err(|source| WorkloadKeysError::Write {
        path: public_dir.clone(),
        source,
    })?;
    let mut written = Vec::new();
    for (workload, env_prefix) in CALLING_WORKLOADS {
        let private_key = crate::files::private_file(dir, workload, &format!("{workload}.pem")).map_err(|source| {
            WorkloadKeysError::Write {
                path: dir.join(workload),
                source,
            }
        })?;
        let key = ensure_key(workload, &private_key)?;
        // A `.pub` of the flat layout would sit beside the private directories; it is rewritten
        // under public/.
        let _ = std::fs::remove_file(dir.join(format!("{workload}.pub")));
        let public_key_file = public_dir.join(format!("{workload}.pub"));
        write_file(&public_key_file, format!("{}\n", key.public_key()).as_bytes(), 0o644)?;
        written.push(WrittenKey {
            workload,
            env_prefix,
            private_key,
            public_key_file,
            public_key: key.public_key(),
        });
    }
    Ok(written)
}

fn ensure_key(workload: &str, path: &Path) -> Result<WorkloadKey, WorkloadKeysError> {
    match std::fs::read_to_string(path) {
        Ok(pem) => WorkloadKey::from_pem(workload, &pem).map_err(|reason| WorkloadKeysError::NotAKey {
            path: path.to_owned(),
            reason,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = WorkloadKey::generate(workload);
            write_file(path, key.to_pem().as_bytes(), 0o600)?;
            Ok(key)
        }
        Err(source) => Err(WorkloadKeysError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn write_file(path: &Path, content: &[u8], mode: u32) -> Result<(), WorkloadKeysError> {
    crate::files::write_with_mode(path, content, mode).map_err(|source| WorkloadKeysError::Write {
        path: path.to_owned(),
        source,
    })
}

fn public_key_of<'a>(written: &'a [WrittenKey], workload: &str) -> &'a str {
    written
        .iter()
        .find(|k| k.workload == workload)
        .map_or("", |k| k.public_key.as_str())
}

/// The variables a process running as the callers and callees needs, one per line: each
/// caller's key file and each callee's trusted callers.
pub fn variables(written: &[WrittenKey]) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = written
        .iter()
        .map(|k| {
            (
                format!("{}_WORKLOAD_KEY_FILE", k.env_prefix),
                k.private_key.display().to_string(),
            )
        })
        .collect();
    for (callee, callers) in TRUST {
        let trusted: Vec<String> = callers
            .iter()
            .map(|caller| format!("{caller}={}", public_key_of(written, caller)))
            .collect();
        vars.push((format!("{callee}_TRUSTED_CALLERS"), trusted.join(",")));
    }
    vars
}

/// What `myaccount workload-keys` prints: the variables, and how to give the chart the keys.
pub fn instructions(written: &[WrittenKey]) -> String {
    let mut out = String::new();
    for key in written {
        let _ = writeln!(
            out,
            "wrote {} and {}",
            key.private_key.display(),
            key.public_key_file.display()
        );
    }
    let _ = writeln!(
        out,
        "\n# myaccount up, or each service run on its own (the gateway and `myaccount demo` need the gateway's key file):"
    );
    for (name, value) in variables(written) {
        let _ = writeln!(out, "{name}={value}");
    }
    let _ = writeln!(
        out,
        "\n# The Helm chart mounts each private key from the Secret <release fullname>-workload-<workload>, key workload-key:"
    );
    for key in written {
        let _ = writeln!(
            out,
            "kubectl create secret generic myaccount-workload-{} --from-file=workload-key={}",
            key.workload,
            key.private_key.display()
        );
    }
    let _ = writeln!(out, "# and the public keys as values:");
    let _ = writeln!(out, "workloadIdentity:\n  publicKeys:");
    for key in written {
        let _ = writeln!(out, "    {}: {}", key.workload, key.public_key);
    }
    out
}

#[cfg(test)]
mod tests {
    use platform::config::Env;
    use platform::workload::TrustedCallers;

    use super::*;

    #[test]
    fn keys_are_written_once_kept_and_configure_their_callees() {
        let dir = std::env::temp_dir().join(format!("myaccount-workload-keys-{}", uuid::Uuid::new_v4()));
        let first = write(&dir).expect("written");
        let again = write(&dir).expect("written again");
        assert_eq!(
            first.iter().map(|k| &k.public_key).collect::<Vec<_>>(),
            again.iter().map(|k| &k.public_key).collect::<Vec<_>>(),
            "existing keys are kept"
        );
        let gateway = first.iter().find(|k| k.workload == GATEWAY).expect("the gateway's key");
        let mode = std::fs::metadata(&gateway.private_key).expect("key file").permissions();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777, 0o600);
        // The private key alone in its directory, the public keys together in another: a
        // callee mounts public/ and never sees a caller's private key.
        assert_eq!(gateway.private_key, dir.join("gateway").join("gateway.pem"));
        assert_eq!(gateway.public_key_file, dir.join("public").join("gateway.pub"));
        let public: Vec<_> = std::fs::read_dir(dir.join("public"))
            .expect("public dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert!(
            public.iter().all(|name| name.to_string_lossy().ends_with(".pub")),
            "{public:?}"
        );

        // The printed variables are what the services read.
        let env = Env::from_pairs(variables(&first));
        let key = WorkloadKey::from_env(&env, "GATEWAY", GATEWAY)
            .expect("a readable key")
            .expect("set");
        assert_eq!(key.public_key(), gateway.public_key);
        // Every service takes a person's calls from the gateway; security-info also identity's.
        for callee in ["IDENTITY", "SECURITYINFO", "DEVICES", "ORGANIZATIONS", "AUDIT"] {
            let trusted = TrustedCallers::from_env(&env, callee).expect("parsed");
            assert!(trusted.trusts(GATEWAY), "{callee}");
            assert_eq!(trusted.trusts(IDENTITY), callee == "SECURITYINFO", "{callee}");
        }
        // The path form of a trusted caller reads the .pub file.
        let by_path = TrustedCallers::parse(&format!("gateway={}", gateway.public_key_file.display())).expect("parsed");
        assert!(by_path.trusts(GATEWAY));

        std::fs::write(&gateway.private_key, "not a key").expect("overwrite");
        assert!(matches!(write(&dir), Err(WorkloadKeysError::NotAKey { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
