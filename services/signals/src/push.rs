//! Push delivery (RFC 8935): each queued SET is POSTed as `application/secevent+jwt` to its
//! stream's endpoint, oldest first, one at a time per stream, and leaves the queue on `202`.
//! A failure that may pass (the receiver down, a 5xx, a key or credentials it does not accept
//! yet) holds the stream and retries it with exponential backoff for as long as it takes; a SET
//! the receiver refuses for its own sake (`invalid_request`, `invalid_issuer`,
//! `invalid_audience`) is taken off the queue with its error, since sending it again would not
//! change the answer.

use std::time::Duration;

use chrono::Utc;
use serde::Deserialize;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::domain::push_error_is_retryable;
use crate::store::{self, PushTarget};
use crate::wakeups::{FALLBACK_INTERVAL, Wakeups};

/// The media type of a pushed SET.
pub const SET_MEDIA_TYPE: &str = "application/secevent+jwt";
/// Push streams one round claims at most.
const STREAMS_PER_ROUND: i64 = 16;
/// SETs pushed to one stream in a round before it is given back (others get their turn).
const SETS_PER_STREAM_ROUND: i64 = 100;

#[derive(Debug, Clone)]
pub struct PushSettings {
    /// How long one POST may take.
    pub timeout: Duration,
    /// The first retry's delay; each further failure doubles it, up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for PushSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
        }
    }
}

impl PushSettings {
    /// The delay after the `failures`-th failure in a row (1 for the first).
    pub fn backoff(&self, failures: i32) -> Duration {
        let doublings = u32::try_from(failures.saturating_sub(1)).unwrap_or(0).min(20);
        self.initial_backoff
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max_backoff)
    }

    /// How long a pusher holds a stream: longer than a round can take.
    fn lease(&self) -> Duration {
        self.timeout
            .saturating_mul(SETS_PER_STREAM_ROUND as u32 / 10)
            .max(Duration::from_secs(60))
    }
}

/// What a receiver answered to one pushed SET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    Accepted,
    /// Refused for the SET's own sake: off the queue, with the receiver's error.
    Refused {
        err: String,
        description: String,
    },
    /// Try again later.
    Failed(String),
}

/// RFC 8935 section 2.4's error body.
#[derive(Debug, Deserialize)]
struct PushError {
    err: String,
    #[serde(default)]
    description: String,
}

/// Reads a receiver's answer to a push.
pub fn outcome(status: u16, body: &[u8]) -> PushOutcome {
    if status == 202 {
        return PushOutcome::Accepted;
    }
    match serde_json::from_slice::<PushError>(body) {
        Ok(e) if status == 400 && !push_error_is_retryable(&e.err) => PushOutcome::Refused {
            err: e.err,
            description: e.description,
        },
        Ok(e) => PushOutcome::Failed(format!("status {status}, err {}", e.err)),
        Err(_) => PushOutcome::Failed(format!("status {status}")),
    }
}

pub struct Pusher {
    pool: PgPool,
    client: reqwest::Client,
    settings: PushSettings,
    wakeups: Wakeups,
}

