//! Conversions every service and the gateway need at the gRPC edge, written once: timestamps
//! both ways and ids carried as strings.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A protobuf timestamp of `t`.
pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// The instant of a protobuf timestamp; `None` when it is out of chrono's range or its nanos
/// are negative (a malformed message).
pub fn datetime(t: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)
}

/// An optional timestamp field as an optional instant.
pub fn optional_datetime(t: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    t.and_then(datetime)
}

/// A string field that should hold an id, and did not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {value:?} is not a UUID")]
pub struct InvalidId {
    pub field: String,
    pub value: String,
}

impl InvalidId {
    /// What a field violation says about it: `device_id` -> "must be a device id (a UUID)".
    pub fn description(&self) -> String {
        let thing = self.field.trim_end_matches("_id").replace('_', " ");
        let article = if thing.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("must be {article} {thing} id (a UUID)")
    }
}

/// Parses the id in `field` (surrounding blanks ignored). Every "not a UUID" answer of the
/// system comes from here, so it reads the same everywhere.
pub fn parse_id(field: &str, raw: &str) -> Result<Uuid, InvalidId> {
    Uuid::parse_str(raw.trim()).map_err(|_| InvalidId {
        field: field.to_owned(),
        value: raw.chars().take(64).collect(),
    })
}

/// An optional id as a string field: empty when absent.
pub fn id_or_empty(id: Option<Uuid>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let t = DateTime::from_timestamp(1_790_000_123, 456_789_000).expect("in range");
        assert_eq!(datetime(&timestamp(t)), Some(t));
        let bad = prost_types::Timestamp { seconds: 1, nanos: -1 };
        assert_eq!(datetime(&bad), None);
        assert_eq!(optional_datetime(None), None);
    }

    #[test]
    fn ids_parse_or_name_the_field() {
        let id = Uuid::now_v7();
        assert_eq!(parse_id("device_id", &format!(" {id} ")), Ok(id));
        let err = parse_id("device_id", "nope").expect_err("not a uuid");
        assert_eq!(err.to_string(), "device_id \"nope\" is not a UUID");
        assert_eq!(err.description(), "must be a device id (a UUID)");
        let err = parse_id("organization_id", "").expect_err("empty");
        assert_eq!(err.description(), "must be an organization id (a UUID)");
        assert_eq!(id_or_empty(None), "");
        assert_eq!(id_or_empty(Some(id)), id.to_string());
    }
}
