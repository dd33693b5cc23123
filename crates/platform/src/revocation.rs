//! One end of access, everywhere: the revocation feed.
//!
//! Whoever ends access (identity: a session, a person's sessions, a device's sessions, an
//! organization left, a disabled or deleted person) writes an `AccessRevoked` event to its
//! outbox in the transaction of the change. Every process keeps the current set in memory
//! ([`RevocationSet`]), fed from the `MYACCOUNT_REVOCATIONS` stream by an ordered consumer that
//! replays the stream (it keeps only [`HORIZON`] of events: as long as a refused token can live)
//! and then follows it. The auth layer refuses an access token that the set names. A process
//! that cannot know the set is current (not loaded yet, NATS away, the feed behind) says so:
//! it is not ready, and sensitive operations answer `UNAVAILABLE` instead of guessing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::consumer::pull::OrderedConfig;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use myaccount_proto::events::v1::AccessRevoked;
use prost::Message;
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Status};
use tonic_types::StatusExt;
use uuid::Uuid;

use crate::error::{ERROR_DOMAIN, revocation_status_unknown};
use crate::events::{EventBus, Stream};
use crate::outbox::{OutgoingEvent, publish_in_tx};
pub use crate::revocation_reason::{HORIZON, REVOCATION_STATUS_UNKNOWN, RevocationReason, SESSION_REVOKED};

/// How long the feed may be unconfirmed before this process stops vouching for it.
pub const DEFAULT_MAX_LAG: Duration = Duration::from_secs(3);

/// One end of access, as written to the outbox.
#[derive(Debug, Clone)]
pub struct Revocation {
    pub user_id: Uuid,
    /// The sessions that ended.
    pub sessions: Vec<Uuid>,
    pub reason: RevocationReason,
    /// The disabled device, when one was.
    pub device_id: Option<String>,
    pub at: DateTime<Utc>,
}

/// Writes `revocation` to the outbox in the caller's transaction: it reaches every process's
/// set after commit, and never if the change rolls back.
pub async fn revoke_in_tx(conn: &mut PgConnection, revocation: &Revocation) -> Result<(), sqlx::Error> {
    let all_sessions = revocation.reason.ends_every_session();
    if revocation.sessions.is_empty() && !all_sessions {
        return Ok(());
    }
    let event = AccessRevoked {
        user_id: revocation.user_id.to_string(),
        session_ids: revocation.sessions.iter().map(Uuid::to_string).collect(),
        all_sessions,
        reason: revocation.reason.code().to_owned(),
        time: Some(myaccount_proto::timestamp(revocation.at)),
        device_id: revocation.device_id.clone().unwrap_or_default(),
    };
    publish_in_tx(conn, &OutgoingEvent::new(Uuid::now_v7(), &event)).await
}

/// The revocation code carried by a `SESSION_REVOKED` status (for clients such as the gateway).
pub fn revoked_reason(status: &Status) -> Option<String> {
    let details = status.get_error_details();
    let info = details.error_info()?;
    (status.code() == Code::Unauthenticated && info.reason == SESSION_REVOKED && info.domain == ERROR_DOMAIN)
        .then(|| info.metadata.get("reason").cloned().unwrap_or_default())
}

/// Whether a status is a sensitive operation refused while the feed is not known current.
pub fn is_status_unknown(status: &Status) -> bool {
    status.code() == Code::Unavailable
        && status
            .get_error_details()
            .error_info()
            .is_some_and(|info| info.reason == REVOCATION_STATUS_UNKNOWN && info.domain == ERROR_DOMAIN)
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    reason: RevocationReason,
    at: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct Entries {
    sessions: HashMap<Uuid, Entry>,
    /// The latest "every token up to here" of each person.
    people: HashMap<Uuid, Entry>,
}

/// The revocations in force, as this process knows them.
#[derive(Debug)]
pub struct RevocationSet {
    entries: RwLock<Entries>,
    /// Set once the stream has been read up to where it stood when following began.
    loaded: AtomicBool,
    /// Milliseconds since `epoch` when the set was last known to hold everything published.
    confirmed_at_ms: AtomicU64,
    epoch: Instant,
    max_lag: Duration,
}

impl Default for RevocationSet {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_LAG)
    }
}

