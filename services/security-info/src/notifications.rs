//! The notification sender: consumes `myaccount.notifications.v1.requested` and delivers each
//! message, either to the log (development; secret parameters such as codes are redacted) or
//! by email over SMTP. It runs inside the security-info process as its own consumer (durable
//! name `notifications`), so it can move to a process of its own without changing a publisher.
//!
//! Secret parameters (one-time codes) travel sealed with the keyring (`DATA_ENCRYPTION_KEYS`,
//! AES-256-GCM, bound to the notification id and the parameter's name): only a process holding
//! the keyring, the sender, reads them. The outbox row and the stream hold ciphertext.
//!
//! Every message is written in the person's preferred language, with its times in their time
//! zone and regional format ([`crate::notification_text`]), as the `preferred_languages`
//! projection of identity's events knows them; English, UTC and ISO dates otherwise.
//!
//! Text and voice messages go to the phone provider ([`crate::phone`]) when one is configured.
//! Its answer is recorded per notification and channel (`phone_deliveries`) as soon as it comes,
//! so a redelivered notification is not texted twice; a provider still unreachable after a
//! delivery's attempts fails the message transiently and the consumer redelivers it. Without a
//! provider the service offers no phone codes at all; a phone notification still in the stream
//! from before is logged redacted, never sent.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use data_encoding::BASE64;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use myaccount_proto::events::v1::{NotificationChannel, NotificationRequested};
use platform::config::{ConfigError, Env};
use platform::consumer::{Delivery, Handler, HandlerError};
use platform::crypto::{CryptoError, Keyring};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::notification_text::{self, Reader, render};
use crate::phone::{PhoneChannel, PhoneMessage, PhoneOutcome, PhoneTransport};
use crate::store::{self, PhoneDeliveryRecord};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderSettings {
    Log,
    Smtp { host: String, port: u16, from: String },
}

impl SenderSettings {
    /// `NOTIFICATIONS_SENDER` (`log`, the default, or `smtp`), `SMTP_HOST`, `SMTP_PORT`, `SMTP_FROM`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let kind: String = env.or("NOTIFICATIONS_SENDER", "log".to_owned())?;
        match kind.trim().to_ascii_lowercase().as_str() {
            "log" => Ok(Self::Log),
            "smtp" => {
                let from: String = env.or("SMTP_FROM", "MyAccount <no-reply@myaccount.invalid>".to_owned())?;
                if from.parse::<Mailbox>().is_err() {
                    return Err(ConfigError::new(
                        "SMTP_FROM",
                        "must be an address such as MyAccount <no-reply@contoso.example>",
                    ));
                }
                Ok(Self::Smtp {
                    host: env.or("SMTP_HOST", "127.0.0.1".to_owned())?,
                    port: env.or("SMTP_PORT", 25)?,
                    from,
                })
            }
            other => Err(ConfigError::new(
                "NOTIFICATIONS_SENDER",
                format!("expected log or smtp, got {other:?}"),
            )),
        }
    }
}

enum Transport {
    Log,
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
}

pub struct NotificationSender {
    transport: Transport,
    /// Texts and calls; `None` when no phone provider is configured.
    phone: Option<PhoneTransport>,
    /// Opens the sealed secret parameters.
    keyring: Keyring,
    /// Where phone deliveries are recorded, outside the consumer's transaction.
    pool: PgPool,
}

/// What binds a sealed parameter to its notification: a value copied into another
/// notification, or under another name, does not open.
fn seal_context(notification_id: &str, name: &str) -> Vec<u8> {
    format!("myaccount.notifications.v1.requested/{notification_id}/{name}").into_bytes()
}

/// `parameters` with the value of every name in `secret` sealed for the sender (base64).
pub fn seal_secret_parameters(
    keyring: &Keyring,
    notification_id: &str,
    parameters: &[(String, String)],
    secret: &[String],
) -> Result<HashMap<String, String>, CryptoError> {
    parameters
        .iter()
        .map(|(name, value)| {
            if !secret.contains(name) {
                return Ok((name.clone(), value.clone()));
            }
            let sealed = keyring.encrypt(value.as_bytes(), &seal_context(notification_id, name))?;
            Ok((name.clone(), BASE64.encode(&sealed)))
        })
        .collect()
}

/// The parameters of `n` with its secret ones opened.
pub fn open_secret_parameters(
    keyring: &Keyring,
    n: &NotificationRequested,
) -> Result<HashMap<String, String>, CryptoError> {
    n.parameters
        .iter()
        .map(|(name, value)| {
            if !n.secret_parameters.contains(name) {
                return Ok((name.clone(), value.clone()));
            }
            let sealed = BASE64.decode(value.as_bytes()).map_err(|_| CryptoError::Malformed)?;
            let opened = keyring.decrypt(&sealed, &seal_context(&n.notification_id, name))?;
            let opened = String::from_utf8(opened).map_err(|_| CryptoError::Malformed)?;
            Ok((name.clone(), opened))
        })
        .collect()
}

