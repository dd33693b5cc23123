//! The transmitter's use cases: registering receivers, the client credentials grant, a
//! receiver's streams, turning a security event into one signed SET per stream that takes it,
//! and poll delivery (RFC 8936).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use platform::error::{ErrorKind, FieldViolation, ServiceError, Violations};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{
    EventType, NewReceiver, NewStream, Receiver, SET_ERROR_CODES, SecurityEvent, SetRefusal, Stream, StreamNotice,
    StreamStatus, StreamUpdate, parse_status_change, subject_user,
};
use crate::keys::{SetSigner, SignedSet};
use crate::store;
use crate::wakeups::Wakeups;

/// The scopes of a receiver's access token.
pub const RECEIVER_SCOPES: &str = "ssf.manage ssf.read";
/// At most this many SETs in one poll answer.
pub const MAX_POLL_EVENTS: i32 = 1000;
/// How long a poll without `returnImmediately` waits for a first SET (long polling). Shorter
/// than the gateway's and the service's request timeouts.
pub const LONG_POLL_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum SignalsError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    /// RFC 6749 `invalid_client`: unknown client or wrong secret, never saying which.
    #[error("client authentication failed")]
    InvalidClient,
    #[error("the access token is missing, unknown or expired; get one at the token endpoint")]
    InvalidToken,
    #[error("stream {0} not found")]
    StreamNotFound(Uuid),
    #[error(
        "this transmitter does not send every person's events: leave all_subjects out (or false) and add the stream's subjects"
    )]
    AllSubjectsNotAllowed,
    #[error(
        "the last verification of this stream was less than {interval_secs} s ago (min_verification_interval); try again later"
    )]
    VerificationTooSoon { interval_secs: u64, retry_after: Duration },
    #[error("only the installation's operator may change another receiver's stream")]
    NotOperator,
    #[error("signing a security event token: {0}")]
    Signing(#[from] jsonwebtoken::errors::Error),
    #[error("no key signs security event tokens yet")]
    NoSigningKey,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<Violations> for SignalsError {
    fn from(v: Violations) -> Self {
        SignalsError::Invalid(v.into_vec())
    }
}

impl ServiceError for SignalsError {
    fn kind(&self) -> ErrorKind {
        match self {
            SignalsError::Invalid(v) => ErrorKind::InvalidArgument(v.clone()),
            SignalsError::InvalidClient | SignalsError::InvalidToken => ErrorKind::Unauthenticated(self.to_string()),
            SignalsError::StreamNotFound(_) => ErrorKind::NotFound(self.to_string()),
            SignalsError::AllSubjectsNotAllowed | SignalsError::NotOperator => {
                ErrorKind::PermissionDenied(self.to_string())
            }
            SignalsError::VerificationTooSoon { retry_after, .. } => ErrorKind::ResourceExhausted {
                message: self.to_string(),
                retry_after: Some(*retry_after),
            },
            SignalsError::Signing(_) | SignalsError::NoSigningKey | SignalsError::Database(_) => ErrorKind::Internal,
        }
    }
}

/// A receiver's registration as the administrator gets it: the secret is shown this once.
#[derive(Debug, Clone)]
pub struct RegisteredReceiver {
    pub receiver: Receiver,
    pub client_secret: String,
}

/// An access token of the client credentials grant.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: Duration,
    pub scope: &'static str,
}

/// What a poll asks for (RFC 8936 section 2.4).
#[derive(Debug, Clone, Default)]
pub struct PollRequest {
    pub max_events: i32,
    pub return_immediately: bool,
    pub ack: Vec<String>,
    pub set_errs: Vec<(String, SetRefusal)>,
}

/// What a poll answers: SETs by jti, in order, and whether more are waiting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollAnswer {
    pub sets: Vec<(String, String)>,
    pub more_available: bool,
}

/// How the transmitter treats streams (`SIGNALS_ALL_SUBJECTS_ALLOWED`,
/// `SIGNALS_MIN_VERIFICATION_INTERVAL`, `SIGNALS_PAUSED_STREAM_HOLD_LIMIT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPolicy {
    /// Whether a stream may take every person's events (SSF `default_subjects` ALL).
    pub all_subjects_allowed: bool,
    /// The least time between two verification requests of a stream.
    pub min_verification_interval: Duration,
    /// How many SETs a paused stream holds; what would come after them is dropped.
    pub paused_hold_limit: i64,
}

