//! `myaccount dead-letters list|show|replay|discard --service S`: the events a service's
//! consumers gave up on (`myaccount.deadletter.v1.<consumer>`). A replay publishes the event
//! again on its original subject with its original event id, so every consumer applies it once.

use anyhow::bail;
use platform::config::Env;
use platform::deadletter::{DeadLetter, DeadLetters};

#[derive(Debug, clap::Args)]
pub struct DeadLettersArgs {
    /// The service whose consumers gave up: identity, security-info, devices, organizations, audit.
    #[arg(long, global = true, default_value = "")]
    pub service: String,
    #[command(subcommand)]
    pub command: DeadLettersCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum DeadLettersCommand {
    /// One line per dead letter: sequence, when, consumer, event type and id, reason.
    List,
    /// Every header and the payload's size of one dead letter.
    Show { sequence: u64 },
    /// Publish one dead letter (or all of the service's with --all) again, then delete it.
    Replay {
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        sequence: Option<u64>,
        #[arg(long)]
        all: bool,
    },
    /// Delete one dead letter for good.
    Discard { sequence: u64 },
}

pub async fn run(env: &Env, args: DeadLettersArgs) -> anyhow::Result<()> {
    if args.service.is_empty() {
        bail!("--service is required");
    }
    let spec = crate::operate::service(&args.service)?;
    let letters = DeadLetters::new(crate::operate::event_bus(env).await?);
    let service = spec.consumer_name;
    match args.command {
        DeadLettersCommand::List => {
            let listed = letters.list(service).await?;
            for letter in &listed {
                println!("{}", summary(letter));
            }
            eprintln!("{} dead letter(s) of {}", listed.len(), spec.name);
        }
        DeadLettersCommand::Show { sequence } => {
            let letter = letters.get(service, sequence).await?;
            println!("{}", summary(&letter));
            for (name, value) in letter.header_lines() {
                println!("  {name}: {value}");
            }
            println!("  payload: {} bytes", letter.payload.len());
        }
        DeadLettersCommand::Replay { sequence, all } => {
            let chosen = match (sequence, all) {
                (Some(sequence), _) => vec![letters.get(service, sequence).await?],
                (None, _) => letters.list(service).await?,
            };
            for letter in &chosen {
                letters.replay(letter).await?;
                println!("replayed {}", summary(letter));
            }
            eprintln!("{} dead letter(s) of {} replayed", chosen.len(), spec.name);
        }
        DeadLettersCommand::Discard { sequence } => {
            let letter = letters.get(service, sequence).await?;
            letters.discard(sequence).await?;
            println!("discarded {}", summary(&letter));
        }
    }
    Ok(())
}

fn summary(letter: &DeadLetter) -> String {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        letter.sequence,
        letter
            .dead_lettered_at
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| "-".to_owned()),
        letter.consumer,
        or_dash(&letter.event_type),
        or_dash(&letter.event_id),
        or_dash(&letter.reason),
    )
}
