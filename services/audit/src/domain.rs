//! Sign-in records and the paging rules of "my sign-ins". No prost, sqlx or tonic here.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use platform::error::{FieldViolation, Violations};
use uuid::Uuid;

pub const DEFAULT_PAGE_SIZE: i64 = 20;
pub const MAX_PAGE_SIZE: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Failure,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Status::Success),
            "failure" => Some(Status::Failure),
            _ => None,
        }
    }
}

/// Stable failure reason codes, as in the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    UnknownUser,
    InvalidPassword,
    AccountDisabled,
    Throttled,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::UnknownUser => "unknown_user",
            FailureReason::InvalidPassword => "invalid_password",
            FailureReason::AccountDisabled => "account_disabled",
            FailureReason::Throttled => "throttled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            FailureReason::UnknownUser,
            FailureReason::InvalidPassword,
            FailureReason::AccountDisabled,
            FailureReason::Throttled,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub user_id: Option<Uuid>,
    pub user_principal_name: String,
    pub organization_id: String,
    pub app_id: String,
    pub ip_address: String,
    pub user_agent: String,
    pub device_id: String,
    pub status: Status,
    pub failure_reason: Option<FailureReason>,
    pub authentication_methods: Vec<String>,
    pub session_id: String,
    pub correlation_id: String,
}

/// Position after the last row of a page: rows strictly older than it come next. Keyset
/// pagination keeps pages free of gaps and repeats while new sign-ins arrive at the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub occurred_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("v1:{}:{}", self.occurred_at.timestamp_micros(), self.id))
    }

    pub fn decode(token: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(3, ':');
        if parts.next()? != "v1" {
            return None;
        }
        let micros: i64 = parts.next()?.parse().ok()?;
        let id = Uuid::parse_str(parts.next()?).ok()?;
        Some(Self {
            occurred_at: DateTime::from_timestamp_micros(micros)?,
            id,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInQuery {
    pub page_size: i64,
    pub after: Option<Cursor>,
    pub status: Option<Status>,
}

impl SignInQuery {
    pub fn parse(page_size: i32, page_token: &str, status: Option<Status>) -> Result<Self, Vec<FieldViolation>> {
        let mut v = Violations::new();
        let page_size = match i64::from(page_size) {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => {
                v.add("page_size", "must not be negative");
                DEFAULT_PAGE_SIZE
            }
            n => n.min(MAX_PAGE_SIZE),
        };
        let after = if page_token.is_empty() {
            None
        } else {
            let cursor = Cursor::decode(page_token);
            if cursor.is_none() {
                v.add("page_token", "is not a token from a previous page");
            }
            cursor
        };
        v.into_result().map(|()| Self {
            page_size,
            after,
            status,
        })
    }
}

pub struct Page {
    pub items: Vec<SignIn>,
    pub next: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor {
            occurred_at: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("bm9wZQ"), None);
        assert_eq!(Cursor::decode("%%%"), None);
    }

    #[test]
    fn page_size_defaults_and_caps() {
        assert_eq!(SignInQuery::parse(0, "", None).unwrap().page_size, 20);
        assert_eq!(SignInQuery::parse(1000, "", None).unwrap().page_size, 100);
        let err = SignInQuery::parse(-1, "junk", None).unwrap_err();
        let fields: Vec<_> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["page_size", "page_token"]);
    }
}
