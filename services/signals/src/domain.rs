//! The transmitter's vocabulary: event types, delivery methods, stream states, the security
//! events MyAccount's moments become, and the claims of the Security Event Token that carries
//! one (RFC 8417 as the SSF 1.0 profile wants it). No prost, no sqlx, no tonic.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use platform::error::Violations;
use serde_json::{Map, Value, json};
use uuid::Uuid;

const CAEP: &str = "https://schemas.openid.net/secevent/caep/event-type/";
const SSF: &str = "https://schemas.openid.net/secevent/ssf/event-type/";
const RISC: &str = "https://schemas.openid.net/secevent/risc/event-type/";

/// The event types this transmitter sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// CAEP: a session ended before it expired.
    SessionRevoked,
    /// CAEP: a credential was created, changed or deleted.
    CredentialChange,
    /// CAEP: a device became compliant or stopped being so (disabled, or enabled again).
    DeviceComplianceChange,
    /// CAEP: the person's assessed risk changed (a risky sign-in).
    RiskLevelChange,
    /// CAEP: the assurance level the person's sign-ins reach changed (their first second
    /// factor, or their last one removed).
    AssuranceLevelChange,
    /// RISC: the account was deleted.
    AccountPurged,
    /// RISC: a credential is known to be in the wrong hands ("this wasn't me").
    CredentialCompromise,
    /// RISC: account recovery was used (a self-service password reset).
    RecoveryActivated,
    /// RISC: a way to recover the account (an email address, a phone) was added or removed.
    RecoveryInformationChanged,
    /// RISC: an administrator or the operator disabled the account.
    AccountDisabled,
    /// RISC: a disabled account was enabled again.
    AccountEnabled,
    /// RISC: the person's user principal name or email address changed (one event each).
    IdentifierChanged,
    /// SSF: the answer to a receiver's verification request.
    Verification,
    /// SSF: the transmitter changed the stream's status. Sent whatever the stream requested
    /// (SSF 1.0 section 8.1.5), so it is not among what a receiver may request.
    StreamUpdated,
}

impl EventType {
    /// What a receiver may request (verification is always delivered).
    pub const SUPPORTED: [EventType; 13] = [
        EventType::SessionRevoked,
        EventType::CredentialChange,
        EventType::DeviceComplianceChange,
        EventType::RiskLevelChange,
        EventType::AssuranceLevelChange,
        EventType::AccountPurged,
        EventType::CredentialCompromise,
        EventType::RecoveryActivated,
        EventType::RecoveryInformationChanged,
        EventType::AccountDisabled,
        EventType::AccountEnabled,
        EventType::IdentifierChanged,
        EventType::Verification,
    ];

    pub fn uri(self) -> String {
        match self {
            EventType::SessionRevoked => format!("{CAEP}session-revoked"),
            EventType::CredentialChange => format!("{CAEP}credential-change"),
            EventType::DeviceComplianceChange => format!("{CAEP}device-compliance-change"),
            EventType::RiskLevelChange => format!("{CAEP}risk-level-change"),
            EventType::AssuranceLevelChange => format!("{CAEP}assurance-level-change"),
            EventType::AccountPurged => format!("{RISC}account-purged"),
            EventType::CredentialCompromise => format!("{RISC}credential-compromise"),
            EventType::RecoveryActivated => format!("{RISC}recovery-activated"),
            EventType::RecoveryInformationChanged => format!("{RISC}recovery-information-changed"),
            EventType::AccountDisabled => format!("{RISC}account-disabled"),
            EventType::AccountEnabled => format!("{RISC}account-enabled"),
            EventType::IdentifierChanged => format!("{RISC}identifier-changed"),
            EventType::Verification => format!("{SSF}verification"),
            EventType::StreamUpdated => format!("{SSF}stream-updated"),
        }
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::SUPPORTED.into_iter().find(|t| t.uri() == uri)
    }

    pub fn supported_uris() -> Vec<String> {
        Self::SUPPORTED.into_iter().map(EventType::uri).collect()
    }
}

/// RFC 8935 push or RFC 8936 poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryMethod {
    Push,
    Poll,
}

impl DeliveryMethod {
    pub const PUSH_URN: &'static str = "urn:ietf:rfc:8935";
    pub const POLL_URN: &'static str = "urn:ietf:rfc:8936";

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryMethod::Push => "push",
            DeliveryMethod::Poll => "poll",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "push" => Some(DeliveryMethod::Push),
            "poll" => Some(DeliveryMethod::Poll),
            _ => None,
        }
    }

    pub fn urn(self) -> &'static str {
        match self {
            DeliveryMethod::Push => Self::PUSH_URN,
            DeliveryMethod::Poll => Self::POLL_URN,
        }
    }
}

