//! `myaccount bench signals`: how long after a cause commits its Security Event Token reaches a
//! push receiver on the same machine, beside a bare JetStream publish -> consume round trip on
//! the same NATS measured in the same run. The cause is a session ended from the sessions page
//! (`DELETE /api/v1/me/sessions/{id}` through the gateway), one at a time; the receiver is an
//! HTTP endpoint inside the bench that answers `202`, subscribed to every person's
//! `session-revoked` by push.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use platform::events::NatsSettings;
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{OwnSystem, Run, add_sessions, percentile, sorted};

#[derive(Debug, Clone, clap::Args)]
pub struct SignalsArgs {
    /// Sessions ended, one at a time, each a cause of one SET.
    #[arg(long, default_value_t = 300)]
    pub causes: usize,
    #[arg(long, default_value = crate::demo::PAGES_BENCH_USER.0)]
    pub username: String,
    #[arg(long, default_value = crate::demo::PAGES_BENCH_USER.1)]
    pub password: String,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pub postgres: String,
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats: String,
}

/// The goal of issue 20: a cause's SET at a push receiver within a second of its commit, p99.
const GOAL: Duration = Duration::from_secs(1);
const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
/// How long one SET may take before the bench gives up.
const SET_DEADLINE: Duration = Duration::from_secs(30);

pub async fn signals(args: SignalsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.causes > 0, "--causes must be at least 1");
    let mut run = Run::new(&args.postgres, &args.nats);
    let result = async {
        let own = OwnSystem::start(&mut run).await?;
        let measured = measure(&args, &own, &run.nats).await;
        own.system.stop().await?;
        measured
    }
    .await;
    run.clean_up().await;
    result
}

/// SETs the bench's receiver got: when each session's `session-revoked` arrived.
#[derive(Default)]
struct Arrivals {
    by_session: Mutex<HashMap<String, Instant>>,
    arrived: Notify,
}

impl Arrivals {
    async fn wait_for(&self, session_id: &str, deadline: Instant) -> anyhow::Result<Instant> {
        loop {
            // Registered before looking, so an arrival between the look and the wait wakes it.
            let arrived = self.arrived.notified();
            if let Some(at) = self.by_session.lock().await.remove(session_id) {
                return Ok(at);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "no session-revoked SET for session {session_id} within {} s",
                SET_DEADLINE.as_secs()
            );
            let _ = tokio::time::timeout_at(deadline.into(), arrived).await;
        }
    }
}

/// RFC 8935: the receiver takes a SET with `202`. It reads the claims without verifying the
/// signature (the e2e tests verify; here the arrival time is what counts).
async fn receive(State(arrivals): State<Arc<Arrivals>>, body: Bytes) -> StatusCode {
    let at = Instant::now();
    let Some(session) = session_of(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    arrivals.by_session.lock().await.insert(session, at);
    arrivals.arrived.notify_waiters();
    StatusCode::ACCEPTED
}

/// The session id of a `session-revoked` SET.
fn session_of(set: &[u8]) -> Option<String> {
    let payload = std::str::from_utf8(set).ok()?.split('.').nth(1)?;
    let claims: Value =
        serde_json::from_slice(&data_encoding::BASE64URL_NOPAD.decode(payload.as_bytes()).ok()?).ok()?;
    claims["events"].get(SESSION_REVOKED)?;
    claims["sub_id"]["session"]["id"].as_str().map(str::to_owned)
}

async fn measure(args: &SignalsArgs, own: &OwnSystem, nats: &NatsSettings) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let gateway = own.gateway.as_str();

    let arrivals = Arc::new(Arrivals::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}/ssf", listener.local_addr()?);
    let app = axum::Router::new()
        .route("/ssf", axum::routing::post(receive))
        .with_state(arrivals.clone());
    let stop_receiver = CancellationToken::new();
    let stopped = stop_receiver.clone();
    let receiver = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stopped.cancelled().await })
            .await
    });
    let result = async {
        subscribe(&client, gateway, own, &endpoint).await?;
        let baseline = super::revocation::bare_message_trip(nats, args.causes).await?;
        let token = sign_in(&client, gateway, args).await?;
        let sessions = other_sessions(own, args).await?;
        let trips = end_sessions(&client, gateway, &token, &sessions, &arrivals).await?;
        report(args, baseline, trips);
        Ok(())
    }
    .await;
    stop_receiver.cancel();
    let _ = receiver.await;
    result
}

/// Registers the bench's receiver as the operator would and creates its push stream for every
/// person's `session-revoked`, as a relying party would through the gateway.
async fn subscribe(client: &reqwest::Client, gateway: &str, own: &OwnSystem, endpoint: &str) -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect(&own.signals_database.url).await?;
    let registered = myaccount_signals::service::add_receiver(&pool, "Bench receiver", "https://bench.example.com")
        .await
        .context("registering the bench's receiver")?;
    pool.close().await;
    let token: Value = client
        .post(format!("{gateway}/oauth2/token"))
        .basic_auth(&registered.receiver.client_id, Some(&registered.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .error_for_status()
        .context("the receiver's token")?
        .json()
        .await?;
    let access_token = token["access_token"].as_str().context("an access_token")?;
    client
        .post(format!("{gateway}/ssf/streams"))
        .bearer_auth(access_token)
        .json(&json!({
            "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": endpoint},
            "events_requested": [SESSION_REVOKED],
            "default_subjects": "ALL",
        }))
        .send()
        .await?
        .error_for_status()
        .context("creating the push stream")?;
    Ok(())
}