impl RevocationSet {
    pub fn new(max_lag: Duration) -> Self {
        Self {
            entries: RwLock::default(),
            loaded: AtomicBool::new(false),
            confirmed_at_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            max_lag,
        }
    }

    /// Why the caller's token is refused, if it is: its session was revoked, or every token of
    /// the person issued before the revocation was.
    pub fn refusal(
        &self,
        user_id: Uuid,
        session_id: Option<Uuid>,
        issued_at: DateTime<Utc>,
    ) -> Option<RevocationReason> {
        let entries = self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(entry) = session_id.and_then(|sid| entries.sessions.get(&sid)) {
            return Some(entry.reason);
        }
        // `iat` has whole seconds: a token of the revocation's own second passes this rule (it
        // may be a sign-in just after it); its session, if it was ended, is named above.
        entries
            .people
            .get(&user_id)
            .filter(|entry| {
                let (issued, revoked) = (issued_at.timestamp(), entry.at.timestamp());
                // A deleted or disabled account signs nobody in afterwards: its second goes too.
                let account_gone = matches!(
                    entry.reason,
                    RevocationReason::AccountDeleted | RevocationReason::AccountDisabled
                );
                issued < revoked || (account_gone && issued == revoked)
            })
            .map(|entry| entry.reason)
    }

    /// Whether this process knows every revocation published up to a moment ago.
    pub fn is_current(&self) -> bool {
        if !self.loaded.load(Ordering::Acquire) {
            return false;
        }
        let confirmed = Duration::from_millis(self.confirmed_at_ms.load(Ordering::Acquire));
        self.epoch.elapsed().saturating_sub(confirmed) <= self.max_lag
    }

    /// `UNAVAILABLE` with reason [`REVOCATION_STATUS_UNKNOWN`] unless the set is current: for
    /// the sensitive operations, which must not run on a token that may have been revoked.
    pub fn require_current(&self) -> Result<(), Status> {
        if self.is_current() {
            Ok(())
        } else {
            Err(revocation_status_unknown())
        }
    }

    fn confirm_current(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.confirmed_at_ms.store(now, Ordering::Release);
    }

    /// Takes in one revocation as the feed delivers it.
    pub fn record(&self, event: &AccessRevoked) -> Result<(), String> {
        let user_id = myaccount_proto::parse_id("user_id", &event.user_id).map_err(|e| e.to_string())?;
        let reason = RevocationReason::from_code(&event.reason).unwrap_or(RevocationReason::SignedOut);
        let at = myaccount_proto::optional_datetime(event.time.as_ref()).ok_or("time is missing")?;
        let entry = Entry { reason, at };
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if event.all_sessions {
            let latest = entries.people.entry(user_id).or_insert(entry);
            if latest.at < at {
                *latest = entry;
            }
        }
        for raw in &event.session_ids {
            let session_id = myaccount_proto::parse_id("session_ids", raw).map_err(|e| e.to_string())?;
            entries.sessions.insert(session_id, entry);
        }
        Ok(())
    }

    /// Forgets revocations older than [`HORIZON`]: every token they refuse has expired.
    fn prune(&self, now: DateTime<Utc>) {
        let Ok(horizon) = chrono::Duration::from_std(HORIZON) else {
            return;
        };
        let cutoff = now - horizon;
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.sessions.retain(|_, e| e.at > cutoff);
        entries.people.retain(|_, e| e.at > cutoff);
    }