/// A stream's status (SSF 1.0 section 8.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStatus {
    Enabled,
    Paused,
    Disabled,
}

impl StreamStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamStatus::Enabled => "enabled",
            StreamStatus::Paused => "paused",
            StreamStatus::Disabled => "disabled",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "enabled" => Some(StreamStatus::Enabled),
            "paused" => Some(StreamStatus::Paused),
            "disabled" => Some(StreamStatus::Disabled),
            _ => None,
        }
    }
}

/// A registered relying party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receiver {
    pub id: Uuid,
    pub name: String,
    pub audience: String,
    pub client_id: String,
    pub created_at: DateTime<Utc>,
}

/// A receiver's new registration, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReceiver {
    pub name: String,
    pub audience: String,
}

impl NewReceiver {
    pub fn parse(name: &str, audience: &str) -> Result<Self, Violations> {
        let mut violations = Violations::new();
        let name = name.trim();
        let audience = audience.trim();
        violations.required("name", name);
        violations.text("name", name, 200);
        violations.required("audience", audience);
        violations.text("audience", audience, 2000);
        if !audience.is_empty() && url::Url::parse(audience).is_err() {
            violations.add("audience", "must be an absolute URI, such as https://app.example.com");
        }
        if !violations.is_empty() {
            return Err(violations);
        }
        Ok(Self {
            name: name.to_owned(),
            audience: audience.to_owned(),
        })
    }
}

/// A stream of SETs from this transmitter to one receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    pub id: Uuid,
    pub receiver_id: Uuid,
    pub delivery: Delivery,
    pub events_requested: Vec<String>,
    pub description: String,
    pub status: StreamStatus,
    /// Why it has its status, when one was given.
    pub status_reason: String,
    /// Every person's events (SSF `default_subjects` ALL) rather than only its subjects'.
    pub all_subjects: bool,
    pub created_at: DateTime<Utc>,
}

impl Stream {
    /// What the stream delivers: what the receiver asked for that this transmitter sends, in
    /// the order of the request.
    pub fn events_delivered(&self) -> Vec<String> {
        self.events_requested
            .iter()
            .filter(|uri| EventType::from_uri(uri).is_some())
            .cloned()
            .collect()
    }
}

/// How a stream's SETs reach the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Push {
        endpoint_url: String,
        /// The Authorization header value the receiver wants on each push.
        authorization_header: Option<String>,
    },
    Poll,
}

impl Delivery {
    pub fn method(&self) -> DeliveryMethod {
        match self {
            Delivery::Push { .. } => DeliveryMethod::Push,
            Delivery::Poll => DeliveryMethod::Poll,
        }
    }
}

/// A receiver's request for a stream, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStream {
    pub delivery: Delivery,
    pub events_requested: Vec<String>,
    pub description: String,
    pub all_subjects: bool,
}

impl NewStream {
    /// `method` is `None` when the request named none (or an unknown one); an absent method
    /// means poll, as SSF 1.0 lets the transmitter choose.
    pub fn parse(
        method: Option<DeliveryMethod>,
        endpoint_url: &str,
        authorization_header: &str,
        events_requested: &[String],
        description: &str,
    ) -> Result<Self, Violations> {
        let mut violations = Violations::new();
        let endpoint_url = endpoint_url.trim();
        let delivery = match method.unwrap_or(DeliveryMethod::Poll) {
            DeliveryMethod::Push => {
                match url::Url::parse(endpoint_url) {
                    Ok(url) if matches!(url.scheme(), "https" | "http") => {}
                    _ => violations.add(
                        "delivery.endpoint_url",
                        "a push stream needs the receiver's http(s) URL to POST SETs to",
                    ),
                }
                violations.text("delivery.endpoint_url", endpoint_url, 2000);
                violations.text("delivery.authorization_header", authorization_header, 4000);
                let header = authorization_header.trim();
                Delivery::Push {
                    endpoint_url: endpoint_url.to_owned(),
                    authorization_header: (!header.is_empty()).then(|| header.to_owned()),
                }
            }
            DeliveryMethod::Poll => {
                if !endpoint_url.is_empty() {
                    violations.add(
                        "delivery.endpoint_url",
                        "a poll stream's endpoint is the transmitter's; leave it out",
                    );
                }
                Delivery::Poll
            }
        };
        if events_requested.len() > 32 {
            violations.add("events_requested", "at most 32 event types");
        }
        for (i, uri) in events_requested.iter().enumerate() {
            violations.text(&format!("events_requested[{i}]"), uri, 500);
        }
        violations.text("description", description, 500);
        if !violations.is_empty() {
            return Err(violations);
        }
        let mut requested: Vec<String> = Vec::new();
        for uri in events_requested {
            if !requested.contains(uri) {
                requested.push(uri.clone());
            }
        }
        Ok(Self {
            delivery,
            events_requested: requested,
            description: description.trim().to_owned(),
            all_subjects: false,
        })
    }

