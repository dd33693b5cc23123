//! Keyed calls, answered once. A write that may be sent again because its answer was lost with
//! the replica that served it (sign-in, the second step, registering a device) carries an
//! idempotency key in the [`METADATA`] metadata: the gateway makes one per HTTP request, or
//! passes the client's `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header). The service
//! records the key, the method, the caller, a digest of the request and the answer in the
//! transaction of the write ([`Once::record`]), and [`answer_once`] answers the same call sent
//! again with that answer instead of doing the work twice.
//!
//! The table never holds a key or an answer in clear: rows are found by a digest of the key, and
//! the answer (a sign-in's tokens) is sealed with AES-256-GCM under a key derived from the
//! idempotency key, which only a caller presenting it again has. Rows are answered for
//! [`WINDOW`]; every process deletes older ones hourly.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tonic::{Code, Status};

use crate::auth::Caller;
use crate::crypto::Keyring;
use crate::error::{ErrorKind, FieldViolation, ServiceError, status_of, to_status};
use crate::workload::CallingWorkload;

/// The gRPC metadata carrying a call's idempotency key.
pub const METADATA: &str = "idempotency-key";

/// How long a keyed call's answer is kept and sent again: far longer than any client retries a
/// request, short enough that the table stays small.
pub const WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// Bounds of a key: a UUID is 36 characters; fewer than 16 could be guessed, which would open
/// the answer sealed under it.
const MIN_KEY_CHARS: usize = 16;
const MAX_KEY_CHARS: usize = 255;

/// An idempotency key: 16 to 255 visible ASCII characters (a UUID, when the gateway makes it).
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl std::fmt::Debug for IdempotencyKey {
    // It opens the answer sealed under it: never in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdempotencyKey(..)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be {MIN_KEY_CHARS} to {MAX_KEY_CHARS} visible ASCII characters, such as a UUID")]
pub struct InvalidKey;

impl IdempotencyKey {
    /// A fresh random key (a UUID).
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidKey> {
        let fits = (MIN_KEY_CHARS..=MAX_KEY_CHARS).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic());
        if fits {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidKey)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn derived(&self, purpose: &[u8]) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(purpose);
        hash.update([0]);
        hash.update(self.0.as_bytes());
        hash.finalize().into()
    }
}

tokio::task_local! {
    static REQUEST_KEY: IdempotencyKey;
}

/// Runs `future` with `key` as the idempotency key of the keyed calls it makes (the gateway:
/// the client's `Idempotency-Key`, so a request the client sends again is answered once too).
pub async fn with_request_key<F: Future>(key: IdempotencyKey, future: F) -> F::Output {
    REQUEST_KEY.scope(key, future).await
}

/// The key [`with_request_key`] set for the request being served, if any.
pub fn request_key() -> Option<IdempotencyKey> {
    REQUEST_KEY.try_with(Clone::clone).ok()
}

#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error("{METADATA}: {0}")]
    InvalidKey(#[from] InvalidKey),
    #[error("this idempotency key was used by someone else; send the request with a new key")]
    OtherCaller,
    #[error("this idempotency key was used for a different request; send this request with a new key")]
    OtherRequest,
    #[error("an earlier attempt of this call was answered first")]
    AnsweredBefore,
    #[error("the recorded answer cannot be opened")]
    Unreadable,
    #[error("database failed")]
    Database(#[from] sqlx::Error),
}

impl ServiceError for IdempotencyError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidKey(e) => ErrorKind::InvalidArgument(vec![FieldViolation {
                field: METADATA.to_owned(),
                description: e.to_string(),
                reason: String::new(),
            }]),
            Self::OtherCaller | Self::OtherRequest => ErrorKind::IdempotencyKeyReused(self.to_string()),
            Self::AnsweredBefore => ErrorKind::AnsweredBefore,
            Self::Unreadable | Self::Database(_) => ErrorKind::Internal,
        }
    }
}

/// What a keyed call answered: the encoded message, or the status of a refusal that committed
/// with its effects (a wrong password is counted and recorded, and answered the same again).
pub type Answer = Result<Bytes, Status>;

