//! Codes that reach a phone: SMS and voice calls through an HTTP provider, either a Twilio-style
//! messages API (`{base}/2010-04-01/Accounts/{sid}/Messages.json` and `Calls.json`, form-encoded,
//! HTTP Basic) or a generic webhook (JSON `{id, to, channel, text, locale, from}` with a bearer
//! token or an HMAC-SHA256 signature).
//!
//! One delivery tries a few times in place, paced by `platform::retry`'s backoff, when the
//! answer may change (a 5xx, a 429 honouring its `Retry-After`, a timeout, no connection); a 4xx
//! is the message's own (a number the provider refuses) and is not sent again. What stays
//! unreachable after those attempts goes back to the notification consumer, which redelivers.
//!
//! With no provider configured (`PHONE_PROVIDER` unset) there is no transport at all: the service
//! answers phone registration and phone sign-in codes as unavailable instead of writing codes
//! anywhere.

use std::fmt;
use std::time::Duration;

use data_encoding::HEXLOWER;
use hmac::{Hmac, Mac};
use platform::config::{ConfigError, Env};
use platform::retry::RetrySettings;
use serde::Serialize;
use sha2::Sha256;
use url::Url;

/// Twilio's API host, the default base of the `twilio` provider.
pub const TWILIO_API: &str = "https://api.twilio.com";
/// The header carrying the webhook's HMAC signature: `t=<unix seconds>,v1=<hex>` over
/// `<t>.<body>`.
pub const SIGNATURE_HEADER: &str = "myaccount-signature";
/// The header naming one delivery (`<notification id>/<channel>`): the same on every attempt, so
/// a webhook can drop a repeat.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// A credential that never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookAuth {
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// [`SIGNATURE_HEADER`], keyed with this secret.
    Hmac(Secret),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneProvider {
    Twilio {
        /// `https://api.twilio.com`, or a compatible API.
        base_url: Url,
        account_sid: String,
        auth_token: Secret,
    },
    Webhook {
        url: Url,
        auth: WebhookAuth,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneSettings {
    pub provider: PhoneProvider,
    /// The sending number or sender id (required by Twilio; passed on by the webhook if set).
    pub from: String,
    /// How long one request may take.
    pub timeout: Duration,
    /// Attempts after the first within one delivery, and their pacing.
    pub retry: RetrySettings,
    /// The longest `Retry-After` waited out in place; a longer one goes back to the consumer.
    pub max_retry_after: Duration,
}

impl PhoneSettings {
    /// `PHONE_PROVIDER` (`twilio`, `webhook`, or unset: no phone codes), `PHONE_PROVIDER_URL`,
    /// `PHONE_PROVIDER_ACCOUNT` (Twilio's account SID), `PHONE_PROVIDER_TOKEN` or
    /// `PHONE_PROVIDER_TOKEN_FILE` (Twilio's auth token, the webhook's bearer token or HMAC key),
    /// `PHONE_PROVIDER_AUTH` (webhook: `bearer`, the default, or `hmac`), `PHONE_FROM`,
    /// `PHONE_PROVIDER_TIMEOUT` (default 10s), `PHONE_PROVIDER_RETRIES` (default 3).
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let Some(kind) = env.raw("PHONE_PROVIDER").map(|k| k.trim().to_ascii_lowercase()) else {
            return Ok(None);
        };
        let url = |default: Option<&str>| -> Result<Url, ConfigError> {
            let raw = match (env.raw("PHONE_PROVIDER_URL"), default) {
                (Some(raw), _) => raw.trim().to_owned(),
                (None, Some(default)) => default.to_owned(),
                (None, None) => return Err(ConfigError::new("PHONE_PROVIDER_URL", "is required but not set")),
            };
            let url =
                Url::parse(&raw).map_err(|e| ConfigError::new("PHONE_PROVIDER_URL", format!("not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(ConfigError::new("PHONE_PROVIDER_URL", "must be an http or https URL"));
            }
            Ok(url)
        };
        let provider = match kind.as_str() {
            "none" => return Ok(None),
            "twilio" => PhoneProvider::Twilio {
                base_url: url(Some(TWILIO_API))?,
                account_sid: env.required("PHONE_PROVIDER_ACCOUNT")?,
                auth_token: token(env)?,
            },
            "webhook" => {
                let auth: String = env.or("PHONE_PROVIDER_AUTH", "bearer".to_owned())?;
                let auth = match auth.trim().to_ascii_lowercase().as_str() {
                    "bearer" => WebhookAuth::Bearer(token(env)?),
                    "hmac" => WebhookAuth::Hmac(token(env)?),
                    other => {
                        return Err(ConfigError::new(
                            "PHONE_PROVIDER_AUTH",
                            format!("expected bearer or hmac, got {other:?}"),
                        ));
                    }
                };
                PhoneProvider::Webhook { url: url(None)?, auth }
            }
            other => {
                return Err(ConfigError::new(
                    "PHONE_PROVIDER",
                    format!("expected twilio or webhook (or unset for no phone codes), got {other:?}"),
                ));
            }
        };
        let from: String = env.or("PHONE_FROM", String::new())?;
        if from.trim().is_empty() && matches!(provider, PhoneProvider::Twilio { .. }) {
            return Err(ConfigError::new(
                "PHONE_FROM",
                "is required with PHONE_PROVIDER=twilio: the number or sender id messages come from",
            ));
        }
        let mut retry = RetrySettings::new(env.or("PHONE_PROVIDER_RETRIES", 3)?);
        retry.first_backoff = Duration::from_millis(500);
        Ok(Some(Self {
            provider,
            from: from.trim().to_owned(),
            timeout: env.duration("PHONE_PROVIDER_TIMEOUT", Duration::from_secs(10))?,
            retry,
            max_retry_after: Duration::from_secs(30),
        }))
    }
}

/// The provider's credential: `PHONE_PROVIDER_TOKEN`, or the content of the file
/// `PHONE_PROVIDER_TOKEN_FILE` names (a mounted Secret), never both.
fn token(env: &Env) -> Result<Secret, ConfigError> {
    match (env.raw("PHONE_PROVIDER_TOKEN"), env.raw("PHONE_PROVIDER_TOKEN_FILE")) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            "PHONE_PROVIDER_TOKEN_FILE",
            "set either PHONE_PROVIDER_TOKEN or PHONE_PROVIDER_TOKEN_FILE, not both",
        )),
        (Some(token), None) => Ok(Secret::new(token.trim())),
        (None, Some(path)) => {
            let content = std::fs::read_to_string(path.trim())
                .map_err(|e| ConfigError::new("PHONE_PROVIDER_TOKEN_FILE", format!("cannot read {path}: {e}")))?;
            let token = content.trim();
            if token.is_empty() {
                return Err(ConfigError::new(
                    "PHONE_PROVIDER_TOKEN_FILE",
                    format!("{path} is empty"),
                ));
            }
            Ok(Secret::new(token))
        }
        (None, None) => Err(ConfigError::new(
            "PHONE_PROVIDER_TOKEN",
            "is required with a phone provider (or PHONE_PROVIDER_TOKEN_FILE)",
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PhoneChannel {
    Sms,
    Voice,
}

impl PhoneChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Voice => "voice",
        }
    }
}

/// One message to one phone.
#[derive(Debug, Clone)]
pub struct PhoneMessage {
    /// The same on every attempt: `<notification id>/<channel>`.
    pub idempotency_key: String,
    /// E.164.
    pub to: String,
    pub channel: PhoneChannel,
    /// What is texted, or said by the call.
    pub text: String,
    /// BCP 47, for the voice.
    pub locale: String,
}

/// How a delivery ended, after its attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneOutcome {
    Delivered {
        /// The provider's id of the message or call, when it gave one.
        provider_id: Option<String>,
        status: u16,
        attempts: u32,
    },
    /// A 4xx: the provider will not send this message, however often it is asked.
    Refused {
        status: u16,
        /// The provider's error code, when it gave one (never its free text, which may quote).
        error_code: Option<String>,
        attempts: u32,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone provider did not take the message after {attempts} attempts: {last}")]
    Unreachable { attempts: u32, last: String },
    #[error("the phone provider asks to wait {0:?}, longer than one delivery waits")]
    WaitTooLong(Duration),
    #[error("cannot build the request: {0}")]
    Request(String),
}

/// How one attempt ended.
enum Attempt {
    Accepted {
        provider_id: Option<String>,
        status: u16,
    },
    Refused {
        status: u16,
        error_code: Option<String>,
    },
    /// A 5xx, a 429, a timeout or no connection: worth another attempt.
    Again {
        reason: String,
        retry_after: Option<Duration>,
    },
}

/// Sends to the configured provider.
#[derive(Clone)]
pub struct PhoneTransport {
    settings: PhoneSettings,
    client: reqwest::Client,
}

impl PhoneTransport {
    pub fn new(settings: PhoneSettings) -> Result<Self, ConfigError> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::new("PHONE_PROVIDER_URL", format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { settings, client })
    }

    /// Delivers `message`, trying again in place while the provider may change its answer.
    pub async fn send(&self, message: &PhoneMessage) -> Result<PhoneOutcome, PhoneError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (reason, retry_after) = match self.attempt(message).await? {
                Attempt::Accepted { provider_id, status } => {
                    return Ok(PhoneOutcome::Delivered {
                        provider_id,
                        status,
                        attempts,
                    });
                }
                Attempt::Refused { status, error_code } => {
                    return Ok(PhoneOutcome::Refused {
                        status,
                        error_code,
                        attempts,
                    });
                }
                Attempt::Again { reason, retry_after } => (reason, retry_after),
            };
            if attempts > self.settings.retry.retries {
                return Err(PhoneError::Unreachable { attempts, last: reason });
            }
            let backoff = self.settings.retry.backoff(attempts);
            let pause = match retry_after {
                Some(wait) if wait > self.settings.max_retry_after => return Err(PhoneError::WaitTooLong(wait)),
                Some(wait) => wait.max(backoff),
                None => backoff,
            };
            tracing::info!(channel = message.channel.as_str(), attempt = attempts, retry_in = ?pause, %reason, "phone provider did not take the message yet");
            tokio::time::sleep(pause).await;
        }
    }

    async fn attempt(&self, message: &PhoneMessage) -> Result<Attempt, PhoneError> {
        let request = match &self.settings.provider {
            PhoneProvider::Twilio {
                base_url,
                account_sid,
                auth_token,
            } => {
                let resource = match message.channel {
                    PhoneChannel::Sms => "Messages.json",
                    PhoneChannel::Voice => "Calls.json",
                };
                let url = twilio_url(base_url, account_sid, resource)?;
                let content = match message.channel {
                    PhoneChannel::Sms => ("Body", message.text.clone()),
                    PhoneChannel::Voice => ("Twiml", twiml_say(&message.text, &message.locale)),
                };
                let form = [
                    ("To", message.to.as_str()),
                    ("From", self.settings.from.as_str()),
                    (content.0, content.1.as_str()),
                ];
                self.client
                    .post(url)
                    .basic_auth(account_sid, Some(auth_token.expose()))
                    .form(&form)
            }
            PhoneProvider::Webhook { url, auth } => {
                let body = serde_json::to_vec(&WebhookMessage {
                    id: &message.idempotency_key,
                    to: &message.to,
                    from: (!self.settings.from.is_empty()).then_some(self.settings.from.as_str()),
                    channel: message.channel,
                    text: &message.text,
                    locale: &message.locale,
                })
                .map_err(|e| PhoneError::Request(e.to_string()))?;
                let request = self
                    .client
                    .post(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(IDEMPOTENCY_HEADER, &message.idempotency_key);
                let request = match auth {
                    WebhookAuth::Bearer(token) => request.bearer_auth(token.expose()),
                    WebhookAuth::Hmac(key) => {
                        let at = chrono::Utc::now().timestamp();
                        request.header(SIGNATURE_HEADER, signature(key, at, &body)?)
                    }
                };
                request.body(body)
            }
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                let reason = if e.is_timeout() {
                    "timed out".to_owned()
                } else if e.is_connect() {
                    "no connection".to_owned()
                } else {
                    // Without the URL: it may carry credentials in a query.
                    e.without_url().to_string()
                };
                return Ok(Attempt::Again {
                    reason,
                    retry_after: None,
                });
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // A body cut short (the provider went away mid-answer) leaves the outcome unknown.
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(e) if status.is_success() => {
                tracing::warn!(status = status.as_u16(), error = %e.without_url(), "phone provider accepted but its answer was cut short");
                Default::default()
            }
            Err(e) => {
                return Ok(Attempt::Again {
                    reason: format!("status {status}, answer cut short: {}", e.without_url()),
                    retry_after,
                });
            }
        };
        let answer: ProviderAnswer = serde_json::from_slice(&body).unwrap_or_default();
        Ok(if status.is_success() {
            Attempt::Accepted {
                provider_id: answer.sid.or(answer.id),
                status: status.as_u16(),
            }
        } else if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Attempt::Again {
                reason: format!("status {status}"),
                retry_after,
            }
        } else {
            Attempt::Refused {
                status: status.as_u16(),
                error_code: answer.code.map(|c| c.to_string()).or(answer.error).map(|c| {
                    // A provider's error code is short; anything longer is cut, not trusted.
                    c.chars().take(64).collect()
                }),
            }
        })
    }
}

