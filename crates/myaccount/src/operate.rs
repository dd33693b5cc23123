//! What the operator commands (`dead-letters`, `outbox`) share: which service `--service`
//! names, and its connections, configured by the same variables as the service itself.

use anyhow::{Context, bail};
use platform::config::Env;
use platform::db::DatabaseSettings;
use platform::events::{EventBus, NatsSettings};
use platform::service::ServiceSpec;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// Every service, by the name `--service` takes (its `ServiceSpec::name`).
fn services() -> [&'static ServiceSpec; 6] {
    [
        &myaccount_identity::SPEC,
        &myaccount_security_info::SPEC,
        &myaccount_devices::SPEC,
        &myaccount_organizations::SPEC,
        &myaccount_audit::SPEC,
        &myaccount_signals::SPEC,
    ]
}

/// The service named `name`: `identity`, `security-info`, `devices`, `organizations`, `audit`,
/// `signals`.
pub fn service(name: &str) -> anyhow::Result<&'static ServiceSpec> {
    match services().into_iter().find(|spec| spec.name == name) {
        Some(spec) => Ok(spec),
        None => {
            let known: Vec<&str> = services().iter().map(|s| s.name).collect();
            bail!("no service {name:?}; one of {}", known.join(", "))
        }
    }
}

/// The service's own database (`<PREFIX>_DATABASE_URL`), without creating or migrating it.
pub async fn database(env: &Env, spec: &ServiceSpec) -> anyhow::Result<PgPool> {
    let settings = DatabaseSettings::from_env(env, spec.env_prefix, spec.default_database)?;
    let options = settings.connect_options()?;
    PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(options)
        .await
        .with_context(|| format!("connecting to {}'s database", spec.name))
}

/// NATS as the services see it (`NATS_URL`, `NATS_NAMESPACE`, ...).
pub async fn event_bus(env: &Env) -> anyhow::Result<EventBus> {
    let settings = NatsSettings::from_env(env)?;
    let bus = EventBus::connect(&settings, "myaccount-cli").await?;
    // The connection is made in the background; a command wants an answer, not a wait.
    tokio::time::timeout(std::time::Duration::from_secs(5), bus.client().flush())
        .await
        .context("nats did not answer within 5s")?
        .context("nats did not answer")?;
    Ok(bus)
}