    /// The stream's configuration after a receiver's update (SSF 1.0 PATCH or PUT), checked as
    /// a new stream's is.
    pub fn updated(stream: &Stream, update: &StreamUpdate) -> Result<Self, Violations> {
        let current_delivery = match &stream.delivery {
            Delivery::Push {
                endpoint_url,
                authorization_header,
            } => (
                Some(DeliveryMethod::Push),
                endpoint_url.clone(),
                authorization_header.clone().unwrap_or_default(),
            ),
            Delivery::Poll => (Some(DeliveryMethod::Poll), String::new(), String::new()),
        };
        // PUT: a missing property is cleared to what a new stream gets without it.
        let (method, endpoint_url, authorization_header) = match &update.delivery {
            Some(d) => d.clone(),
            None if update.replace => (None, String::new(), String::new()),
            None => current_delivery,
        };
        let events_requested = match &update.events_requested {
            Some(events) => events.clone(),
            None if update.replace => Vec::new(),
            None => stream.events_requested.clone(),
        };
        let description = match &update.description {
            Some(description) => description.clone(),
            None if update.replace => String::new(),
            None => stream.description.clone(),
        };
        let mut new = Self::parse(
            method,
            &endpoint_url,
            &authorization_header,
            &events_requested,
            &description,
        )?;
        new.all_subjects = match update.all_subjects {
            Some(all) => all,
            None if update.replace => false,
            None => stream.all_subjects,
        };
        Ok(new)
    }
}

/// A receiver's change to its stream's configuration: `None` is a property the request left
/// out (kept by a PATCH, cleared by a PUT).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamUpdate {
    pub replace: bool,
    /// The method (`None`: unnamed, meaning poll), endpoint URL and Authorization header.
    pub delivery: Option<(Option<DeliveryMethod>, String, String)>,
    pub events_requested: Option<Vec<String>>,
    pub description: Option<String>,
    pub all_subjects: Option<bool>,
}

/// A status change, checked: a known status and a short reason.
pub fn parse_status_change(status: &str, reason: &str) -> Result<(StreamStatus, String), Violations> {
    let mut violations = Violations::new();
    let parsed = StreamStatus::parse(status.trim());
    if parsed.is_none() {
        violations.add("status", "one of enabled, paused or disabled");
    }
    violations.text("reason", reason, 500);
    match parsed {
        Some(status) if violations.is_empty() => Ok((status, reason.trim().to_owned())),
        _ => Err(violations),
    }
}

/// The person a receiver's subject names (SSF 1.0 section 8.1.3): this transmitter's `iss_sub`,
/// alone or as a complex subject's `user`. Other formats name no one MyAccount can match.
pub fn subject_user(subject: &Value, issuer: &str) -> Result<Uuid, Violations> {
    let unsupported = || {
        let mut v = Violations::new();
        v.add(
            "subject",
            format!(
                "give {{\"format\": \"iss_sub\", \"iss\": \"{issuer}\", \"sub\": <user id>}}, alone or as a complex subject's user"
            ),
        );
        v
    };
    let user = match subject.get("format").and_then(Value::as_str) {
        Some("iss_sub") => subject,
        Some("complex") => {
            let members = subject.as_object().ok_or_else(unsupported)?;
            // A narrower complex subject (a session, a tenant) cannot be matched yet: refused
            // rather than silently widened to the whole person.
            if members.keys().any(|k| k != "format" && k != "user") {
                let mut v = Violations::new();
                v.add(
                    "subject",
                    "only a complex subject's user is matched; leave out its other members",
                );
                return Err(v);
            }
            members.get("user").ok_or_else(unsupported)?
        }
        _ => return Err(unsupported()),
    };
    if user.get("format").and_then(Value::as_str) != Some("iss_sub")
        || user.get("iss").and_then(Value::as_str) != Some(issuer)
    {
        return Err(unsupported());
    }
    user.get("sub")
        .and_then(Value::as_str)
        .and_then(|sub| Uuid::parse_str(sub).ok())
        .ok_or_else(|| {
            let mut v = Violations::new();
            v.add("subject.sub", "must be a MyAccount user id");
            v
        })
}

