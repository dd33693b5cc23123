//! `myaccount healthcheck`: a probe for containers without a shell (the distroless image), used
//! by the Dockerfile's `HEALTHCHECK` and the compose file. Exit code 0 when healthy, 1 otherwise,
//! with one line saying why.
//!
//! - `myaccount healthcheck http://127.0.0.1:8080/readyz`: HTTP GET, healthy on any 2xx.
//! - `myaccount healthcheck --grpc 127.0.0.1:50051 [--service NAME]`: `grpc.health.v1.Health/Check`,
//!   healthy on SERVING (the whole server when no service is named). `--grpc https://HOST:PORT`
//!   speaks TLS as the services' clients do, trusting the CA of `GRPC_TLS_CA_FILE`;
//!   `--tls-server-name` checks the certificate for another name than HOST.
//! - `myaccount healthcheck` with no target: checks the MyAccount server that is this container's
//!   process 1 (read from `/proc/1/cmdline`), on the port it reads from the same variables: the
//!   gateway's `GET /readyz`, or a service's gRPC health, over TLS when the service serves it
//!   (`<PREFIX>_GRPC_TLS_CERT_FILE`; its certificate verified with `GRPC_TLS_CA_FILE` for the
//!   first DNS name it is issued for). Lets one image carry one `HEALTHCHECK` whichever binary a
//!   container runs. A container whose process 1 is not a server (`myaccount demo`, `myaccount
//!   migrate`) has nothing to check and counts as healthy.

use std::time::Duration;

use platform::config::Env;
use platform::tls::{ClientTls, ServerTls};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// An http:// URL to GET; healthy on a 2xx answer. Without it (and without --grpc), the server
    /// running as this container's process 1 is checked.
    #[arg(conflicts_with = "grpc")]
    pub url: Option<String>,
    /// Ask grpc.health.v1 at host:port instead (https://host:port over TLS, trusting
    /// GRPC_TLS_CA_FILE); healthy on SERVING.
    #[arg(long, value_name = "HOST:PORT")]
    pub grpc: Option<String>,
    /// With --grpc https://: the name the server's certificate must be issued for, when it is
    /// not the host dialled (127.0.0.1 for a certificate of the Service's name).
    #[arg(long, value_name = "NAME", requires = "grpc")]
    pub tls_server_name: Option<String>,
    /// With --grpc: the service name to ask about (empty: the whole server).
    #[arg(long, default_value = "", requires = "grpc")]
    pub service: String,
    /// Give up after this long (e.g. 500ms, 3s); counts as unhealthy.
    #[arg(long, default_value = "3s", value_parser = parse_timeout)]
    pub timeout: Duration,
}

fn parse_timeout(value: &str) -> Result<Duration, String> {
    match platform::config::parse_duration(value) {
        Some(d) if !d.is_zero() => Ok(d),
        _ => Err(format!("expected a duration like 500ms or 3s, got {value:?}")),
    }
}

/// What to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Http(String),
    Grpc {
        /// `host:port` in plain text, or `https://host:port` over TLS.
        address: String,
        service: String,
        /// With TLS: the name the certificate is verified for, when not the address's host.
        server_name: Option<String>,
    },
    /// Process 1 is not a MyAccount server: nothing to check.
    Nothing(String),
}

/// Runs the check and returns the process exit code (0 healthy, 1 not).
pub async fn run(args: HealthcheckArgs) -> i32 {
    let env = Env::from_process();
    let target = match (args.url, args.grpc) {
        (Some(url), _) => Ok(Target::Http(url)),
        (None, Some(address)) => Ok(Target::Grpc {
            address,
            service: args.service,
            server_name: args.tls_server_name,
        }),
        (None, None) => match std::fs::read("/proc/1/cmdline") {
            Ok(cmdline) => target_of_process(&cmdline, &env),
            Err(e) => Err(format!("no target given and /proc/1/cmdline is unreadable: {e}")),
        },
    };
    // The CA the services' own clients trust (GRPC_TLS_CA_FILE).
    let checked = match (target, ClientTls::from_env(&env)) {
        (Ok(target), Ok(tls)) => check(&target, &tls, args.timeout).await,
        (Err(reason), _) => Err(reason),
        (_, Err(e)) => Err(e.to_string()),
    };
    match checked {
        Ok(detail) => {
            println!("healthy: {detail}");
            0
        }
        Err(reason) => {
            eprintln!("unhealthy: {reason}");
            1
        }
    }
}