impl Default for StreamPolicy {
    fn default() -> Self {
        Self {
            all_subjects_allowed: true,
            min_verification_interval: Duration::from_secs(30),
            paused_hold_limit: 10_000,
        }
    }
}

/// Signs security events for the streams that take them.
pub struct Transmitter {
    pub issuer: String,
    signer: Arc<SetSigner>,
    paused_hold_limit: i64,
}

impl Transmitter {
    pub fn new(issuer: String, signer: Arc<SetSigner>, paused_hold_limit: i64) -> Self {
        Self {
            issuer,
            signer,
            paused_hold_limit,
        }
    }

    pub fn jwks(&self) -> serde_json::Value {
        self.signer.jwks()
    }

    /// How long receivers may cache [`Self::jwks`].
    pub fn jwks_max_age(&self) -> Duration {
        self.signer.jwks_max_age()
    }

    fn sign(&self, claims: &serde_json::Value) -> Result<SignedSet, SignalsError> {
        Ok(self.signer.sign(claims).ok_or(SignalsError::NoSigningKey)??)
    }

    /// Queues `event` for every stream that takes it, one SET each, in the caller's
    /// transaction. A stream's jti is derived from the cause, so applying the same cause again
    /// queues nothing new. Returns how many SETs were queued.
    pub async fn emit(&self, conn: &mut PgConnection, event: &SecurityEvent) -> Result<usize, SignalsError> {
        let uri = event.event_type.uri();
        let addressees = store::addressees(conn, &uri, event.subject.user_id, self.paused_hold_limit).await?;
        let now = Utc::now();
        for addressee in &addressees {
            let jti = set_id(&event.source, &uri, addressee.stream_id);
            self.queue(conn, addressee.stream_id, &addressee.audience, &jti, event, now)
                .await?;
        }
        Ok(addressees.len())
    }

    async fn queue(
        &self,
        conn: &mut PgConnection,
        stream_id: Uuid,
        audience: &str,
        jti: &str,
        event: &SecurityEvent,
        now: DateTime<Utc>,
    ) -> Result<(), SignalsError> {
        let claims = event.set_claims(&self.issuer, audience, jti, now);
        let signed = self.sign(&claims)?;
        store::queue_set(conn, stream_id, jti, &event.event_type.uri(), &signed, now).await?;
        Ok(())
    }

    /// Queues an event about a stream itself, in the caller's transaction. A verification is
    /// held and dropped as any SET is; a stream-updated SET is always queued, since it tells
    /// the receiver why the others stopped. Returns whether it was queued.
    pub async fn emit_notice(
        &self,
        conn: &mut PgConnection,
        audience: &str,
        notice: &StreamNotice,
    ) -> Result<bool, SignalsError> {
        if notice.event_type != EventType::StreamUpdated
            && !store::takes_stream_sets(conn, notice.stream_id, self.paused_hold_limit).await?
        {
            return Ok(false);
        }
        let uri = notice.event_type.uri();
        let jti = set_id(&notice.txn, &uri, notice.stream_id);
        let now = Utc::now();
        let signed = self.sign(&notice.set_claims(&self.issuer, audience, &jti, now))?;
        store::queue_set(conn, notice.stream_id, &jti, &uri, &signed, now).await?;
        metrics::counter!("signals_sets_queued_total", "event_type" => uri).increment(1);
        Ok(true)
    }
}

/// A SET's `jti`: unique per cause, event type and stream, and the same when the cause is
/// applied again (a UUID v5 of the three).
pub fn set_id(txn: &str, event_uri: &str, stream_id: Uuid) -> String {
    let name = format!("{txn}\n{event_uri}\n{stream_id}");
    Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
}