/// What a provider's answer may say of itself: Twilio's `sid` and error `code`, a webhook's `id`
/// and `error`.
#[derive(Debug, Default, serde::Deserialize)]
struct ProviderAnswer {
    sid: Option<String>,
    id: Option<String>,
    code: Option<serde_json::Value>,
    error: Option<String>,
}

#[derive(Serialize)]
struct WebhookMessage<'a> {
    id: &'a str,
    to: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a str>,
    channel: PhoneChannel,
    text: &'a str,
    locale: &'a str,
}

fn twilio_url(base: &Url, account_sid: &str, resource: &str) -> Result<Url, PhoneError> {
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|()| PhoneError::Request(format!("{base} cannot be a base URL")))?
        .pop_if_empty()
        .extend(["2010-04-01", "Accounts", account_sid, resource]);
    Ok(url)
}

/// `t=<at>,v1=<hex HMAC-SHA256 of "<at>.<body>">`: the receiver recomputes it with the shared
/// key and refuses an old `t`, so a captured request cannot be replayed later.
pub fn signature(key: &Secret, at: i64, body: &[u8]) -> Result<String, PhoneError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes())
        .map_err(|e| PhoneError::Request(format!("HMAC key: {e}")))?;
    mac.update(at.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("t={at},v1={}", HEXLOWER.encode(&mac.finalize().into_bytes())))
}