    /// Keeps the set current until `shutdown`: replays the stream, then follows it, confirming
    /// every half second that nothing newer was published. Reconnects with backoff.
    pub async fn follow(self: Arc<Self>, bus: EventBus, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(200);
        loop {
            match self.follow_once(&bus, &shutdown).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "revocation feed interrupted; reconnecting");
                    metrics::counter!("revocation_feed_interruptions_total").increment(1);
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    async fn follow_once(&self, bus: &EventBus, shutdown: &CancellationToken) -> Result<(), String> {
        bus.ensure_streams(&[Stream::Revocations])
            .await
            .map_err(|e| e.to_string())?;
        let stream_name = bus.naming().stream(Stream::Revocations);
        let mut stream = bus
            .jetstream()
            .get_stream(&stream_name)
            .await
            .map_err(|e| e.to_string())?;
        let consumer = stream
            .create_consumer(OrderedConfig {
                deliver_policy: DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
        let mut applied: u64 = 0;
        let mut published = stream.info().await.map_err(|e| e.to_string())?.state.last_sequence;
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if applied >= published {
                if !self.loaded.swap(true, Ordering::AcqRel) {
                    tracing::info!("revocation feed loaded");
                }
                self.confirm_current();
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                message = messages.next() => {
                    let message = message.ok_or("the feed ended")?.map_err(|e| e.to_string())?;
                    if let Ok(info) = message.info() {
                        applied = applied.max(info.stream_sequence);
                    }
                    match AccessRevoked::decode(message.payload.clone()) {
                        Ok(event) => {
                            if let Err(e) = self.record(&event) {
                                tracing::error!(error = %e, "malformed revocation ignored");
                            }
                        }
                        Err(e) => tracing::error!(error = %e, "undecodable revocation ignored"),
                    }
                }
                _ = tick.tick() => {
                    // What has been published by now; the set is current once it has all of it.
                    published = stream.info().await.map_err(|e| e.to_string())?.state.last_sequence;
                    self.prune(Utc::now());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Caller;

    fn caller(user_id: Uuid, session_id: Uuid, issued_at: DateTime<Utc>) -> Caller {
        Caller {
            user_id,
            session_id: Some(session_id),
            organization_id: None,
            auth_time: issued_at,
            issued_at,
            amr: vec!["pwd".into()],
            scopes: vec![],
            revocations_current: true,
        }
    }

    fn event(user_id: Uuid, sessions: &[Uuid], all: bool, at: DateTime<Utc>) -> AccessRevoked {
        AccessRevoked {
            user_id: user_id.to_string(),
            session_ids: sessions.iter().map(Uuid::to_string).collect(),
            all_sessions: all,
            reason: "signed_out_everywhere".into(),
            time: Some(myaccount_proto::timestamp(at)),
            device_id: String::new(),
        }
    }

    #[test]
    fn a_revoked_session_is_refused_and_others_are_not() {
        let set = RevocationSet::default();
        let (user, revoked, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let now = Utc::now();
        set.record(&event(user, &[revoked], false, now)).expect("applies");
        assert_eq!(
            caller(user, revoked, now).refused_by(&set),
            Some(RevocationReason::SignedOutEverywhere)
        );
        assert_eq!(caller(user, other, now).refused_by(&set), None);
    }

    #[test]
    fn every_earlier_token_of_a_person_is_refused_and_a_later_sign_in_is_not() {
        let set = RevocationSet::default();
        let user = Uuid::new_v4();
        let at = Utc::now();
        set.record(&event(user, &[], true, at)).expect("applies");
        let before = at - chrono::Duration::seconds(5);
        let after = at + chrono::Duration::seconds(2);
        assert!(caller(user, Uuid::new_v4(), before).refused_by(&set).is_some());
        assert_eq!(caller(user, Uuid::new_v4(), after).refused_by(&set), None);
        assert_eq!(caller(Uuid::new_v4(), Uuid::new_v4(), before).refused_by(&set), None);
    }

    #[test]
    fn old_revocations_are_forgotten_and_a_set_is_not_current_before_it_loads() {
        let set = RevocationSet::default();
        let user = Uuid::new_v4();
        let long_ago = Utc::now() - chrono::Duration::hours(3);
        set.record(&event(user, &[], true, long_ago)).expect("applies");
        set.prune(Utc::now());
        assert_eq!(caller(user, Uuid::new_v4(), long_ago).refused_by(&set), None);
        assert!(!set.is_current());
        assert_eq!(set.require_current().expect_err("unknown").code(), Code::Unavailable);
        set.loaded.store(true, Ordering::Release);
        set.confirm_current();
        assert!(set.is_current());
    }

    #[test]
    fn statuses_carry_the_reason_to_clients() {
        let revoked = crate::error::revoked_status(RevocationReason::DeviceDisabled);
        assert_eq!(revoked.code(), Code::Unauthenticated);
        assert_eq!(revoked_reason(&revoked).as_deref(), Some("device_disabled"));
        assert_eq!(revoked_reason(&Status::unauthenticated("no token")), None);
        let unknown = crate::error::revocation_status_unknown();
        assert!(is_status_unknown(&unknown));
        assert!(!is_status_unknown(&Status::unavailable("down")));
    }
}