fn sha256(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

/// 256 random bits, base64url.
fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares in time independent of where the first difference is.
fn same_digest(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The use cases, shared by the gRPC edge, the consumers and the CLI.
pub struct Signals {
    pool: PgPool,
    transmitter: Arc<Transmitter>,
    wakeups: Wakeups,
    token_ttl: Duration,
    policy: StreamPolicy,
}

impl Signals {
    pub fn new(
        pool: PgPool,
        transmitter: Arc<Transmitter>,
        wakeups: Wakeups,
        token_ttl: Duration,
        policy: StreamPolicy,
    ) -> Self {
        Self {
            pool,
            transmitter,
            wakeups,
            token_ttl,
            policy,
        }
    }

    pub fn policy(&self) -> &StreamPolicy {
        &self.policy
    }

    pub fn transmitter(&self) -> &Transmitter {
        &self.transmitter
    }

    /// Registers a receiver (`myaccount ssf add-receiver` and the admin RPC).
    pub async fn add_receiver(&self, name: &str, audience: &str) -> Result<RegisteredReceiver, SignalsError> {
        add_receiver(&self.pool, name, audience).await
    }

    /// RFC 6749 section 4.4: client credentials for a short-lived opaque access token.
    pub async fn issue_token(&self, client_id: &str, client_secret: &str) -> Result<AccessToken, SignalsError> {
        let found = store::receiver_credentials(&self.pool, client_id.trim()).await?;
        // The secret is hashed even for an unknown client, so timing does not tell them apart.
        let presented = sha256(client_secret);
        let Some((receiver, stored)) = found else {
            return Err(SignalsError::InvalidClient);
        };
        if !same_digest(&presented, &stored) {
            return Err(SignalsError::InvalidClient);
        }
        let token = random_secret();
        let ttl = chrono::Duration::from_std(self.token_ttl).unwrap_or(chrono::Duration::minutes(15));
        store::insert_token(&self.pool, &sha256(&token), receiver.id, Utc::now() + ttl).await?;
        Ok(AccessToken {
            token,
            expires_in: self.token_ttl,
            scope: RECEIVER_SCOPES,
        })
    }

    /// The receiver an access token belongs to.
    pub async fn authenticate(&self, access_token: &str) -> Result<Receiver, SignalsError> {
        if access_token.is_empty() {
            return Err(SignalsError::InvalidToken);
        }
        store::receiver_by_token(&self.pool, &sha256(access_token), Utc::now())
            .await?
            .ok_or(SignalsError::InvalidToken)
    }

    pub async fn create_stream(&self, receiver: &Receiver, request: NewStream) -> Result<Stream, SignalsError> {
        if request.all_subjects && !self.policy.all_subjects_allowed {
            return Err(SignalsError::AllSubjectsNotAllowed);
        }
        let stream = Stream {
            id: Uuid::now_v7(),
            receiver_id: receiver.id,
            delivery: request.delivery,
            events_requested: request.events_requested,
            description: request.description,
            status: StreamStatus::Enabled,
            status_reason: String::new(),
            all_subjects: request.all_subjects,
            created_at: Utc::now(),
        };
        store::insert_stream(&self.pool, &stream).await?;
        tracing::info!(stream_id = %stream.id, receiver_id = %receiver.id, method = stream.delivery.method().as_str(), "stream created");
        Ok(stream)
    }

    pub async fn stream(&self, receiver: &Receiver, stream_id: Uuid) -> Result<Stream, SignalsError> {
        store::stream_of(&self.pool, receiver.id, stream_id)
            .await?
            .ok_or(SignalsError::StreamNotFound(stream_id))
    }

    pub async fn streams(&self, receiver: &Receiver) -> Result<Vec<Stream>, SignalsError> {
        Ok(store::streams_of(&self.pool, receiver.id).await?)
    }

    pub async fn delete_stream(&self, receiver: &Receiver, stream_id: Uuid) -> Result<(), SignalsError> {
        if store::delete_stream(&self.pool, receiver.id, stream_id).await? {
            tracing::info!(%stream_id, receiver_id = %receiver.id, "stream deleted");
            Ok(())
        } else {
            Err(SignalsError::StreamNotFound(stream_id))
        }
    }

    /// SSF 1.0 PATCH or PUT of a stream's configuration: checked as a new stream is, then
    /// stored whole. SETs already queued stay queued (and go by the new delivery).
    pub async fn update_stream(
        &self,
        receiver: &Receiver,
        stream_id: Uuid,
        update: &StreamUpdate,
    ) -> Result<Stream, SignalsError> {
        let current = self.stream(receiver, stream_id).await?;
        let configuration = NewStream::updated(&current, update)?;
        if configuration.all_subjects && !current.all_subjects && !self.policy.all_subjects_allowed {
            return Err(SignalsError::AllSubjectsNotAllowed);
        }
        let updated = store::update_stream_configuration(&self.pool, receiver.id, stream_id, &configuration)
            .await?
            .ok_or(SignalsError::StreamNotFound(stream_id))?;
        tracing::info!(%stream_id, receiver_id = %receiver.id, replace = update.replace, "stream configuration updated");
        Ok(updated)
    }

    /// The receiver changes its stream's status. It asked, so no stream-updated SET is sent.
    pub async fn update_status(
        &self,
        receiver: &Receiver,
        stream_id: Uuid,
        status: &str,
        reason: &str,
    ) -> Result<Stream, SignalsError> {
        self.change_status(Some(receiver.id), stream_id, status, reason).await
    }

    /// The operator changes a stream's status: the receiver is told with a stream-updated SET,
    /// queued with the change and delivered whatever the new status.
    pub async fn update_status_as_operator(
        &self,
        stream_id: Uuid,
        status: &str,
        reason: &str,
    ) -> Result<Stream, SignalsError> {
        self.change_status(None, stream_id, status, reason).await
    }

    async fn change_status(
        &self,
        receiver_id: Option<Uuid>,
        stream_id: Uuid,
        status: &str,
        reason: &str,
    ) -> Result<Stream, SignalsError> {
        let (status, reason) = parse_status_change(status, reason)?;
        let mut tx = self.pool.begin().await?;
        let (mut stream, audience) = store::stream_for_status_change(&mut tx, receiver_id, stream_id)
            .await?
            .ok_or(SignalsError::StreamNotFound(stream_id))?;
        let by_operator = receiver_id.is_none();
        if by_operator && (stream.status != status || stream.status_reason != reason) {
            let mut body = serde_json::Map::new();
            body.insert("status".into(), serde_json::json!(status.as_str()));
            if !reason.is_empty() {
                body.insert("reason".into(), serde_json::json!(reason));
            }
            let notice = StreamNotice {
                stream_id,
                event_type: EventType::StreamUpdated,
                txn: Uuid::new_v4().to_string(),
                body,
            };
            self.transmitter.emit_notice(&mut tx, &audience, &notice).await?;
        }
        store::set_status(&mut tx, stream_id, status, &reason).await?;
        tx.commit().await?;
        tracing::info!(%stream_id, status = status.as_str(), by_operator, "stream status changed");
        stream.status = status;
        stream.status_reason = reason;
        Ok(stream)
    }

    /// Adds a person to the stream's subjects, or (`included` false) removes them.
    pub async fn set_subject(
        &self,
        receiver: &Receiver,
        stream_id: Uuid,
        subject: &serde_json::Value,
        included: bool,
    ) -> Result<(), SignalsError> {
        let user_id = subject_user(subject, &self.transmitter.issuer)?;
        if !store::set_subject(&self.pool, receiver.id, stream_id, user_id, included).await? {
            return Err(SignalsError::StreamNotFound(stream_id));
        }
        tracing::info!(%stream_id, %user_id, included, "stream subject changed");
        Ok(())
    }

    /// SSF 1.0 section 8.1.4.2: queues a verification SET echoing `state`, at most once per
    /// `min_verification_interval`.
    pub async fn verify(&self, receiver: &Receiver, stream_id: Uuid, state: &str) -> Result<(), SignalsError> {
        let mut violations = Violations::new();
        violations.text("state", state, 1000);
        if !violations.is_empty() {
            return Err(violations.into());
        }
        let interval = self.policy.min_verification_interval;
        let mut tx = self.pool.begin().await?;
        match store::claim_verification(&mut tx, receiver.id, stream_id, interval).await? {
            store::VerificationClaim::Granted => {}
            store::VerificationClaim::NotFound => return Err(SignalsError::StreamNotFound(stream_id)),
            store::VerificationClaim::TooSoon(next) => {
                return Err(SignalsError::VerificationTooSoon {
                    interval_secs: interval.as_secs(),
                    retry_after: (next - Utc::now()).to_std().unwrap_or(Duration::from_secs(1)),
                });
            }
        }
        let mut body = serde_json::Map::new();
        if !state.is_empty() {
            body.insert("state".into(), serde_json::json!(state));
        }
        let notice = StreamNotice {
            stream_id,
            event_type: EventType::Verification,
            txn: Uuid::new_v4().to_string(),
            body,
        };
        let queued = self
            .transmitter
            .emit_notice(&mut tx, &receiver.audience, &notice)
            .await?;
        tx.commit().await?;
        tracing::info!(%stream_id, queued, "verification requested");
        Ok(())
    }

    /// RFC 8936: settles what the receiver acknowledged or refused, then answers the next SETs
    /// (waiting a while for one unless `return_immediately`).
    pub async fn poll(
        &self,
        receiver: &Receiver,
        stream_id: Uuid,
        request: PollRequest,
    ) -> Result<PollAnswer, SignalsError> {
        let mut violations = Violations::new();
        if !(0..=MAX_POLL_EVENTS).contains(&request.max_events) {
            violations.add("maxEvents", format!("between 0 and {MAX_POLL_EVENTS}"));
        }
        for (jti, refusal) in &request.set_errs {
            if !SET_ERROR_CODES.contains(&refusal.err.as_str()) {
                violations.add(
                    format!("setErrs.{jti}.err"),
                    format!("one of {}", SET_ERROR_CODES.join(", ")),
                );
            }
            violations.text(&format!("setErrs.{jti}.description"), &refusal.description, 1000);
        }
        if !violations.is_empty() {
            return Err(violations.into());
        }
        let stream = self.stream(receiver, stream_id).await?;
        if stream.delivery.method() != crate::domain::DeliveryMethod::Poll {
            let mut v = Violations::new();
            v.add(
                "stream_id",
                "a push stream is not polled: its SETs are POSTed to its endpoint",
            );
            return Err(v.into());
        }
        let now = Utc::now();
        if !request.ack.is_empty() {
            store::acknowledge(&self.pool, stream.id, &request.ack, now).await?;
        }
        for (jti, refusal) in &request.set_errs {
            if store::refuse(&self.pool, stream.id, jti, &refusal.err, &refusal.description, now).await? {
                tracing::warn!(stream_id = %stream.id, %jti, err = %refusal.err, "receiver refused a security event token");
            }
        }
        if request.max_events == 0 {
            return Ok(PollAnswer::default());
        }
        let deadline = tokio::time::Instant::now() + LONG_POLL_WAIT;
        loop {
            let mut queued = store::queued_sets(&self.pool, stream.id, i64::from(request.max_events) + 1).await?;
            let more_available = queued.len() > request.max_events as usize;
            queued.truncate(request.max_events as usize);
            let now = tokio::time::Instant::now();
            if !queued.is_empty() || request.return_immediately || now >= deadline {
                return Ok(PollAnswer {
                    sets: queued.into_iter().map(|s| (s.jti, s.token)).collect(),
                    more_available,
                });
            }
            self.wakeups
                .wait((deadline - now).min(crate::wakeups::FALLBACK_INTERVAL))
                .await;
        }
    }

    /// Applies a security event (the consumers' path, in their transaction).
    pub async fn emit(&self, conn: &mut PgConnection, event: &SecurityEvent) -> Result<usize, SignalsError> {
        self.transmitter.emit(conn, event).await
    }
}

/// Registers a receiver with a fresh client id and secret (the secret stored as a hash).
pub async fn add_receiver(pool: &PgPool, name: &str, audience: &str) -> Result<RegisteredReceiver, SignalsError> {
    let new = NewReceiver::parse(name, audience)?;
    let receiver = Receiver {
        id: Uuid::now_v7(),
        name: new.name,
        audience: new.audience,
        client_id: format!("ssf-{}", Uuid::new_v4().simple()),
        created_at: Utc::now(),
    };
    let client_secret = random_secret();
    store::insert_receiver(pool, &receiver, &sha256(&client_secret)).await?;
    tracing::info!(receiver_id = %receiver.id, client_id = %receiver.client_id, "receiver registered");
    Ok(RegisteredReceiver {
        receiver,
        client_secret,
    })
}

/// Every event type a stream may request.
pub fn events_supported() -> Vec<String> {
    EventType::supported_uris()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_ids_are_stable_per_cause_and_stream() {
        let stream = Uuid::new_v4();
        let uri = EventType::SessionRevoked.uri();
        assert_eq!(set_id("e1", &uri, stream), set_id("e1", &uri, stream));
        assert_ne!(set_id("e1", &uri, stream), set_id("e2", &uri, stream));
        assert_ne!(set_id("e1", &uri, stream), set_id("e1", &uri, Uuid::new_v4()));
    }

    #[test]
    fn digests_compare_whole() {
        assert!(same_digest(&sha256("a"), &sha256("a")));
        assert!(!same_digest(&sha256("a"), &sha256("b")));
        assert!(!same_digest(&sha256("a"), &[]));
    }
}