/// Probes `target` within `timeout`, an `https://` gRPC address trusting `tls`: `Ok` with what
/// answered, or `Err` with why not.
pub async fn check(target: &Target, tls: &ClientTls, timeout: Duration) -> Result<String, String> {
    let probe = async {
        match target {
            Target::Http(url) => check_http(url).await,
            Target::Grpc {
                address,
                service,
                server_name,
            } => check_grpc(address, service, tls, server_name.as_deref()).await,
            Target::Nothing(why) => Ok(why.clone()),
        }
    };
    match tokio::time::timeout(timeout, probe).await {
        Ok(result) => result,
        Err(_) => Err(format!("{} did not answer within {timeout:?}", describe(target))),
    }
}

fn describe(target: &Target) -> String {
    match target {
        Target::Http(url) => format!("GET {url}"),
        Target::Grpc { address, service, .. } if service.is_empty() => format!("gRPC health of {address}"),
        Target::Grpc { address, service, .. } => format!("gRPC health of {service:?} at {address}"),
        Target::Nothing(why) => why.clone(),
    }
}

async fn check_http(url: &str) -> Result<String, String> {
    if !url.starts_with("http://") {
        return Err(format!("{url:?} is not an http:// URL"));
    }
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?;
    let status = response.status();
    if status.is_success() {
        Ok(format!("GET {url}: {status}"))
    } else {
        Err(format!("GET {url}: {status}"))
    }
}