async fn sign_in(client: &reqwest::Client, gateway: &str, args: &SignalsArgs) -> anyhow::Result<String> {
    let response = client
        .post(format!("{gateway}/api/v1/auth/sign-in"))
        .json(&json!({"username": args.username, "password": args.password}))
        .send()
        .await?;
    anyhow::ensure!(response.status().is_success(), "sign-in answered {}", response.status());
    let body: Value = response.json().await?;
    body["accessToken"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("{} needs a second factor; choose a person without one", args.username))
}

/// `--causes` sessions of the bench person besides the one it signed in with, written straight
/// into identity's database (signing in that often would measure argon2id).
async fn other_sessions(own: &OwnSystem, args: &SignalsArgs) -> anyhow::Result<Vec<String>> {
    let count = i32::try_from(args.causes).context("--causes is too large")?;
    let mut conn = sqlx::PgConnection::connect(&own.identity_database.url).await?;
    let before: Vec<Uuid> = sessions_of(&mut conn, &args.username).await?;
    add_sessions(&own.identity_database, &args.username, count).await?;
    let after = sessions_of(&mut conn, &args.username).await?;
    Ok(after
        .into_iter()
        .filter(|id| !before.contains(id))
        .map(|id| id.to_string())
        .collect())
}

async fn sessions_of(conn: &mut sqlx::PgConnection, username: &str) -> anyhow::Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.user_principal_name = lower($1)",
    )
    .bind(username)
    .fetch_all(conn)
    .await?)
}

/// Milliseconds from each end's answer (its commit came before it) to its SET's arrival.
async fn end_sessions(
    client: &reqwest::Client,
    gateway: &str,
    token: &str,
    sessions: &[String],
    arrivals: &Arrivals,
) -> anyhow::Result<Vec<f64>> {
    let mut trips = Vec::with_capacity(sessions.len());
    for session in sessions {
        let ended = client
            .delete(format!("{gateway}/api/v1/me/sessions/{session}"))
            .bearer_auth(token)
            .send()
            .await?;
        anyhow::ensure!(
            ended.status() == reqwest::StatusCode::NO_CONTENT,
            "ending a session answered {}",
            ended.status()
        );
        let committed = Instant::now();
        let arrived = arrivals.wait_for(session, committed + SET_DEADLINE).await?;
        trips.push(arrived.saturating_duration_since(committed).as_secs_f64() * 1000.0);
    }
    Ok(trips)
}

fn report(args: &SignalsArgs, baseline: Vec<f64>, trips: Vec<f64>) {
    let baseline = sorted(baseline);
    let trips = sorted(trips);
    let max = |v: &[f64]| v.last().copied().unwrap_or(0.0);
    println!(
        "\nmyaccount bench signals ({} sessions ended, one at a time; SETs pushed to a receiver on this machine)\n",
        args.causes
    );
    println!("| what | p50 ms | p99 ms | max ms |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| baseline: bare JetStream publish -> consume | {:.1} | {:.1} | {:.1} |",
        percentile(&baseline, 0.5),
        percentile(&baseline, 0.99),
        max(&baseline)
    );
    let p99 = percentile(&trips, 0.99);
    println!(
        "| session ended -> its session-revoked SET at the receiver | {:.1} | {:.1} | {:.1} |",
        percentile(&trips, 0.5),
        p99,
        max(&trips)
    );
    let met = p99 <= GOAL.as_secs_f64() * 1000.0;
    println!(
        "\ngoal: the SET at the receiver within {} ms of its cause's commit at p99: {} ({:.1} ms; {:.1}x the bare message's p99)",
        GOAL.as_millis(),
        if met { "met" } else { "NOT met" },
        p99,
        p99 / percentile(&baseline, 0.99).max(0.001)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_session_of_a_session_revoked_set_only() {
        let encode = |claims: &Value| {
            format!(
                "e30.{}.sig",
                data_encoding::BASE64URL_NOPAD.encode(claims.to_string().as_bytes())
            )
        };
        let revoked = json!({
            "events": {SESSION_REVOKED: {}},
            "sub_id": {"format": "complex", "session": {"format": "opaque", "id": "s-1"}},
        });
        assert_eq!(session_of(encode(&revoked).as_bytes()).as_deref(), Some("s-1"));
        let other = json!({
            "events": {"https://schemas.openid.net/secevent/caep/event-type/credential-change": {}},
            "sub_id": {"format": "complex", "session": {"format": "opaque", "id": "s-1"}},
        });
        assert_eq!(session_of(encode(&other).as_bytes()), None);
        assert_eq!(session_of(b"not a jwt"), None);
    }
}