/// TwiML that says `text` once, then again after a pause.
pub fn twiml_say(text: &str, locale: &str) -> String {
    let text = xml_escape(text);
    let language = xml_escape(locale);
    format!(
        "<Response><Say language=\"{language}\">{text}</Say><Pause length=\"1\"/><Say language=\"{language}\">{text}</Say></Response>"
    )
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A code as a voice reads it: one digit at a time (`4, 9, 3`), not as a number.
pub fn spoken_digits(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace())
        .map(String::from)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_provider_means_no_phone_codes() {
        assert_eq!(PhoneSettings::from_env(&Env::default()), Ok(None));
        assert_eq!(
            PhoneSettings::from_env(&Env::from_pairs([("PHONE_PROVIDER", "none")])),
            Ok(None)
        );
    }

    #[test]
    fn twilio_needs_an_account_a_token_and_a_sender() {
        let ok = PhoneSettings::from_env(&Env::from_pairs([
            ("PHONE_PROVIDER", "twilio"),
            ("PHONE_PROVIDER_ACCOUNT", "AC123"),
            ("PHONE_PROVIDER_TOKEN", "tok"),
            ("PHONE_FROM", "+14255550100"),
        ]))
        .unwrap()
        .unwrap();
        assert!(
            matches!(&ok.provider, PhoneProvider::Twilio { base_url, .. } if base_url.as_str() == "https://api.twilio.com/")
        );
        assert!(!format!("{ok:?}").contains("tok\""), "the token never shows: {ok:?}");
        let no_from = PhoneSettings::from_env(&Env::from_pairs([
            ("PHONE_PROVIDER", "twilio"),
            ("PHONE_PROVIDER_ACCOUNT", "AC123"),
            ("PHONE_PROVIDER_TOKEN", "tok"),
        ]))
        .unwrap_err();
        assert_eq!(no_from.variable, "PHONE_FROM");
        let no_token = PhoneSettings::from_env(&Env::from_pairs([
            ("PHONE_PROVIDER", "twilio"),
            ("PHONE_PROVIDER_ACCOUNT", "AC123"),
        ]))
        .unwrap_err();
        assert_eq!(no_token.variable, "PHONE_PROVIDER_TOKEN");
        let bad = PhoneSettings::from_env(&Env::from_pairs([("PHONE_PROVIDER", "pigeon")])).unwrap_err();
        assert_eq!(bad.variable, "PHONE_PROVIDER");
    }

    #[test]
    fn the_webhook_token_can_come_from_a_mounted_secret() {
        let dir = std::env::temp_dir().join(format!("phone-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "s3cret\n").unwrap();
        let settings = PhoneSettings::from_env(&Env::from_pairs([
            ("PHONE_PROVIDER", "webhook"),
            ("PHONE_PROVIDER_URL", "http://127.0.0.1:9/send"),
            ("PHONE_PROVIDER_AUTH", "hmac"),
            ("PHONE_PROVIDER_TOKEN_FILE", file.to_str().unwrap()),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            settings.provider,
            PhoneProvider::Webhook {
                url: Url::parse("http://127.0.0.1:9/send").unwrap(),
                auth: WebhookAuth::Hmac(Secret::new("s3cret")),
            }
        );
        let missing = PhoneSettings::from_env(&Env::from_pairs([
            ("PHONE_PROVIDER", "webhook"),
            ("PHONE_PROVIDER_URL", "http://127.0.0.1:9/send"),
            ("PHONE_PROVIDER_TOKEN_FILE", "/nonexistent/token"),
        ]))
        .unwrap_err();
        assert_eq!(missing.variable, "PHONE_PROVIDER_TOKEN_FILE");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn twilio_paths_keep_a_base_path() {
        let url = twilio_url(&Url::parse("http://127.0.0.1:9/twilio/").unwrap(), "AC1", "Calls.json").unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/twilio/2010-04-01/Accounts/AC1/Calls.json"
        );
    }

    #[test]
    fn voice_reads_digits_and_escapes_text() {
        assert_eq!(spoken_digits("493817"), "4, 9, 3, 8, 1, 7");
        let twiml = twiml_say("a < b & \"c\"", "en-US");
        assert_eq!(
            twiml,
            "<Response><Say language=\"en-US\">a &lt; b &amp; &quot;c&quot;</Say><Pause length=\"1\"/><Say language=\"en-US\">a &lt; b &amp; &quot;c&quot;</Say></Response>"
        );
    }

    #[test]
    fn the_signature_binds_time_and_body() {
        let key = Secret::new("k");
        let one = signature(&key, 1_700_000_000, b"{}").unwrap();
        assert!(one.starts_with("t=1700000000,v1="));
        assert_ne!(one, signature(&key, 1_700_000_001, b"{}").unwrap());
        assert_ne!(one, signature(&key, 1_700_000_000, b"{ }").unwrap());
    }
}