async fn check_grpc(
    address: &str,
    service: &str,
    tls: &ClientTls,
    server_name: Option<&str>,
) -> Result<String, String> {
    let uri = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    let what = describe(&Target::Grpc {
        address: address.to_owned(),
        service: service.to_owned(),
        server_name: None,
    });
    let channel = tls
        .endpoint_for_name(&uri, "--grpc", server_name)
        .map_err(|e| format!("{what}: {e}"))?
        .connect()
        .await
        .map_err(|e| format!("{what}: {}", error_chain(&e)))?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .map_err(|status| format!("{what}: {} {}", status.code(), status.message()))?;
    let status = ServingStatus::try_from(response.into_inner().status).unwrap_or(ServingStatus::Unknown);
    if status == ServingStatus::Serving {
        Ok(format!("{what}: SERVING"))
    } else {
        Err(format!("{what}: {}", status.as_str_name()))
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Layers often repeat their source's message; say each thing once.
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The target for a process whose command line is `cmdline` (NUL-separated, as in
/// `/proc/<pid>/cmdline`), with ports and TLS from `env` as the server itself reads them; `Err`
/// when its TLS settings cannot be read.
pub fn target_of_process(cmdline: &[u8], env: &Env) -> Result<Target, String> {
    let program = cmdline
        .split(|b| *b == 0)
        .next()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_default();
    let binary = program.rsplit('/').next().unwrap_or_default();
    // (binary, variable prefix, default gRPC port), as each service's Settings::from_env.
    const SERVICES: [(&str, &str, u16); 5] = [
        ("myaccount-identity", "IDENTITY", 50051),
        ("myaccount-security-info", "SECURITYINFO", 50052),
        ("myaccount-devices", "DEVICES", 50053),
        ("myaccount-organizations", "ORGANIZATIONS", 50054),
        ("myaccount-audit", "AUDIT", 50055),
    ];
    if binary == "myaccount-gateway" {
        let port = env.raw("GATEWAY_PORT").unwrap_or("8080").trim();
        return Ok(Target::Http(format!("http://127.0.0.1:{port}/readyz")));
    }
    match SERVICES.iter().find(|(name, _, _)| *name == binary) {
        Some((_, prefix, default_port)) => {
            let port = env
                .raw(&format!("{prefix}_GRPC_PORT"))
                .map(|p| p.trim().to_owned())
                .unwrap_or_else(|| default_port.to_string());
            // A service given a certificate serves only TLS: the probe speaks it too.
            match ServerTls::from_env(env, prefix).map_err(|e| e.to_string())? {
                Some(tls) => Ok(Target::Grpc {
                    address: format!("https://127.0.0.1:{port}"),
                    service: String::new(),
                    server_name: Some(tls.dns_name()?),
                }),
                None => Ok(Target::Grpc {
                    address: format!("127.0.0.1:{port}"),
                    service: String::new(),
                    server_name: None,
                }),
            }
        }
        None => Ok(Target::Nothing(format!(
            "process 1 ({program:?}) is not a MyAccount server: nothing to check"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use platform::testing::TestCa;

    use super::*;

    #[test]
    fn process_one_picks_the_server_and_its_port() {
        let env = Env::from_pairs([("AUDIT_GRPC_PORT", "6000")]);
        assert_eq!(
            target_of_process(b"/usr/local/bin/myaccount-audit\0", &env),
            Ok(Target::Grpc {
                address: "127.0.0.1:6000".into(),
                service: String::new(),
                server_name: None,
            })
        );
        assert_eq!(
            target_of_process(b"/usr/local/bin/myaccount-security-info", &Env::default()),
            Ok(Target::Grpc {
                address: "127.0.0.1:50052".into(),
                service: String::new(),
                server_name: None,
            })
        );
        assert_eq!(
            target_of_process(
                b"/usr/local/bin/myaccount-gateway\0",
                &Env::from_pairs([("GATEWAY_PORT", "9090")])
            ),
            Ok(Target::Http("http://127.0.0.1:9090/readyz".into()))
        );
        assert!(matches!(
            target_of_process(b"/usr/local/bin/myaccount\0demo\0", &Env::default()),
            Ok(Target::Nothing(_))
        ));
    }

    #[test]
    fn timeouts_must_be_positive_durations() {
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("soon").is_err());
    }

    /// A gRPC server answering health over TLS with the certificate in `files`, as a service
    /// given `<PREFIX>_GRPC_TLS_CERT_FILE` serves; its port.
    async fn tls_health_server(tls: &ServerTls) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let (_, health) = tonic_health::server::health_reporter();
        let server = tonic::transport::Server::builder()
            .tls_config(tls.server_config().expect("the certificate loads"))
            .expect("a TLS server")
            .add_service(health);
        tokio::spawn(server.serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)));
        port
    }

    #[tokio::test]
    async fn a_service_serving_tls_is_probed_over_tls_with_the_services_ca() {
        let dir = std::env::temp_dir().join(format!("myaccount-healthcheck-{}", uuid::Uuid::new_v4().simple()));
        let files = TestCa::new("healthcheck test CA").write_server_files(&dir, "audit", &["myaccount-audit"]);
        let server_tls = ServerTls {
            cert_file: files.cert.clone(),
            key_file: files.key.clone(),
        };
        let port = tls_health_server(&server_tls).await;
        let timeout = Duration::from_secs(5);
        let trusting = ClientTls {
            ca_file: Some(files.ca.clone()),
        };

        // Process 1 is the audit service with its certificate: the probe dials TLS on 127.0.0.1
        // and checks the certificate for the name it is issued for.
        let env = Env::from_pairs([
            ("AUDIT_GRPC_PORT", port.to_string()),
            ("AUDIT_GRPC_TLS_CERT_FILE", files.cert.display().to_string()),
            ("AUDIT_GRPC_TLS_KEY_FILE", files.key.display().to_string()),
        ]);
        let target = target_of_process(b"/usr/local/bin/myaccount-audit\0", &env).expect("a target");
        assert_eq!(
            target,
            Target::Grpc {
                address: format!("https://127.0.0.1:{port}"),
                service: String::new(),
                server_name: Some("myaccount-audit".into()),
            }
        );
        let healthy = check(&target, &trusting, timeout).await.expect("healthy over TLS");
        assert!(healthy.ends_with("SERVING"), "{healthy}");

        // Plain text to a TLS port, another CA, no CA, or the wrong name: unhealthy, saying why.
        let plain = Target::Grpc {
            address: format!("127.0.0.1:{port}"),
            service: String::new(),
            server_name: None,
        };
        assert!(check(&plain, &trusting, timeout).await.is_err());
        let other_ca = ClientTls {
            ca_file: Some(TestCa::new("another CA").write_cert(&dir, "other-ca.crt")),
        };
        assert!(check(&target, &other_ca, timeout).await.is_err());
        let no_ca = check(&target, &ClientTls::default(), timeout).await.expect_err("no CA");
        assert!(no_ca.contains("GRPC_TLS_CA_FILE"), "{no_ca}");
        let wrong_name = Target::Grpc {
            address: format!("https://127.0.0.1:{port}"),
            service: String::new(),
            server_name: Some("myaccount-identity".into()),
        };
        assert!(check(&wrong_name, &trusting, timeout).await.is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