/// A call that carries an idempotency key: who made it, for which method, with which request.
pub struct KeyedCall {
    key_digest: [u8; 32],
    /// Seals the answer; derived from the key, which the database never holds.
    seal: Keyring,
    method: &'static str,
    caller: String,
    request_digest: Vec<u8>,
}

impl std::fmt::Debug for KeyedCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedCall")
            .field("method", &self.method)
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

impl KeyedCall {
    /// The keyed call `request` makes to `method`, when it carries a key: its caller is the
    /// person of its access token, else the workload that signed it. `INVALID_ARGUMENT` for a
    /// malformed key.
    pub fn of<M: prost::Message>(request: &tonic::Request<M>, method: &'static str) -> Result<Option<Self>, Status> {
        Self::of_request(request, method, &request.get_ref().encode_to_vec())
    }

    /// As [`KeyedCall::of`], with the request told apart by `identifying` (its encoded message
    /// without what differs on every attempt, such as a correlation id).
    pub fn of_request<M>(
        request: &tonic::Request<M>,
        method: &'static str,
        identifying: &[u8],
    ) -> Result<Option<Self>, Status> {
        let Some(raw) = request.metadata().get(METADATA) else {
            return Ok(None);
        };
        let key = raw
            .to_str()
            .map_err(|_| InvalidKey)
            .and_then(IdempotencyKey::parse)
            .map_err(|e| to_status(IdempotencyError::from(e)))?;
        let caller = if let Some(caller) = request.extensions().get::<Caller>() {
            caller_of_user(caller.user_id)
        } else if let Some(workload) = CallingWorkload::of(request) {
            format!("workload:{}", workload.name)
        } else {
            "anonymous".to_owned()
        };
        Ok(Some(Self::new(&key, method, caller, identifying)))
    }

    /// A keyed call from its parts (`request`: the encoded request message).
    pub fn new(key: &IdempotencyKey, method: &'static str, caller: String, request: &[u8]) -> Self {
        let seal = Keyring::single("idempotency", &key.derived(b"myaccount idempotent answer seal v1"));
        // Keyed by the secret derived from the idempotency key: a sign-in request holds a
        // password, and a plain digest of it could be guessed offline.
        let request_digest = seal
            .keyed_hash("idempotent request", request)
            .map(|(_, digest)| digest)
            .unwrap_or_default();
        Self {
            key_digest: key.derived(b"myaccount idempotency key digest v1"),
            seal,
            method,
            caller,
            request_digest,
        }
    }

    /// What the sealed answer is bound to: the row's method and caller.
    fn context(&self) -> Vec<u8> {
        [self.method.as_bytes(), &[0], self.caller.as_bytes()].concat()
    }

    /// The answer recorded for this call within [`WINDOW`], if any. Refused when the key was
    /// used by another caller or for another request.
    pub async fn answered(&self, conn: &mut PgConnection) -> Result<Option<Answer>, IdempotencyError> {
        let row: Option<RecordedCall> = sqlx::query_as(
            "SELECT caller, request_digest, status_code, status_message, sealed_answer \
             FROM platform.idempotent_calls \
             WHERE key_digest = $1 AND method = $2 AND created_at > now() - make_interval(secs => $3)",
        )
        .bind(&self.key_digest[..])
        .bind(self.method)
        .bind(WINDOW.as_secs_f64())
        .fetch_optional(conn)
        .await?;
        let Some(RecordedCall {
            caller,
            request_digest,
            status_code,
            status_message,
            sealed_answer,
        }) = row
        else {
            return Ok(None);
        };
        if caller != self.caller {
            return Err(IdempotencyError::OtherCaller);
        }
        if request_digest != self.request_digest {
            return Err(IdempotencyError::OtherRequest);
        }
        let opened = Bytes::from(
            self.seal
                .decrypt(&sealed_answer, &self.context())
                .map_err(|_| IdempotencyError::Unreadable)?,
        );
        Ok(Some(match status_code {
            0 => Ok(opened),
            code => Err(Status::with_details(Code::from_i32(code), status_message, opened)),
        }))
    }

