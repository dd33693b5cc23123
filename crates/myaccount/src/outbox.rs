//! `myaccount outbox list-stuck|retry|replay --service S`: a service's outbox. `list-stuck`
//! shows events that failed for a reason of their own (quarantined ones first), `retry` releases
//! quarantined events to the relay, `replay --since T` sends events again that JetStream
//! acknowledged since T (after it lost writes): consumers skip the ones they applied.

use anyhow::bail;
use chrono::{DateTime, Utc};
use platform::config::Env;
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct OutboxArgs {
    /// The service whose outbox: identity, security-info, devices, organizations, audit.
    #[arg(long, global = true, default_value = "")]
    pub service: String,
    #[command(subcommand)]
    pub command: OutboxCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum OutboxCommand {
    /// Events that failed for a reason of their own: id, created, attempts, failures, state, error.
    ListStuck,
    /// Release one quarantined event (or all with --all) for the relay to try again.
    Retry {
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<Uuid>,
        #[arg(long)]
        all: bool,
    },
    /// Send again every event sent since this time (RFC 3339, e.g. 2026-01-31T09:00:00Z).
    Replay {
        #[arg(long)]
        since: DateTime<Utc>,
    },
}

pub async fn run(env: &Env, args: OutboxArgs) -> anyhow::Result<()> {
    if args.service.is_empty() {
        bail!("--service is required");
    }
    let spec = crate::operate::service(&args.service)?;
    if spec.publishes.is_empty() {
        bail!("{} publishes nothing and has no outbox", spec.name);
    }
    let pool = crate::operate::database(env, spec).await?;
    match args.command {
        OutboxCommand::ListStuck => {
            let stuck = platform::outbox::stuck_events(&pool).await?;
            for event in &stuck {
                println!(
                    "{}\t{}\t{}\tattempts={}\tfailures={}\t{}\t{} bytes\t{}",
                    event.id,
                    event.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    event.subject,
                    event.attempts,
                    event.failures,
                    if event.quarantined_at.is_some() {
                        "quarantined"
                    } else {
                        "retrying"
                    },
                    event.payload_bytes,
                    event.last_error.as_deref().unwrap_or("-"),
                );
            }
            eprintln!("{} stuck event(s) in {}'s outbox", stuck.len(), spec.name);
        }
        OutboxCommand::Retry { id, all } => {
            let released = platform::outbox::retry_stuck(&pool, if all { None } else { id }).await?;
            eprintln!("{released} event(s) released to {}'s relay", spec.name);
        }
        OutboxCommand::Replay { since } => {
            let replayed = platform::outbox::replay_sent_since(&pool, since).await?;
            eprintln!(
                "{replayed} event(s) sent since {since} marked to be sent again by {}'s relay",
                spec.name
            );
        }
    }
    pool.close().await;
    Ok(())
}
