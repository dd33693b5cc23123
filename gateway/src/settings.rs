//! The gateway's settings, read once from the environment.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use axum::http::HeaderValue;
use platform::config::{ConfigError, Env};
use platform::crypto::Keyring;
use platform::tls::ClientTls;
use platform::workload::{GATEWAY, WorkloadKey};

use crate::location;
use crate::ratelimit::RateLimitSettings;

/// The variable holding the keyring that seals browser session cookies (the format of
/// `DATA_ENCRYPTION_KEYS`: `id:<base64 of 32 bytes>[,id:...]`, the first key seals).
pub const COOKIE_KEYS_VARIABLE: &str = "GATEWAY_COOKIE_KEYS";

#[derive(Debug, Clone)]
pub struct Settings {
    pub host: IpAddr,
    pub port: u16,
    pub identity_url: String,
    pub audit_url: String,
    pub devices_url: String,
    pub organizations_url: String,
    pub security_info_url: String,
    pub signals_url: String,
    /// The Shared Signals transmitter's issuer (`SIGNALS_ISSUER`, the same value the signals
    /// service signs with): the gateway's public base URL, which discovery's URLs start with.
    pub signals_issuer: String,
    pub jwks_url: String,
    /// Deadline of each overview section, carried to the service as the gRPC deadline.
    pub section_deadline: Duration,
    pub request_timeout: Duration,
    /// After SIGTERM, how long the gateway keeps serving (readiness failing, every answer
    /// closing its connection) before it stops taking requests (`GATEWAY_DRAIN_DELAY`).
    pub drain_delay: Duration,
    pub body_limit: usize,
    /// Take the client IP from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Visitor location headers of the proxy in front, if one sets them.
    pub location_headers: location::LocationHeaders,
    /// Seals browser session cookies.
    pub cookie_keys: Keyring,
    /// Send `Strict-Transport-Security` (only when clients reach the gateway over TLS).
    pub hsts: bool,
    /// Origins allowed to call the API from a browser; empty: no CORS (same origin only).
    pub cors_allowed_origins: Vec<HeaderValue>,
    pub rate_limits: RateLimitSettings,
    /// Calls in flight to one service before more are refused (503).
    pub service_concurrency_limit: usize,
    /// Extra attempts of a call that is safe to send again (a read, an idempotent or keyed
    /// write) after its replica went away; reads also after `UNAVAILABLE`.
    pub call_retries: u32,
    /// What `https://` service addresses and JWKS_URL are verified with (`GRPC_TLS_CA_FILE`).
    pub client_tls: ClientTls,
    /// The gateway's workload key: its calls to every service carry a token signed with it,
    /// without which the services refuse them.
    pub workload_key: Option<WorkloadKey>,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let url = |name: &str, default: &str| -> Result<String, ConfigError> {
            let value: String = env.or(name, default.to_owned())?;
            if value.starts_with("http://") || value.starts_with("https://") {
                Ok(value)
            } else {
                Err(ConfigError::new(name, format!("must be an http(s) URL, got {value:?}")))
            }
        };
        Ok(Self {
            host: env.or("GATEWAY_HOST", IpAddr::V4(Ipv4Addr::UNSPECIFIED))?,
            port: env.or("GATEWAY_PORT", 8080)?,
            identity_url: url("IDENTITY_URL", "http://127.0.0.1:50051")?,
            audit_url: url("AUDIT_URL", "http://127.0.0.1:50055")?,
            devices_url: url("DEVICES_URL", "http://127.0.0.1:50053")?,
            organizations_url: url("ORGANIZATIONS_URL", "http://127.0.0.1:50054")?,
            security_info_url: url("SECURITYINFO_URL", "http://127.0.0.1:50052")?,
            signals_url: url("SIGNALS_URL", "http://127.0.0.1:50056")?,
            signals_issuer: url("SIGNALS_ISSUER", "http://localhost:8080")?
                .trim_end_matches('/')
                .to_owned(),
            jwks_url: url("JWKS_URL", "http://127.0.0.1:51051/.well-known/jwks.json")?,
            section_deadline: env.duration("GATEWAY_SECTION_DEADLINE", Duration::from_millis(300))?,
            request_timeout: env.duration("GATEWAY_REQUEST_TIMEOUT", Duration::from_secs(10))?,
            drain_delay: drain_delay(env)?,
            body_limit: env.or("GATEWAY_BODY_LIMIT_BYTES", 64 * 1024)?,
            trust_forwarded_for: env.flag("GATEWAY_TRUST_FORWARDED_FOR", false)?,
            location_headers: env.or("GATEWAY_LOCATION_HEADERS", location::LocationHeaders::Off)?,
            cookie_keys: cookie_keys(env)?,
            hsts: env.flag("GATEWAY_HSTS", false)?,
            cors_allowed_origins: cors_origins(env)?,
            rate_limits: RateLimitSettings {
                per_ip: env.or("GATEWAY_AUTH_RATE_LIMIT_PER_IP", 60)?,
                per_account: env.or("GATEWAY_AUTH_RATE_LIMIT_PER_ACCOUNT", 10)?,
                period: env.duration("GATEWAY_AUTH_RATE_LIMIT_PERIOD", Duration::from_secs(60))?,
            },
            service_concurrency_limit: env.or("GATEWAY_SERVICE_CONCURRENCY_LIMIT", 256)?,
            call_retries: env.or("GATEWAY_CALL_RETRIES", 3)?,
            client_tls: ClientTls::from_env(env)?,
            workload_key: WorkloadKey::from_env(env, "GATEWAY", GATEWAY)?,
        })
    }
}