/// Who set the moment off (CAEP `initiating_entity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitiatingEntity {
    Admin,
    User,
    Policy,
    System,
}

impl InitiatingEntity {
    pub fn as_str(self) -> &'static str {
        match self {
            InitiatingEntity::Admin => "admin",
            InitiatingEntity::User => "user",
            InitiatingEntity::Policy => "policy",
            InitiatingEntity::System => "system",
        }
    }
}

/// Whom a security event is about: the person, and where known their session, device and
/// tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub user_id: Uuid,
    pub session_id: Option<Uuid>,
    pub device_id: Option<Uuid>,
    pub tenant_id: Option<Uuid>,
    /// The email-shaped identifier the event names instead of the person's id: RISC
    /// identifier-changed's subject "MUST be either email or phone and it MUST specify the old
    /// value" (RISC 1.0 section 2.6). The user id still decides which streams get it.
    pub email: Option<String>,
}

impl Subject {
    pub fn user(user_id: Uuid) -> Self {
        Self {
            user_id,
            session_id: None,
            device_id: None,
            tenant_id: None,
            email: None,
        }
    }

    /// `sub_id`: an `email` subject when the event names an address; otherwise a complex subject
    /// (SSF 1.0 section 3.2) whose user is this transmitter's `iss_sub`, with the session and
    /// tenant as opaque identifiers when known. A device is an `iss_sub` too, as in CAEP 1.0's
    /// device-compliance-change example: its id is MyAccount's (the devices service's), unique
    /// under this issuer.
    pub fn sub_id(&self, issuer: &str) -> Value {
        if let Some(email) = &self.email {
            return json!({"format": "email", "email": email});
        }
        let mut members = Map::new();
        members.insert("format".into(), json!("complex"));
        members.insert(
            "user".into(),
            json!({"format": "iss_sub", "iss": issuer, "sub": self.user_id.to_string()}),
        );
        if let Some(session) = self.session_id {
            members.insert("session".into(), json!({"format": "opaque", "id": session.to_string()}));
        }
        if let Some(device) = self.device_id {
            members.insert(
                "device".into(),
                json!({"format": "iss_sub", "iss": issuer, "sub": device.to_string()}),
            );
        }
        if let Some(tenant) = self.tenant_id {
            members.insert("tenant".into(), json!({"format": "opaque", "id": tenant.to_string()}));
        }
        Value::Object(members)
    }
}

/// One security event, before it is addressed to a stream and signed.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityEvent {
    pub event_type: EventType,
    pub subject: Subject,
    /// The id of the event it came from: with the event type and the stream, its SET's `jti`,
    /// so applying that event again queues nothing new.
    pub source: String,
    /// `txn`: the act that caused it, shared by every SET of that act (a password reset's
    /// credential-change, recovery-activated and each session's session-revoked).
    pub txn: String,
    pub occurred_at: DateTime<Utc>,
    pub initiating_entity: Option<InitiatingEntity>,
    /// `reason_admin` and `reason_user`, by BCP 47 language tag.
    pub reason_admin: BTreeMap<String, String>,
    pub reason_user: BTreeMap<String, String>,
    /// The event type's own claims (`credential_type`, `change_type`, `state`, ...).
    pub claims: Map<String, Value>,
}

impl SecurityEvent {
    /// The SET's claims for one stream: no `sub` and no `exp` (SSF 1.0 section 4.1), one event.
    pub fn set_claims(&self, issuer: &str, audience: &str, jti: &str, issued_at: DateTime<Utc>) -> Value {
        let mut event = self.claims.clone();
        event.insert("event_timestamp".into(), json!(self.occurred_at.timestamp()));
        if let Some(entity) = self.initiating_entity {
            event.insert("initiating_entity".into(), json!(entity.as_str()));
        }
        if !self.reason_admin.is_empty() {
            event.insert("reason_admin".into(), json!(self.reason_admin));
        }
        if !self.reason_user.is_empty() {
            event.insert("reason_user".into(), json!(self.reason_user));
        }
        let mut events = Map::new();
        events.insert(self.event_type.uri(), Value::Object(event));
        json!({
            "iss": issuer,
            "aud": audience,
            "iat": issued_at.timestamp(),
            "jti": jti,
            "txn": self.txn,
            "sub_id": self.subject.sub_id(issuer),
            "events": events,
        })
    }
}

