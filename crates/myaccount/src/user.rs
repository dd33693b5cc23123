//! `myaccount user disable|enable --username NAME`: the operator disables an account (its
//! sign-ins are refused and every session of it ends) or enables it again, in identity's
//! database (`IDENTITY_DATABASE_URL`, as the service reads it). Identity's outbox publishes
//! `user_disabled` / `user_enabled` from there, as for an administrator's DisableUser.

use anyhow::Context;
use platform::config::Env;

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Disable an account: its sign-ins are refused and its sessions end.
    Disable {
        /// The account's user principal name (what the person signs in with).
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[arg(long)]
        username: String,
    },
}

pub async fn run(env: &Env, command: UserCommand) -> anyhow::Result<()> {
    let (username, enabled) = match &command {
        UserCommand::Disable { username } => (username, false),
        UserCommand::Enable { username } => (username, true),
    };
    let pool = crate::operate::database(env, &myaccount_identity::SPEC).await?;
    let change = myaccount_identity::account_status::set_enabled_by_name(&pool, username, enabled)
        .await
        .map_err(|e| match e {
            myaccount_identity::error::IdentityError::Invalid(violations) => anyhow::anyhow!(
                "{}",
                violations
                    .iter()
                    .map(|v| format!("--{}: {}", v.field, v.description))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            other => anyhow::Error::from(other),
        })
        .with_context(|| format!("{} {username}", if enabled { "enabling" } else { "disabling" }))?;
    let status = if enabled { "enabled" } else { "disabled" };
    if change.changed {
        println!("{username} {status} (user id {})", change.user_id);
    } else {
        println!(
            "{username} was already {status}; nothing changed (user id {})",
            change.user_id
        );
    }
    Ok(())
}
