//! TLS of the connections between services: a service serves TLS when it is given a
//! certificate (`<PREFIX>_GRPC_TLS_CERT_FILE`/`_KEY_FILE`), on its gRPC port and on its admin
//! port alike (probes, `/metrics`, identity's JWKS: a JWKS swapped on the wire would let anyone
//! mint tokens), and its clients dial `https://` addresses trusting the CA in
//! `GRPC_TLS_CA_FILE` (which also verifies an `https://` JWKS_URL).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity, ServerTlsConfig};

use crate::config::{ConfigError, Env};

/// The variable naming the CA file clients trust for `https://` service addresses.
pub const GRPC_TLS_CA_FILE: &str = "GRPC_TLS_CA_FILE";

/// The certificate and key a service presents on its gRPC port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot load the gRPC TLS certificate {path}: {source}")]
pub struct TlsLoadError {
    path: PathBuf,
    source: std::io::Error,
}

impl ServerTls {
    /// `<PREFIX>_GRPC_TLS_CERT_FILE` with `<PREFIX>_GRPC_TLS_KEY_FILE` (PEM), both or neither;
    /// neither serves plain-text gRPC.
    pub fn from_env(env: &Env, prefix: &str) -> Result<Option<Self>, ConfigError> {
        let cert_var = format!("{prefix}_GRPC_TLS_CERT_FILE");
        let key_var = format!("{prefix}_GRPC_TLS_KEY_FILE");
        match (
            env.pem_file(&cert_var, "CERTIFICATE")?,
            env.pem_file(&key_var, "PRIVATE KEY")?,
        ) {
            (Some(cert_file), Some(key_file)) => Ok(Some(Self { cert_file, key_file })),
            (None, None) => Ok(None),
            (cert, _) => Err(ConfigError::new(
                if cert.is_some() { &key_var } else { &cert_var },
                format!("a certificate needs its key: set both {cert_var} and {key_var}, or neither"),
            )),
        }
    }

    /// The server configuration, files read now.
    pub fn server_config(&self) -> Result<ServerTlsConfig, TlsLoadError> {
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|source| TlsLoadError {
                path: path.clone(),
                source,
            })
        };
        let identity = Identity::from_pem(read(&self.cert_file)?, read(&self.key_file)?);
        Ok(ServerTlsConfig::new().identity(identity))
    }

    /// The same certificate for the admin HTTP listener (probes, `/metrics`, identity's JWKS):
    /// a rustls configuration offering HTTP/1.1, files read now.
    pub fn admin_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsLoadError> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let invalid = |path: &PathBuf, e: &dyn std::fmt::Display| TlsLoadError {
            path: path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
        };
        let chain = CertificateDer::pem_file_iter(&self.cert_file)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| invalid(&self.cert_file, &e))?;
        let key = PrivateKeyDer::from_pem_file(&self.key_file).map_err(|e| invalid(&self.key_file, &e))?;
        let mut config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| invalid(&self.cert_file, &e))?
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .map_err(|e| invalid(&self.key_file, &e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// The first DNS name the certificate is issued for: what a client on the same host (the
    /// container's probe, dialling 127.0.0.1) verifies it against.
    pub fn dns_name(&self) -> Result<String, String> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let path = self.cert_file.display();
        let der = CertificateDer::from_pem_file(&self.cert_file)
            .map_err(|e| format!("cannot read the certificate {path}: {e}"))?;
        let cert =
            webpki::EndEntityCert::try_from(&der).map_err(|e| format!("{path} is not an X.509 certificate: {e}"))?;
        cert.valid_dns_names()
            .next()
            .map(str::to_owned)
            .ok_or_else(|| format!("the certificate {path} names no DNS name"))
    }
}

/// What a client trusts for `https://` addresses of services and JWKS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTls {
    /// PEM file of the CA that issued the services' certificates.
    pub ca_file: Option<PathBuf>,
}

impl ClientTls {
    /// `GRPC_TLS_CA_FILE`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            ca_file: env.pem_file(GRPC_TLS_CA_FILE, "CERTIFICATE")?,
        })
    }

    fn ca_pem(&self, variable: &str) -> Result<Option<Vec<u8>>, ConfigError> {
        self.ca_file
            .as_ref()
            .map(|path| {
                std::fs::read(path)
                    .map_err(|e| ConfigError::new(variable, format!("cannot read {}: {e}", path.display())))
            })
            .transpose()
    }

    /// An endpoint for the service at `url` (named by `variable` in errors): `http://` in
    /// plain text; `https://` over TLS, the server's certificate issued by the CA of
    /// `GRPC_TLS_CA_FILE` for the URL's host name.
    pub fn endpoint(&self, url: &str, variable: &str) -> Result<Endpoint, ConfigError> {
        self.endpoint_for_name(url, variable, None)
    }

    /// As [`ClientTls::endpoint`], the certificate of an `https://` address verified for
    /// `server_name` rather than the URL's host (a probe dialling 127.0.0.1 for a certificate
    /// issued to the Service's name).
    pub fn endpoint_for_name(
        &self,
        url: &str,
        variable: &str,
        server_name: Option<&str>,
    ) -> Result<Endpoint, ConfigError> {
        let endpoint = Endpoint::from_shared(url.to_owned()).map_err(|e| ConfigError::new(variable, e.to_string()))?;
        if !url.starts_with("https://") {
            return Ok(endpoint);
        }
        let ca = self.ca_pem(GRPC_TLS_CA_FILE)?.ok_or_else(|| {
            ConfigError::new(
                GRPC_TLS_CA_FILE,
                format!("{variable} is https://: set {GRPC_TLS_CA_FILE} to the CA of the services' certificates"),
            )
        })?;
        let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
        if let Some(name) = server_name {
            config = config.domain_name(name);
        }
        endpoint
            .tls_config(config)
            .map_err(|e| ConfigError::new(variable, format!("TLS: {e}")))
    }

    /// An HTTP client (JWKS) that trusts the system's roots and `GRPC_TLS_CA_FILE`.
    pub fn http_client(&self, timeout: Duration) -> Result<reqwest::Client, ConfigError> {
        let mut builder = reqwest::Client::builder().timeout(timeout);
        if let Some(pem) = self.ca_pem(GRPC_TLS_CA_FILE)? {
            let ca = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| ConfigError::new(GRPC_TLS_CA_FILE, format!("not a PEM certificate: {e}")))?;
            builder = builder.add_root_certificate(ca);
        }
        builder
            .build()
            .map_err(|e| ConfigError::new(GRPC_TLS_CA_FILE, format!("cannot build an HTTPS client: {e}")))
    }
}

/// How long a client may take over its TLS handshake before the admin listener drops it.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A TLS listener for `axum::serve`: TCP connections accepted in a task of their own, each
/// handshake in its own task under [`HANDSHAKE_TIMEOUT`], so a client that stalls its
/// handshake holds up nobody else. Failed handshakes are counted in a debug log and dropped.
pub struct TlsListener {
    local_addr: SocketAddr,
    handshaken: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    accepting: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let (ready, handshaken) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let accepting = tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: pause rather than spin.
                        tracing::warn!(error = %e, "admin listener: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let deliver = ready.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = deliver.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "admin listener: TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "admin listener: TLS handshake timed out"),
                    }
                });
                if ready.is_closed() {
                    return;
                }
            }
        });
        Ok(Self {
            local_addr,
            handshaken,
            accepting,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.handshaken.recv().await {
            Some(connection) => connection,
            // The accepting task only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}
