//! `myaccount ssf add-receiver --name NAME --audience URI`: registers a receiver of Security
//! Event Tokens in the signals service's database (`SIGNALS_DATABASE_URL`, as the service reads
//! it) and prints its client credentials, the secret this once. `myaccount ssf rotate-key`
//! rotates the key that signs them.

use anyhow::Context;
use platform::config::Env;

#[derive(Debug, clap::Subcommand)]
pub enum SsfCommand {
    /// Register a receiver: prints `client_id=...` and `client_secret=...`, each on a line.
    AddReceiver {
        /// What the receiver is called ("Payroll app").
        #[arg(long)]
        name: String,
        /// The receiver's audience: the `aud` of every SET it gets (an absolute URI).
        #[arg(long)]
        audience: String,
    },
    /// Rotate the key that signs security event tokens without a gap: the new key is published
    /// at once and signs after every replica and receiver has it; the old one stays published
    /// while SETs it signed wait. Reads DATA_ENCRYPTION_KEYS, SIGNALS_SIGNING_KEYS_RELOAD_INTERVAL
    /// and SIGNALS_JWKS_MAX_AGE as the service does.
    RotateKey,
}

pub async fn run(env: &Env, command: SsfCommand) -> anyhow::Result<()> {
    match command {
        SsfCommand::AddReceiver { name, audience } => {
            let pool = crate::operate::database(env, &myaccount_signals::SPEC).await?;
            let registered = myaccount_signals::service::add_receiver(&pool, &name, &audience)
                .await
                .map_err(|e| match e {
                    myaccount_signals::service::SignalsError::Invalid(violations) => anyhow::anyhow!(
                        "{}",
                        violations
                            .iter()
                            .map(|v| format!("--{}: {}", v.field, v.description))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    other => anyhow::Error::from(other),
                })
                .context("registering the receiver")?;
            println!("client_id={}", registered.receiver.client_id);
            println!("client_secret={}", registered.client_secret);
            eprintln!(
                "receiver {} registered for audience {}; the secret is shown only now",
                registered.receiver.name, registered.receiver.audience
            );
            Ok(())
        }
        SsfCommand::RotateKey => {
            let pool = crate::operate::database(env, &myaccount_signals::SPEC).await?;
            let keyring = platform::crypto::Keyring::from_env(env)?;
            let settings = myaccount_signals::keys::KeySettings::from_env(env)?;
            let rotation = myaccount_signals::keys::rotate_signing_key(&pool, &keyring, &settings, chrono::Utc::now())
                .await
                .context("rotating the SET signing key")?;
            println!("kid={}", rotation.kid);
            println!("signs_from={}", rotation.activates_at.to_rfc3339());
            Ok(())
        }
    }
}