    /// Records `answer` in the write's transaction. `AnsweredBefore` when an attempt of the same
    /// call committed first (the caller then rolls back: that answer stands).
    async fn record(&self, tx: &mut PgConnection, answer: &Answer) -> Result<(), IdempotencyError> {
        let (code, message, plain) = match answer {
            Ok(message) => (0, String::new(), message.clone()),
            Err(status) => (
                status.code() as i32,
                status.message().to_owned(),
                Bytes::copy_from_slice(status.details()),
            ),
        };
        let sealed = self
            .seal
            .encrypt(&plain, &self.context())
            .map_err(|_| IdempotencyError::Unreadable)?;
        // A row past the window is no longer an answer: taken over rather than kept in the way.
        let written = sqlx::query(
            "INSERT INTO platform.idempotent_calls \
                 (key_digest, method, caller, request_digest, status_code, status_message, sealed_answer) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (key_digest, method) DO UPDATE SET \
                 caller = EXCLUDED.caller, request_digest = EXCLUDED.request_digest, \
                 status_code = EXCLUDED.status_code, status_message = EXCLUDED.status_message, \
                 sealed_answer = EXCLUDED.sealed_answer, created_at = now() \
             WHERE platform.idempotent_calls.created_at <= now() - make_interval(secs => $8)",
        )
        .bind(&self.key_digest[..])
        .bind(self.method)
        .bind(&self.caller)
        .bind(&self.request_digest)
        .bind(code)
        .bind(message)
        .bind(sealed)
        .bind(WINDOW.as_secs_f64())
        .execute(tx)
        .await?
        .rows_affected();
        if written == 1 {
            Ok(())
        } else {
            Err(IdempotencyError::AnsweredBefore)
        }
    }
}

/// A row of `platform.idempotent_calls`, as [`KeyedCall::answered`] reads it.
#[derive(sqlx::FromRow)]
struct RecordedCall {
    caller: String,
    request_digest: Vec<u8>,
    status_code: i32,
    status_message: String,
    sealed_answer: Vec<u8>,
}

/// A keyed call as a use case sees it: where to record its answer, and how its domain answer
/// is encoded on the wire (by the gRPC edge, which alone knows the proto types).
pub struct Once<'a, T> {
    call: &'a KeyedCall,
    encode: fn(&T) -> Vec<u8>,
}

impl<'a, T> Once<'a, T> {
    pub fn new(call: &'a KeyedCall, encode: fn(&T) -> Vec<u8>) -> Self {
        Self { call, encode }
    }

    /// Records `answer` in the transaction of the write, before it commits.
    /// `AnsweredBefore` when a concurrent attempt of the same call committed first: roll back
    /// and return the error, and [`answer_once`] sends the first answer.
    pub async fn record<E: ServiceError>(
        &self,
        tx: &mut PgConnection,
        answer: &Result<T, E>,
    ) -> Result<(), IdempotencyError> {
        let answer = match answer {
            Ok(value) => Ok(Bytes::from((self.encode)(value))),
            Err(e) => Err(status_of(e)),
        };
        self.call.record(tx, &answer).await
    }
}

/// Answers a call once: with the recorded answer when `call` was answered before; otherwise
/// by running `work`, which records its answer with [`Once::record`]; and when `work` finds
/// that a concurrent attempt committed first, with that attempt's answer. Without a key,
/// `work` alone.
pub async fn answer_once<M, E, F>(
    pool: &PgPool,
    call: Option<&KeyedCall>,
    work: F,
) -> Result<tonic::Response<M>, Status>
where
    M: prost::Message + Default,
    E: ServiceError,
    F: Future<Output = Result<M, E>>,
{
    let Some(call) = call else {
        return work.await.map(tonic::Response::new).map_err(to_status);
    };
    if let Some(answer) = recorded(pool, call).await? {
        return reply(answer);
    }
    match work.await {
        Ok(message) => Ok(tonic::Response::new(message)),
        // After a failure of the infrastructure (the database away) a look-up would only wait
        // for it again, past the caller's deadline: the caller hears "unavailable" at once.
        Err(e) if matches!(e.kind(), ErrorKind::Internal | ErrorKind::Unavailable(_)) => Err(to_status(e)),
        // Not only `AnsweredBefore`: an attempt that committed after the look-up above may also
        // have changed what this one found (a challenge already answered), and its answer is
        // the one to give.
        Err(e) => match recorded(pool, call).await {
            Ok(Some(answer)) => reply(answer),
            Ok(None) | Err(_) => Err(to_status(e)),
        },
    }
}