impl NotificationSender {
    pub fn new(
        settings: &SenderSettings,
        phone: Option<PhoneTransport>,
        keyring: Keyring,
        pool: PgPool,
    ) -> Result<Self, ConfigError> {
        let transport = match settings {
            SenderSettings::Log => Transport::Log,
            SenderSettings::Smtp { host, port, from } => Transport::Smtp {
                // Plain SMTP to a relay next to the service (a local MTA or the cluster's relay).
                transport: AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
                    .port(*port)
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
                from: from.parse().map_err(|_| {
                    ConfigError::new(
                        "SMTP_FROM",
                        "must be an address such as MyAccount <no-reply@contoso.example>",
                    )
                })?,
            },
        };
        Ok(Self {
            transport,
            phone,
            keyring,
            pool,
        })
    }

    async fn send_to_phone(
        &self,
        n: &NotificationRequested,
        channel: PhoneChannel,
        phone: &PhoneTransport,
        reader: &Reader,
    ) -> Result<(), HandlerError> {
        let channel_name = channel.as_str();
        if let Some(outcome) = store::phone_delivery_outcome(&self.pool, &n.notification_id, channel_name).await? {
            tracing::info!(notification_id = %n.notification_id, channel = channel_name, %outcome, "phone notification already answered by the provider; not sent again");
            return Ok(());
        }
        let mut parameters = open_secret_parameters(&self.keyring, n)
            .map_err(|e| HandlerError::Rejected(format!("a secret parameter does not open: {e}")))?;
        if channel == PhoneChannel::Voice
            && let Some(code) = parameters.get_mut("code")
        {
            *code = crate::phone::spoken_digits(code);
        }
        let (_, text) = render(&n.template, &parameters, reader);
        let message = PhoneMessage {
            idempotency_key: format!("{}/{channel_name}", n.notification_id),
            to: n.recipient.clone(),
            channel,
            text,
            // A call is spoken in the language it is written in.
            locale: parameters
                .get("locale")
                .cloned()
                .unwrap_or_else(|| notification_text::voice_locale(reader.language()).to_owned()),
        };
        let outcome = phone
            .send(&message)
            .await
            // Not this message's fault: the consumer redelivers it with backoff.
            .map_err(|e| HandlerError::Transient(e.to_string()))?;
        let record = match &outcome {
            PhoneOutcome::Delivered {
                provider_id,
                status,
                attempts,
            } => {
                tracing::info!(notification_id = %n.notification_id, channel = channel_name, template = %n.template, attempts, "notification sent to a phone");
                PhoneDeliveryRecord {
                    notification_id: &n.notification_id,
                    channel: channel_name,
                    outcome: "delivered",
                    provider_status: *status,
                    provider_message_id: provider_id.as_deref(),
                    provider_error_code: None,
                    attempts: *attempts,
                }
            }
            PhoneOutcome::Refused {
                status,
                error_code,
                attempts,
            } => {
                // Asking again would get the same answer: recorded and acknowledged.
                tracing::warn!(notification_id = %n.notification_id, channel = channel_name, template = %n.template, status, error_code = ?error_code, "the phone provider refused the notification");
                PhoneDeliveryRecord {
                    notification_id: &n.notification_id,
                    channel: channel_name,
                    outcome: "refused",
                    provider_status: *status,
                    provider_message_id: None,
                    provider_error_code: error_code.as_deref(),
                    attempts: *attempts,
                }
            }
        };
        store::record_phone_delivery(&self.pool, &record).await?;
        Ok(())
    }

    async fn send_email(
        &self,
        n: &NotificationRequested,
        transport: &AsyncSmtpTransport<Tokio1Executor>,
        from: &Mailbox,
        reader: &Reader,
    ) -> Result<(), HandlerError> {
        let to: Mailbox = n
            .recipient
            .parse()
            .map_err(|_| HandlerError::Rejected(format!("recipient {:?} is not an email address", n.recipient)))?;
        // A parameter that does not open was not sealed by us: nothing to send.
        let parameters = open_secret_parameters(&self.keyring, n)
            .map_err(|e| HandlerError::Rejected(format!("a secret parameter does not open: {e}")))?;
        let (subject, body) = render(&n.template, &parameters, reader);
        let message = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| HandlerError::Rejected(format!("cannot build the message: {e}")))?;
        transport.send(message).await.map_err(|e| {
            // A refusal of this message (5xx: no such mailbox) is the message's own; anything
            // else (the relay away, 4xx) waits for the relay, never spending the message.
            if e.is_permanent() {
                HandlerError::Rejected(format!("smtp refused the message: {e}"))
            } else {
                HandlerError::Unavailable(format!("smtp: {e}"))
            }
        })?;
        tracing::info!(notification_id = %n.notification_id, channel = "email", template = %n.template, language = reader.language(), "notification sent by email");
        Ok(())
    }
}

