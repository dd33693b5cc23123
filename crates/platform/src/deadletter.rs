//! The dead letters: messages a consumer gave up on, kept on `myaccount.deadletter.v1.<consumer>`
//! (stream `MYACCOUNT_DEADLETTER`) with the original payload and headers plus what a replay
//! needs (the original subject and `Nats-Msg-Id`, why, by whom, when). `myaccount dead-letters`
//! lists, shows, replays and discards them through [`DeadLetters`].
//!
//! A replay publishes the message again on its original subject with its original headers, so
//! its CloudEvents id (`ce-id`) is the original event id: every consumer of that subject that
//! already applied it skips it (processed ids are kept for the replay horizon), the one that gave
//! up applies it. Its `Nats-Msg-Id` is derived from the dead letter, not the original: within the
//! stream's duplicate window JetStream would drop a message carrying the original id as a
//! duplicate, acknowledged but never delivered; the derived id still makes a repeated replay of
//! the same dead letter a duplicate. The dead letter is deleted once its replay is acknowledged.

use async_nats::HeaderMap;
use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::message::StreamMessage;
use async_nats::jetstream::stream::RawMessageErrorKind;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::events::{EventBus, Stream, headers};

/// The original subject (logical, without namespace).
pub const ORIGINAL_SUBJECT: &str = "x-original-subject";
/// The original `Nats-Msg-Id`, for the record.
pub const ORIGINAL_MSG_ID: &str = "x-original-nats-msg-id";
pub const REASON: &str = "x-dead-letter-reason";
/// The durable consumer that gave up: `audit_recorded`.
pub const CONSUMER: &str = "x-dead-letter-consumer";
pub const DEAD_LETTERED_AT: &str = "x-dead-lettered-at";
pub const NATS_MSG_ID: &str = "Nats-Msg-Id";

/// The headers a dead letter adds to the original ones; a replay leaves them out.
const ADDED: [&str; 5] = [ORIGINAL_SUBJECT, ORIGINAL_MSG_ID, REASON, CONSUMER, DEAD_LETTERED_AT];

#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    #[error("cannot read the dead letters: {0}")]
    Read(String),
    #[error("dead letter {0} not found")]
    NotFound(u64),
    #[error("dead letter {0} has no original subject and cannot be replayed")]
    NoOriginalSubject(u64),
    #[error("replaying dead letter {sequence} failed: {message}")]
    Replay { sequence: u64, message: String },
    #[error("discarding dead letter {sequence} failed: {message}")]
    Discard { sequence: u64, message: String },
}

/// One dead letter.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Its sequence in the dead-letter stream: how the commands name it.
    pub sequence: u64,
    /// The durable consumer that gave up on it.
    pub consumer: String,
    pub original_subject: Option<String>,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub reason: Option<String>,
    pub dead_lettered_at: Option<DateTime<Utc>>,
    pub headers: HeaderMap,
    pub payload: Bytes,
}

impl DeadLetter {
    fn of(message: StreamMessage, consumer: String) -> Self {
        let h = &message.headers;
        let get = |name: &str| h.get(name).map(|v| v.as_str().to_owned());
        Self {
            sequence: message.sequence,
            consumer,
            original_subject: get(ORIGINAL_SUBJECT),
            event_id: get(headers::ID),
            event_type: get(headers::TYPE),
            reason: get(REASON),
            dead_lettered_at: DateTime::from_timestamp(message.time.unix_timestamp(), message.time.nanosecond()),
            headers: message.headers.clone(),
            payload: message.payload,
        }
    }

    /// Every header as `(name, value)`, names sorted: for showing.
    pub fn header_lines(&self) -> Vec<(String, String)> {
        let mut lines: Vec<(String, String)> = self
            .headers
            .iter()
            .flat_map(|(name, values)| values.iter().map(move |v| (name.to_string(), v.as_str().to_owned())))
            .collect();
        lines.sort();
        lines
    }
}

/// The dead letters of one installation (its NATS namespace).
pub struct DeadLetters {
    bus: EventBus,
}

impl DeadLetters {
    pub fn new(bus: EventBus) -> Self {
        Self { bus }
    }