async fn recorded(pool: &PgPool, call: &KeyedCall) -> Result<Option<Answer>, Status> {
    let found = async {
        let mut conn = pool.acquire().await?;
        call.answered(&mut conn).await
    };
    found.await.map_err(to_status)
}

fn reply<M: prost::Message + Default>(answer: Answer) -> Result<tonic::Response<M>, Status> {
    let message = M::decode(answer?).map_err(|_| to_status(IdempotencyError::Unreadable))?;
    Ok(tonic::Response::new(message))
}

/// Deletes the calls recorded longer ago than [`WINDOW`]; how many.
pub async fn forget_expired(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM platform.idempotent_calls WHERE created_at <= now() - make_interval(secs => $1)")
            .bind(WINDOW.as_secs_f64())
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}

/// Deletes the calls `user_id` made with their access token (erasure). Sign-ins are made by the
/// gateway on nobody's token: their answers, sealed under keys the database never held, expire
/// with the window.
pub async fn forget_calls_of(conn: &mut PgConnection, user_id: uuid::Uuid) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM platform.idempotent_calls WHERE caller = $1")
        .bind(caller_of_user(user_id))
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

fn caller_of_user(user_id: uuid::Uuid) -> String {
    format!("user:{user_id}")
}

/// How often [`forget_expired_hourly`] runs.
const FORGET_EVERY: Duration = Duration::from_secs(60 * 60);

/// Forgets expired keyed calls every hour until `shutdown` (every service runs it; replicas
/// deleting the same rows do no harm).
pub async fn forget_expired_hourly(pool: PgPool, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(FORGET_EVERY);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        let forgotten = async {
            let mut conn = pool.acquire().await?;
            forget_expired(&mut conn).await
        };
        match forgotten.await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(forgotten = n, "expired idempotent calls deleted"),
            Err(e) => tracing::warn!(error = %e, "deleting expired idempotent calls failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_visible_ascii() {
        assert!(IdempotencyKey::parse(&uuid::Uuid::new_v4().to_string()).is_ok());
        let too_long = "k".repeat(256);
        for bad in [
            "",
            "short",
            "sixteen chars ok",
            "ünïcode-key-0123456789",
            too_long.as_str(),
        ] {
            assert_eq!(IdempotencyKey::parse(bad), Err(InvalidKey), "{bad:?}");
        }
        assert!(IdempotencyKey::parse("sixteen-chars-ok").is_ok());
        assert_eq!(format!("{:?}", IdempotencyKey::generate()), "IdempotencyKey(..)");
    }

    #[test]
    fn a_key_digest_and_seal_are_the_keys_alone() {
        let key = IdempotencyKey::generate();
        let a = KeyedCall::new(&key, "SignIn", "workload:gateway".into(), b"request");
        let b = KeyedCall::new(&key, "SignIn", "workload:gateway".into(), b"request");
        assert_eq!(a.key_digest, b.key_digest);
        assert_eq!(a.request_digest, b.request_digest);
        let other = KeyedCall::new(
            &IdempotencyKey::generate(),
            "SignIn",
            "workload:gateway".into(),
            b"request",
        );
        assert_ne!(a.key_digest, other.key_digest);
        assert_ne!(a.request_digest, other.request_digest, "the request digest is keyed");
        let sealed = a.seal.encrypt(b"tokens", &a.context()).expect("sealed");
        assert_eq!(b.seal.decrypt(&sealed, &b.context()).expect("opened"), b"tokens");
        assert!(other.seal.decrypt(&sealed, &other.context()).is_err());
    }
}
