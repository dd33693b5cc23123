//! `myaccount healthcheck`: a probe for containers without a shell (the distroless image), used
//! by the Dockerfile's `HEALTHCHECK` and the compose file. Exit code 0 when healthy, 1 otherwise,
//! with one line saying why.
//!
//! - `myaccount healthcheck http://127.0.0.1:8080/readyz`: HTTP GET, healthy on any 2xx.
//! - `myaccount healthcheck --grpc 127.0.0.1:50051 [--service NAME]`: `grpc.health.v1.Health/Check`,
//!   healthy on SERVING (the whole server when no service is named).
//! - `myaccount healthcheck` with no target: checks the MyAccount server that is this container's
//!   process 1 (read from `/proc/1/cmdline`), on the port it reads from the same variables: the
//!   gateway's `GET /readyz`, or a service's gRPC health. Lets one image carry one `HEALTHCHECK`
//!   whichever binary a container runs. A container whose process 1 is not a server (`myaccount
//!   demo`, `myaccount migrate`) has nothing to check and counts as healthy.

use std::time::Duration;

use platform::config::Env;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// An http:// URL to GET; healthy on a 2xx answer. Without it (and without --grpc), the server
    /// running as this container's process 1 is checked.
    #[arg(conflicts_with = "grpc")]
    pub url: Option<String>,
    /// Ask grpc.health.v1 at host:port instead; healthy on SERVING.
    #[arg(long, value_name = "HOST:PORT")]
    pub grpc: Option<String>,
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
        address: String,
        service: String,
    },
    /// Process 1 is not a MyAccount server: nothing to check.
    Nothing(String),
}

/// Runs the check and returns the process exit code (0 healthy, 1 not).
pub async fn run(args: HealthcheckArgs) -> i32 {
    let target = match (args.url, args.grpc) {
        (Some(url), _) => Target::Http(url),
        (None, Some(address)) => Target::Grpc {
            address,
            service: args.service,
        },
        (None, None) => match std::fs::read("/proc/1/cmdline") {
            Ok(cmdline) => target_of_process(&cmdline, &Env::from_process()),
            Err(e) => {
                eprintln!("unhealthy: no target given and /proc/1/cmdline is unreadable: {e}");
                return 1;
            }
        },
    };
    match check(&target, args.timeout).await {
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

/// Probes `target` within `timeout`: `Ok` with what answered, or `Err` with why not.
pub async fn check(target: &Target, timeout: Duration) -> Result<String, String> {
    let probe = async {
        match target {
            Target::Http(url) => check_http(url).await,
            Target::Grpc { address, service } => check_grpc(address, service).await,
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
        Target::Grpc { address, service } if service.is_empty() => format!("gRPC health of {address}"),
        Target::Grpc { address, service } => format!("gRPC health of {service:?} at {address}"),
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

async fn check_grpc(address: &str, service: &str) -> Result<String, String> {
    let uri = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    let what = describe(&Target::Grpc {
        address: address.to_owned(),
        service: service.to_owned(),
    });
    let channel = tonic::transport::Endpoint::from_shared(uri)
        .map_err(|e| format!("{address:?} is not host:port: {e}"))?
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
/// `/proc/<pid>/cmdline`), with ports from `env` as the server itself reads them.
pub fn target_of_process(cmdline: &[u8], env: &Env) -> Target {
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
        return Target::Http(format!("http://127.0.0.1:{port}/readyz"));
    }
    match SERVICES.iter().find(|(name, _, _)| *name == binary) {
        Some((_, prefix, default_port)) => {
            let port = env
                .raw(&format!("{prefix}_GRPC_PORT"))
                .map(|p| p.trim().to_owned())
                .unwrap_or_else(|| default_port.to_string());
            Target::Grpc {
                address: format!("127.0.0.1:{port}"),
                service: String::new(),
            }
        }
        None => Target::Nothing(format!(
            "process 1 ({program:?}) is not a MyAccount server: nothing to check"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_one_picks_the_server_and_its_port() {
        let env = Env::from_pairs([("AUDIT_GRPC_PORT", "6000")]);
        assert_eq!(
            target_of_process(b"/usr/local/bin/myaccount-audit\0", &env),
            Target::Grpc {
                address: "127.0.0.1:6000".into(),
                service: String::new()
            }
        );
        assert_eq!(
            target_of_process(b"/usr/local/bin/myaccount-security-info", &Env::default()),
            Target::Grpc {
                address: "127.0.0.1:50052".into(),
                service: String::new()
            }
        );
        assert_eq!(
            target_of_process(
                b"/usr/local/bin/myaccount-gateway\0",
                &Env::from_pairs([("GATEWAY_PORT", "9090")])
            ),
            Target::Http("http://127.0.0.1:9090/readyz".into())
        );
        assert!(matches!(
            target_of_process(b"/usr/local/bin/myaccount\0demo\0", &Env::default()),
            Target::Nothing(_)
        ));
    }

    #[test]
    fn timeouts_must_be_positive_durations() {
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("soon").is_err());
    }
}