/// An event about a stream itself (verification, stream-updated): its `sub_id` is the
/// stream, as an opaque identifier (SSF 1.0 sections 8.1.4 and 8.1.5).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamNotice {
    pub stream_id: Uuid,
    pub event_type: EventType,
    /// `txn`: the id of the request or change that caused it.
    pub txn: String,
    /// The event's claims (`state`, or `status` and `reason`).
    pub body: Map<String, Value>,
}

impl StreamNotice {
    pub fn set_claims(&self, issuer: &str, audience: &str, jti: &str, issued_at: DateTime<Utc>) -> Value {
        let mut events = Map::new();
        events.insert(self.event_type.uri(), Value::Object(self.body.clone()));
        json!({
            "iss": issuer,
            "aud": audience,
            "iat": issued_at.timestamp(),
            "jti": jti,
            "txn": self.txn,
            "sub_id": {"format": "opaque", "id": self.stream_id.to_string()},
            "events": events,
        })
    }
}

/// One language's text, for `reason_admin` / `reason_user`.
pub fn in_english(text: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("en".to_owned(), text.to_owned())])
}

/// An error a receiver answered for one SET (RFC 8935 section 2.4 / RFC 8936 `setErrs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetRefusal {
    pub err: String,
    pub description: String,
}

/// The RFC 8935 section 2.4 error codes a receiver may answer.
pub const SET_ERROR_CODES: [&str; 6] = [
    "invalid_request",
    "invalid_key",
    "invalid_issuer",
    "invalid_audience",
    "authentication_failed",
    "access_denied",
];

/// Whether a push refused with `err` may succeed later as it is: a key the receiver has not
/// fetched yet, or credentials it does not accept right now. Anything else is about the SET
/// itself, which sending again would not change.
pub fn push_error_is_retryable(err: &str) -> bool {
    matches!(err, "invalid_key" | "authentication_failed" | "access_denied")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip_through_their_uris() {
        for t in EventType::SUPPORTED {
            assert_eq!(EventType::from_uri(&t.uri()), Some(t));
        }
        assert_eq!(
            EventType::SessionRevoked.uri(),
            "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
        );
        assert_eq!(EventType::from_uri("https://example.com/unknown"), None);
    }

    #[test]
    fn a_push_stream_needs_an_http_endpoint_and_a_poll_stream_none() {
        let push = NewStream::parse(Some(DeliveryMethod::Push), "ftp://x", "", &[], "");
        assert!(push.is_err());
        let poll = NewStream::parse(Some(DeliveryMethod::Poll), "https://rp.example.com/ssf", "", &[], "");
        assert!(poll.is_err());
        let ok = NewStream::parse(
            Some(DeliveryMethod::Push),
            "https://rp.example.com/ssf",
            "Bearer x",
            &[EventType::SessionRevoked.uri(), EventType::SessionRevoked.uri()],
            "",
        )
        .expect("valid");
        assert_eq!(ok.events_requested.len(), 1, "duplicates collapse");
    }

    #[test]
    fn a_set_has_one_event_no_sub_and_no_exp() {
        let user = Uuid::new_v4();
        let event = SecurityEvent {
            event_type: EventType::SessionRevoked,
            subject: Subject {
                session_id: Some(Uuid::new_v4()),
                ..Subject::user(user)
            },
            source: "event".into(),
            txn: "cause".into(),
            occurred_at: Utc::now(),
            initiating_entity: Some(InitiatingEntity::User),
            reason_admin: in_english("signed out"),
            reason_user: BTreeMap::new(),
            claims: Map::new(),
        };
        let claims = event.set_claims("https://idp.example.com", "https://rp.example.com", "j1", Utc::now());
        assert!(claims.get("sub").is_none() && claims.get("exp").is_none());
        assert_eq!(claims["events"].as_object().map(Map::len), Some(1));
        assert_eq!(claims["sub_id"]["user"]["sub"], json!(user.to_string()));
        assert_eq!(claims["sub_id"]["format"], json!("complex"));
        let body = &claims["events"][EventType::SessionRevoked.uri()];
        assert_eq!(body["initiating_entity"], json!("user"));
        assert_eq!(body["reason_admin"]["en"], json!("signed out"));
        assert!(body.get("reason_user").is_none());
    }
}