/// `GATEWAY_DRAIN_DELAY`: 5 s by default (load balancers and kube-proxy take a few seconds to
/// stop sending to a terminating pod), at most 60 s.
fn drain_delay(env: &Env) -> Result<Duration, ConfigError> {
    let delay = env.duration("GATEWAY_DRAIN_DELAY", Duration::from_secs(5))?;
    if delay > Duration::from_secs(60) {
        return Err(ConfigError::new("GATEWAY_DRAIN_DELAY", "must be at most 60s"));
    }
    Ok(delay)
}

fn cookie_keys(env: &Env) -> Result<Keyring, ConfigError> {
    match env.raw(COOKIE_KEYS_VARIABLE) {
        Some(value) => Keyring::parse(value).map_err(|reason| ConfigError::new(COOKIE_KEYS_VARIABLE, reason)),
        None => {
            tracing::warn!(
                "{COOKIE_KEYS_VARIABLE} is not set: browser sessions are sealed with a random key, so they end when the gateway restarts and work with one replica only"
            );
            Ok(Keyring::generate("ephemeral"))
        }
    }
}

/// `https://app.example.com,http://localhost:5173`: scheme, host and port only.
fn cors_origins(env: &Env) -> Result<Vec<HeaderValue>, ConfigError> {
    const NAME: &str = "GATEWAY_CORS_ALLOWED_ORIGINS";
    let Some(raw) = env.raw(NAME) else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let parsed = url::Url::parse(origin)
                .map_err(|e| ConfigError::new(NAME, format!("{origin:?} is not an origin: {e}")))?;
            let exact = parsed.origin().ascii_serialization();
            if !matches!(parsed.scheme(), "http" | "https") || exact != origin {
                return Err(ConfigError::new(
                    NAME,
                    format!("{origin:?} must be scheme://host[:port] with nothing after it, like {exact:?}"),
                ));
            }
            HeaderValue::from_str(origin).map_err(|e| ConfigError::new(NAME, e.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_keys_and_origins_are_validated() {
        let key = "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        let settings = Settings::from_env(&Env::from_pairs([
            (COOKIE_KEYS_VARIABLE, key),
            (
                "GATEWAY_CORS_ALLOWED_ORIGINS",
                "https://app.example.com, http://localhost:5173",
            ),
            ("GATEWAY_HSTS", "true"),
        ]))
        .expect("valid");
        assert_eq!(settings.cookie_keys.current_key_id(), "k1");
        assert_eq!(settings.cors_allowed_origins.len(), 2);
        assert!(settings.hsts);

        let bad_key = Settings::from_env(&Env::from_pairs([(COOKIE_KEYS_VARIABLE, "k1:c2hvcnQ=")])).unwrap_err();
        assert_eq!(bad_key.variable, COOKIE_KEYS_VARIABLE);
        for origin in ["https://app.example.com/", "app.example.com", "ftp://x.example", "*"] {
            let err = Settings::from_env(&Env::from_pairs([("GATEWAY_CORS_ALLOWED_ORIGINS", origin)])).unwrap_err();
            assert_eq!(err.variable, "GATEWAY_CORS_ALLOWED_ORIGINS", "{origin}");
        }
        let defaults = Settings::from_env(&Env::default()).expect("defaults");
        assert!(defaults.cors_allowed_origins.is_empty() && !defaults.hsts);
        assert_eq!(defaults.section_deadline, Duration::from_millis(300));
        assert_eq!(defaults.rate_limits.per_ip, 60);
    }
}
