//! `myaccount bench passwords`: what identity's password verification costs beside the argon2
//! crate's own (the baseline), with identity's parameters. Each thread times one of each back to
//! back, again and again, so the machine's drift falls on both alike; the report is the median
//! of the pairs' time ratios.

use std::time::{Duration, Instant};

use argon2::password_hash::PasswordVerifier;
use argon2::{Argon2, PasswordHash};

use super::{percentile, sorted};

#[derive(Debug, Clone, clap::Args)]
pub struct PasswordsArgs {
    /// Threads verifying at once (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Seconds of pairs on each thread.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
}

/// Times of one pair: the crate's verification, then identity's.
struct Pair {
    baseline: Duration,
    identity: Duration,
}

pub async fn passwords(args: PasswordsArgs) -> anyhow::Result<()> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    anyhow::ensure!(threads > 0, "--threads must be at least 1");
    const PASSWORD: &str = "correct horse battery staple";
    let hash = myaccount_identity::passwords::hash_password(PASSWORD.to_owned()).await?;
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let mut workers = Vec::with_capacity(threads);
    for _ in 0..threads {
        let hash = hash.clone();
        workers.push(tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Pair>> {
            let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut verifier = myaccount_identity::passwords::Verifier::default();
            let mut pairs = Vec::new();
            while Instant::now() < until {
                let started = Instant::now();
                let by_the_crate = Argon2::default().verify_password(PASSWORD.as_bytes(), &parsed).is_ok();
                let between = Instant::now();
                let by_identity = verifier.verify(PASSWORD.as_bytes(), &parsed);
                let ended = Instant::now();
                anyhow::ensure!(
                    by_the_crate && by_identity,
                    "the password does not verify against its own hash"
                );
                pairs.push(Pair {
                    baseline: between - started,
                    identity: ended - between,
                });
            }
            Ok(pairs)
        }));
    }
    let mut pairs = Vec::new();
    for worker in workers {
        pairs.extend(worker.await??);
    }
    anyhow::ensure!(!pairs.is_empty(), "no pair finished in {} s", args.seconds);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let ratios = sorted(
        pairs
            .iter()
            .map(|p| p.identity.as_secs_f64() / p.baseline.as_secs_f64())
            .collect(),
    );
    let baseline = sorted(pairs.iter().map(|p| ms(p.baseline)).collect());
    let identity = sorted(pairs.iter().map(|p| ms(p.identity)).collect());
    println!(
        "{} pairs on {threads} threads, argon2id with identity's parameters",
        pairs.len()
    );
    println!();
    println!("| verification | p50 | p90 | vs baseline (median of pairs) |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| argon2 crate's `verify_password` (baseline) | {:.1} ms | {:.1} ms | 1.000 |",
        percentile(&baseline, 50.0),
        percentile(&baseline, 90.0)
    );
    println!(
        "| identity's `passwords::Verifier` | {:.1} ms | {:.1} ms | {:.3} |",
        percentile(&identity, 50.0),
        percentile(&identity, 90.0),
        percentile(&ratios, 50.0)
    );
    Ok(())
}