impl Handler<NotificationRequested> for NotificationSender {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        delivery: &Delivery<NotificationRequested>,
    ) -> Result<(), HandlerError> {
        let n = &delivery.event;
        // A notification without a person (or identity never told us about them) is written
        // in English, with times in UTC.
        let preferences = match Uuid::parse_str(n.user_id.trim()) {
            Ok(user_id) => store::reading_preferences(conn, user_id).await?.unwrap_or_default(),
            Err(_) => store::ReadingPreferences::default(),
        };
        let reader = Reader::new(
            &preferences.language,
            &preferences.time_zone,
            &preferences.regional_format,
        );
        let channel = NotificationChannel::try_from(n.channel).unwrap_or(NotificationChannel::Unspecified);
        let phone_channel = match channel {
            NotificationChannel::Sms => Some(PhoneChannel::Sms),
            NotificationChannel::Voice => Some(PhoneChannel::Voice),
            _ => None,
        };
        match (&self.transport, &self.phone, phone_channel) {
            (Transport::Smtp { transport, from }, _, None) if channel == NotificationChannel::Email => {
                self.send_email(n, transport, from, &reader).await
            }
            (_, Some(phone), Some(phone_channel)) => self.send_to_phone(n, phone_channel, phone, &reader).await,
            _ => {
                log_notification(n, channel);
                Ok(())
            }
        }
    }
}

/// Writes the notification to the log with every secret parameter redacted.
pub fn log_notification(n: &NotificationRequested, channel: NotificationChannel) {
    let parameters = redacted(n);
    tracing::info!(
        notification_id = %n.notification_id,
        recipient = %n.recipient,
        channel = channel.as_str_name(),
        template = %n.template,
        parameters = ?parameters,
        "notification (log sender)"
    );
}

/// The parameters with secret values (and anything named like a code) replaced.
pub fn redacted(n: &NotificationRequested) -> BTreeMap<String, String> {
    n.parameters
        .iter()
        .map(|(k, v)| {
            let secret = n.secret_parameters.iter().any(|s| s == k) || k.contains("code") || k.contains("password");
            (k.clone(), if secret { "[redacted]".to_owned() } else { v.clone() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_never_sees_a_code() {
        let n = NotificationRequested {
            recipient: "+14255550109".into(),
            template: "sign_in_code".into(),
            parameters: [
                ("code".to_owned(), "493817".to_owned()),
                ("expires_in_minutes".to_owned(), "10".to_owned()),
            ]
            .into(),
            secret_parameters: vec!["code".into()],
            ..Default::default()
        };
        let shown = redacted(&n);
        assert_eq!(shown["code"], "[redacted]");
        assert_eq!(shown["expires_in_minutes"], "10");
        assert!(!format!("{shown:?}").contains("493817"));
    }

    #[test]
    fn codes_are_sealed_for_the_sender_and_bound_to_their_notification() {
        let keyring = Keyring::generate("k1");
        let parameters = vec![
            ("code".to_owned(), "493817".to_owned()),
            ("expires_in_minutes".to_owned(), "10".to_owned()),
        ];
        let secret = vec!["code".to_owned()];
        let sealed = seal_secret_parameters(&keyring, "n1", &parameters, &secret).unwrap();
        assert_ne!(sealed["code"], "493817");
        assert_eq!(sealed["expires_in_minutes"], "10");
        let mut n = NotificationRequested {
            notification_id: "n1".into(),
            parameters: sealed,
            secret_parameters: secret,
            ..Default::default()
        };
        assert_eq!(open_secret_parameters(&keyring, &n).unwrap()["code"], "493817");
        assert!(
            open_secret_parameters(&Keyring::generate("k1"), &n).is_err(),
            "another keyring"
        );
        n.notification_id = "n2".into();
        assert!(
            open_secret_parameters(&keyring, &n).is_err(),
            "copied into another notification"
        );
        n.notification_id = "n1".into();
        n.parameters.insert("code".into(), "493817".into());
        assert!(
            open_secret_parameters(&keyring, &n).is_err(),
            "a code in clear is refused"
        );
    }

    #[test]
    fn sender_is_chosen_by_configuration() {
        assert_eq!(SenderSettings::from_env(&Env::default()), Ok(SenderSettings::Log));
        let smtp = SenderSettings::from_env(&Env::from_pairs([
            ("NOTIFICATIONS_SENDER", "smtp"),
            ("SMTP_PORT", "2525"),
        ]))
        .unwrap();
        assert!(matches!(smtp, SenderSettings::Smtp { port: 2525, .. }));
        let bad = SenderSettings::from_env(&Env::from_pairs([("NOTIFICATIONS_SENDER", "pigeon")])).unwrap_err();
        assert_eq!(bad.variable, "NOTIFICATIONS_SENDER");
    }
}