impl Pusher {
    pub fn new(pool: PgPool, settings: PushSettings, wakeups: Wakeups) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            // A receiver's endpoint is its own; never follow it elsewhere with a SET.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            pool,
            client,
            settings,
            wakeups,
        })
    }

    /// Pushes until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let wait = match self.round().await {
                Ok(true) => Duration::ZERO,
                Ok(false) => self.idle_wait().await,
                Err(e) => {
                    tracing::warn!(error = %e, "push round failed; trying again shortly");
                    FALLBACK_INTERVAL
                }
            };
            if wait.is_zero() {
                if shutdown.is_cancelled() {
                    return;
                }
                continue;
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wakeups.wait(wait) => {}
            }
        }
    }

    /// Until the next stream falls due, at most the fallback interval.
    async fn idle_wait(&self) -> Duration {
        match store::next_push_due(&self.pool).await {
            Ok(Some(due)) => (due - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(FALLBACK_INTERVAL),
            _ => FALLBACK_INTERVAL,
        }
    }

    /// One round over the due streams; whether there was anything to do.
    async fn round(&self) -> Result<bool, sqlx::Error> {
        let targets = store::claim_push_targets(&self.pool, self.settings.lease(), STREAMS_PER_ROUND).await?;
        if targets.is_empty() {
            return Ok(false);
        }
        let rounds = targets.into_iter().map(|target| self.push_stream(target));
        for result in futures::future::join_all(rounds).await {
            result?;
        }
        Ok(true)
    }

    /// Pushes one stream's queued SETs in order until one fails, then gives the stream back.
    async fn push_stream(&self, target: PushTarget) -> Result<(), sqlx::Error> {
        let queued = store::queued_sets(&self.pool, target.stream_id, SETS_PER_STREAM_ROUND).await?;
        for set in queued {
            match self.push(&target, &set.token).await {
                PushOutcome::Accepted => {
                    store::mark_pushed(&self.pool, set.seq, Utc::now()).await?;
                    metrics::counter!("signals_sets_delivered_total", "method" => "push").increment(1);
                }
                PushOutcome::Refused { err, description } => {
                    tracing::warn!(stream_id = %target.stream_id, jti = %set.jti, %err, "receiver refused a pushed security event token");
                    store::refuse(&self.pool, target.stream_id, &set.jti, &err, &description, Utc::now()).await?;
                    metrics::counter!("signals_sets_refused_total", "err" => err).increment(1);
                }
                PushOutcome::Failed(why) => {
                    let failures = target.failures.saturating_add(1);
                    let delay = self.settings.backoff(failures);
                    tracing::warn!(stream_id = %target.stream_id, failures, retry_in = ?delay, %why, "push failed; the stream waits and tries again");
                    metrics::counter!("signals_push_failures_total").increment(1);
                    let retry_at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
                    return store::release_push_target(&self.pool, target.stream_id, Some(retry_at)).await;
                }
            }
        }
        store::release_push_target(&self.pool, target.stream_id, None).await
    }

    async fn push(&self, target: &PushTarget, token: &str) -> PushOutcome {
        let mut request = self
            .client
            .post(&target.endpoint_url)
            .header(reqwest::header::CONTENT_TYPE, SET_MEDIA_TYPE)
            .header(reqwest::header::ACCEPT, "application/json")
            .body(token.to_owned());
        if let Some(authorization) = &target.authorization_header {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return PushOutcome::Failed(format!("no answer: {e}")),
        };
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap_or_default();
        outcome(status, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_bound() {
        let settings = PushSettings::default();
        assert_eq!(settings.backoff(1), Duration::from_secs(1));
        assert_eq!(settings.backoff(2), Duration::from_secs(2));
        assert_eq!(settings.backoff(4), Duration::from_secs(8));
        assert_eq!(settings.backoff(60), Duration::from_secs(300));
    }

    #[test]
    fn answers_are_read_as_rfc_8935_says() {
        assert_eq!(outcome(202, b""), PushOutcome::Accepted);
        assert_eq!(
            outcome(400, br#"{"err":"invalid_audience","description":"not us"}"#),
            PushOutcome::Refused {
                err: "invalid_audience".into(),
                description: "not us".into()
            }
        );
        assert!(matches!(
            outcome(400, br#"{"err":"invalid_key"}"#),
            PushOutcome::Failed(_)
        ));
        assert!(matches!(
            outcome(401, br#"{"err":"authentication_failed"}"#),
            PushOutcome::Failed(_)
        ));
        assert!(matches!(outcome(503, b"busy"), PushOutcome::Failed(_)));
        assert!(
            matches!(outcome(200, b""), PushOutcome::Failed(_)),
            "only 202 is success"
        );
    }
}
