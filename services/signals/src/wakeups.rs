//! Wakes the pusher and long polls when a SET is queued anywhere: Postgres announces each one at
//! the commit that queued it (`LISTEN`/`NOTIFY`), so every replica hears it, whichever consumed
//! the cause. Waiters also look again on their own after a while, so a lost connection costs
//! latency, never a SET.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::store::NEW_SETS_CHANNEL;

/// How long a waiter waits without an announcement before it looks anyway.
pub const FALLBACK_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Default)]
pub struct Wakeups {
    notify: Arc<Notify>,
}

impl Wakeups {
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns when a SET may have been queued since the call, or after `at_most`.
    pub async fn wait(&self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.notify.notified()).await;
    }

    /// Wakes every waiter of this process.
    pub fn wake(&self) {
        self.notify.notify_waiters();
    }

    /// Listens for announcements until `shutdown`, reconnecting after a failure.
    pub async fn listen(self, pool: PgPool, shutdown: CancellationToken) {
        loop {
            let outcome = tokio::select! {
                () = shutdown.cancelled() => return,
                outcome = self.listen_once(&pool) => outcome,
            };
            if let Err(e) = outcome {
                tracing::warn!(error = %e, "listening for queued security event tokens failed; listening again shortly");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(FALLBACK_INTERVAL) => {}
            }
        }
    }

    async fn listen_once(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(NEW_SETS_CHANNEL).await?;
        // Whatever was queued while nobody listened is found by the waiters' next look.
        self.wake();
        loop {
            listener.recv().await?;
            self.wake();
        }
    }
}