    /// The dead letters of `service`'s consumers (durable names `<service>_...`, as
    /// [`crate::service::ServiceSpec::consumer_name`]), oldest first.
    pub async fn list(&self, service: &str) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let Some(stream) = self.stream().await? else {
            return Ok(Vec::new());
        };
        let state = stream.cached_info().state.clone();
        let mut letters = Vec::new();
        if state.messages == 0 {
            return Ok(letters);
        }
        for sequence in state.first_sequence..=state.last_sequence {
            if let Some(letter) = self.read(&stream, sequence).await?
                && belongs_to(&letter.consumer, service)
            {
                letters.push(letter);
            }
        }
        Ok(letters)
    }

    /// One dead letter of `service`'s consumers.
    pub async fn get(&self, service: &str, sequence: u64) -> Result<DeadLetter, DeadLetterError> {
        let stream = self.stream().await?.ok_or(DeadLetterError::NotFound(sequence))?;
        match self.read(&stream, sequence).await? {
            Some(letter) if belongs_to(&letter.consumer, service) => Ok(letter),
            _ => Err(DeadLetterError::NotFound(sequence)),
        }
    }

    /// Publishes `letter` again on its original subject with its original headers (the event id
    /// kept), waits for the PublishAck, then deletes the dead letter.
    pub async fn replay(&self, letter: &DeadLetter) -> Result<(), DeadLetterError> {
        let sequence = letter.sequence;
        let original = letter
            .original_subject
            .as_deref()
            .ok_or(DeadLetterError::NoOriginalSubject(sequence))?;
        let mut replayed = HeaderMap::new();
        for (name, values) in letter.headers.iter() {
            let name = name.to_string();
            if ADDED.contains(&name.as_str()) || name.eq_ignore_ascii_case(NATS_MSG_ID) {
                continue;
            }
            for value in values {
                replayed.append(name.as_str(), value.as_str());
            }
        }
        let original_id = letter
            .headers
            .get(ORIGINAL_MSG_ID)
            .map(|v| v.as_str().to_owned())
            .or_else(|| letter.event_id.clone())
            .unwrap_or_default();
        replayed.insert(
            NATS_MSG_ID,
            format!("{original_id}-replay-{}-{sequence}", letter.consumer).as_str(),
        );
        let failed = |message: String| DeadLetterError::Replay { sequence, message };
        self.bus
            .jetstream()
            .publish_with_headers(self.bus.naming().subject(original), replayed, letter.payload.clone())
            .await
            .map_err(|e| failed(e.to_string()))?
            .await
            .map_err(|e| failed(e.to_string()))?;
        tracing::info!(sequence, consumer = %letter.consumer, subject = original, event_id = ?letter.event_id, "dead letter replayed");
        self.discard(sequence).await
    }

    /// Deletes a dead letter for good.
    pub async fn discard(&self, sequence: u64) -> Result<(), DeadLetterError> {
        let failed = |message: String| DeadLetterError::Discard { sequence, message };
        let stream = self.stream().await?.ok_or(DeadLetterError::NotFound(sequence))?;
        stream
            .delete_message(sequence)
            .await
            .map_err(|e| failed(e.to_string()))?;
        Ok(())
    }

    async fn stream(&self) -> Result<Option<async_nats::jetstream::stream::Stream>, DeadLetterError> {
        use async_nats::jetstream::context::GetStreamErrorKind;
        match self
            .bus
            .jetstream()
            .get_stream(self.bus.naming().stream(Stream::DeadLetter))
            .await
        {
            Ok(stream) => Ok(Some(stream)),
            Err(e) if matches!(e.kind(), GetStreamErrorKind::JetStream(j) if j.error_code() == ErrorCode::STREAM_NOT_FOUND) => {
                Ok(None)
            }
            Err(e) => Err(DeadLetterError::Read(e.to_string())),
        }
    }

    /// The dead letter at `sequence`; `None` if it was deleted (replayed or discarded).
    async fn read(
        &self,
        stream: &async_nats::jetstream::stream::Stream,
        sequence: u64,
    ) -> Result<Option<DeadLetter>, DeadLetterError> {
        match stream.get_raw_message(sequence).await {
            Ok(message) => {
                let root = self
                    .bus
                    .naming()
                    .subject(&format!("{}.", Stream::DeadLetter.subject_root()));
                let consumer = message
                    .subject
                    .strip_prefix(root.as_str())
                    .unwrap_or_default()
                    .to_owned();
                Ok(Some(DeadLetter::of(message, consumer)))
            }
            Err(e) if matches!(e.kind(), RawMessageErrorKind::NoMessageFound) => Ok(None),
            Err(e) if matches!(e.kind(), RawMessageErrorKind::JetStream(j) if j.error_code() == ErrorCode::NO_MESSAGE_FOUND) => {
                Ok(None)
            }
            Err(e) => Err(DeadLetterError::Read(e.to_string())),
        }
    }
}

/// Whether durable consumer `consumer` is one of `service`'s (`audit` owns `audit_recorded`).
fn belongs_to(consumer: &str, service: &str) -> bool {
    consumer.strip_prefix(service).is_some_and(|rest| rest.starts_with('_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_owns_the_consumers_named_after_it() {
        assert!(belongs_to("audit_recorded", "audit"));
        assert!(belongs_to("audit_activity", "audit"));
        assert!(!belongs_to("audits_recorded", "audit"));
        assert!(!belongs_to("identity_recorded", "audit"));
        assert!(!belongs_to("audit", "audit"));
    }
}
