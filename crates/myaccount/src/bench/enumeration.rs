//! `myaccount bench enumeration`: whether the time of a refused sign-in tells which accounts
//! exist. The same wrong-password sign-in through the gateway, for an existing account (the
//! baseline), an unknown name, a disabled account and an account with an app password, taken in
//! turns so the machine's noise falls on every path alike; the median of each beside the
//! baseline's, measured in the same run.

use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::Connection;

use super::{OwnSystem, Run, percentile, sorted};

#[derive(Debug, Clone, clap::Args)]
pub struct EnumerationArgs {
    /// Sign-ins per path, taken in turns.
    #[arg(long, default_value_t = 100)]
    pub rounds: usize,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pub postgres: String,
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats: String,
}

/// Every path's median within this share of the baseline's.
const GOAL: f64 = 0.10;

const WRONG_PASSWORD: &str = "not the password, surely";

/// The demo people each path signs in as (the unknown path makes up a new name each time).
const EXISTING: &str = "adele.vance@contoso.example";
const WITH_APP_PASSWORD: (&str, &str) = ("alex.wilber@contoso.example", "copper tundra violin 88");
const DISABLED: &str = "megan.bowen@contoso.example";

pub async fn enumeration(args: EnumerationArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.rounds > 0, "--rounds must be at least 1");
    let mut run = Run::new(&args.postgres, &args.nats);
    let result = async {
        let own = OwnSystem::start(&mut run).await?;
        let measured = measure(&args, &own).await;
        own.system.stop().await?;
        measured
    }
    .await;
    run.clean_up().await;
    result
}

async fn measure(args: &EnumerationArgs, own: &OwnSystem) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let sign_in_url = format!("{}/api/v1/auth/sign-in", own.gateway);
    let mut identity = sqlx::PgConnection::connect(&own.identity_database.url).await?;
    give_an_app_password(&client, &own.gateway).await?;
    sqlx::query("UPDATE users SET enabled = false WHERE user_principal_name = $1")
        .bind(DISABLED)
        .execute(&mut identity)
        .await?;

    let paths = [
        "existing account, wrong password (baseline)",
        "unknown account",
        "disabled account, wrong password",
        "account with an app password, wrong password",
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(args.rounds); paths.len()];
    println!(
        "myaccount bench enumeration: {} refused sign-ins per path through {}, taken in turns",
        args.rounds, own.gateway
    );
    // One warm-up round, not counted.
    for round in 0..=args.rounds {
        for (path, path_times) in times.iter_mut().enumerate() {
            let username = match path {
                0 => EXISTING.to_owned(),
                1 => format!("nobody.{round}@contoso.example"),
                2 => DISABLED.to_owned(),
                _ => WITH_APP_PASSWORD.0.to_owned(),
            };
            // Every path starts from a clean throttle: the bench measures the work of a
            // refusal, not a lock-out.
            sqlx::query("DELETE FROM sign_in_throttle")
                .execute(&mut identity)
                .await?;
            let body = serde_json::json!({"username": username, "password": WRONG_PASSWORD});
            let started = Instant::now();
            let response = client.post(&sign_in_url).json(&body).send().await?;
            let status = response.status();
            response.bytes().await?;
            let elapsed = started.elapsed().as_secs_f64() * 1000.0;
            anyhow::ensure!(
                status == reqwest::StatusCode::UNAUTHORIZED,
                "{}: answered {status}, not 401",
                paths[path]
            );
            if round > 0 {
                path_times.push(elapsed);
            }
        }
    }

    let medians: Vec<f64> = times.iter().map(|t| percentile(&sorted(t.clone()), 50.0)).collect();
    let baseline = medians[0];
    println!("\n| path | median | p90 | vs baseline | goal |\n| --- | --- | --- | --- | --- |");
    let mut missed = Vec::new();
    for (path, t) in times.iter().enumerate() {
        let t = sorted(t.clone());
        let ratio = medians[path] / baseline;
        let verdict = if path == 0 {
            "baseline".to_owned()
        } else if (ratio - 1.0).abs() <= GOAL {
            format!("within {:.0}%: met", GOAL * 100.0)
        } else {
            missed.push(paths[path]);
            format!("within {:.0}%: MISSED", GOAL * 100.0)
        };
        println!(
            "| {} | {:.1} ms | {:.1} ms | {ratio:.3} | {verdict} |",
            paths[path],
            medians[path],
            percentile(&t, 90.0)
        );
    }
    if missed.is_empty() {
        println!("\nevery goal met");
    } else {
        println!("\ngoals missed: {}", missed.join(", "));
    }
    Ok(())
}

/// Gives the app-password path's person an app password (a person without a second factor
/// needs only a recent sign-in for it).
async fn give_an_app_password(client: &reqwest::Client, gateway: &str) -> anyhow::Result<()> {
    let (username, password) = WITH_APP_PASSWORD;
    let signed_in: serde_json::Value = client
        .post(format!("{gateway}/api/v1/auth/sign-in"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await?
        .error_for_status()
        .with_context(|| format!("signing in as {username}"))?
        .json()
        .await?;
    let token = signed_in["accessToken"]
        .as_str()
        .with_context(|| format!("{username} needs a second factor; choose a person without one"))?;
    client
        .post(format!("{gateway}/api/v1/me/security-info/methods"))
        .bearer_auth(token)
        .json(&serde_json::json!({"type": "appPassword", "name": "Mail on an old phone"}))
        .send()
        .await?
        .error_for_status()
        .context("creating an app password")?;
    Ok(())
}
