//! `myaccount up` and `myaccount migrate`.

use std::collections::HashMap;

use anyhow::Context;
use platform::config::Env;
use platform::db::DatabaseSettings;
use platform::service::ServiceSpec;
use platform::workload::{GATEWAY, IDENTITY, TrustedCallers, WorkloadKey};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The development keyring of `myaccount up` (`local-dev`: 32 bytes, public).
pub const LOCAL_DATA_ENCRYPTION_KEYS: &str = "local-dev:bXlhY2NvdW50IGxvY2FsIGRldiBrZXksIHB1YmxpYyE=";

/// The development keyring sealing browser sessions under `myaccount up` (32 bytes, public).
pub const LOCAL_COOKIE_KEYS: &str = "local-dev:bXlhY2NvdW50IGxvY2FsIGRldiBjb29raWUga2V5ISE=";

/// Defaults for running on one machine: listen on loopback only, and create a bootstrap admin
/// (development credentials, overridable) so the demo can be seeded. Explicit variables win.
pub fn local_env(env: Env) -> Env {
    let defaults = [
        ("IDENTITY_HOST", "127.0.0.1"),
        ("AUDIT_HOST", "127.0.0.1"),
        ("DEVICES_HOST", "127.0.0.1"),
        ("ORGANIZATIONS_HOST", "127.0.0.1"),
        ("SECURITYINFO_HOST", "127.0.0.1"),
        ("SIGNALS_HOST", "127.0.0.1"),
        ("GATEWAY_HOST", "127.0.0.1"),
        // A published key: fine for a laptop or a demo, never for real data. Stable, so what
        // one run sealed the next run opens.
        ("DATA_ENCRYPTION_KEYS", LOCAL_DATA_ENCRYPTION_KEYS),
        // Likewise: signed-in browsers stay signed in across restarts of `myaccount up`.
        ("GATEWAY_COOKIE_KEYS", LOCAL_COOKIE_KEYS),
        ("IDENTITY_BOOTSTRAP_ADMIN_UPN", crate::demo::DEFAULT_ADMIN_UPN),
        ("IDENTITY_BOOTSTRAP_ADMIN_PASSWORD", crate::demo::DEFAULT_ADMIN_PASSWORD),
    ];
    let mut vars: HashMap<String, String> = HashMap::new();
    for (k, v) in defaults {
        vars.insert(k.to_owned(), env.raw(k).unwrap_or(v).to_owned());
    }
    env.overlay(vars)
}

pub async fn run(env: Env, seed_demo: bool) -> anyhow::Result<()> {
    // The demo's phones print their codes here, unless a real provider is configured.
    let demo_phone = if seed_demo && env.raw("PHONE_PROVIDER").is_none() {
        Some(crate::demo_phone::DemoPhone::start().await?)
    } else {
        None
    };
    let env = match &demo_phone {
        Some(phone) => phone.configure(env),
        None => env,
    };
    let system = start(&env).await?;
    if seed_demo {
        let mut target = crate::demo::DemoTarget::from_env(&env)?;
        // The demo signs people in as the gateway does, with its key.
        target.gateway_key.get_or_insert_with(|| system.gateway_key.clone());
        match crate::demo::seed(&target).await {
            Ok(()) => {}
            Err(e) => tracing::error!(error = %format!("{e:#}"), "seeding the demo failed"),
        }
    }
    eprintln!(
        "\nMyAccount is running: http://127.0.0.1:{}  (Ctrl-C to stop)\n",
        system.gateway_port
    );
    system.until_stopped().await
}

/// Every service and the gateway serving in this process.
pub struct System {
    pub gateway_port: u16,
    /// The gateway's workload key (given, or made for this run).
    pub gateway_key: WorkloadKey,
    stops: Vec<CancellationToken>,
    servers: JoinSet<anyhow::Result<()>>,
}

/// The settings of every service and the gateway, before they start.
struct SystemSettings {
    identity: myaccount_identity::Settings,
    security_info: myaccount_security_info::Settings,
    audit: myaccount_audit::Settings,
    devices: myaccount_devices::Settings,
    organizations: myaccount_organizations::Settings,
    signals: myaccount_signals::Settings,
    gateway: myaccount_gateway::Settings,
}

impl SystemSettings {
    fn from_env(env: &Env) -> anyhow::Result<Self> {
        Ok(Self {
            identity: myaccount_identity::Settings::from_env(env)?,
            security_info: myaccount_security_info::Settings::from_env(env)?,
            audit: myaccount_audit::Settings::from_env(env)?,
            devices: myaccount_devices::Settings::from_env(env)?,
            organizations: myaccount_organizations::Settings::from_env(env)?,
            signals: myaccount_signals::Settings::from_env(env)?,
            gateway: myaccount_gateway::Settings::from_env(env)?,
        })
    }

    /// Who may call whom in one process: the keys the variables name
    /// (`myaccount workload-keys`), else keys made for this run (a workload token lives a
    /// minute, so nothing outlives the process that signed it); trusted callers the variables
    /// do not name are the gateway everywhere, and identity too for security-info. Returns the
    /// gateway's key.
    fn trust_between_workloads(&mut self) -> WorkloadKey {
        let gateway_key = self
            .gateway
            .workload_key
            .get_or_insert_with(|| WorkloadKey::generate(GATEWAY))
            .clone();
        let identity_key = self
            .identity
            .workload_key
            .get_or_insert_with(|| WorkloadKey::generate(IDENTITY))
            .clone();
        let gateway_only = TrustedCallers::new().with_key(&gateway_key);
        for (trusted, callers) in [
            (&mut self.identity.service.trusted_callers, gateway_only.clone()),
            (
                &mut self.security_info.service.trusted_callers,
                gateway_only.clone().with_key(&identity_key),
            ),
            (&mut self.audit.service.trusted_callers, gateway_only.clone()),
            (&mut self.devices.service.trusted_callers, gateway_only.clone()),
            (&mut self.organizations.service.trusted_callers, gateway_only.clone()),
            (&mut self.signals.service.trusted_callers, gateway_only),
        ] {
            if trusted.is_empty() {
                *trusted = callers;
            }
        }
        gateway_key
    }
}

/// Starts every service and the gateway from `env`, each on its own port.
pub async fn start(env: &Env) -> anyhow::Result<System> {
    let mut settings = SystemSettings::from_env(env)?;
    let gateway_key = settings.trust_between_workloads();
    let SystemSettings {
        identity: identity_settings,
        security_info: security_info_settings,
        audit: audit_settings,
        devices: devices_settings,
        organizations: organizations_settings,
        signals: signals_settings,
        gateway: gateway_settings,
    } = settings;

    let identity = myaccount_identity::Application::build(identity_settings)
        .await
        .context("starting identity")?;
    let security_info = myaccount_security_info::Application::build(security_info_settings)
        .await
        .context("starting security-info")?;
    let audit = myaccount_audit::Application::build(audit_settings)
        .await
        .context("starting audit")?;
    let devices = myaccount_devices::Application::build(devices_settings)
        .await
        .context("starting devices")?;
    let organizations = myaccount_organizations::Application::build(organizations_settings)
        .await
        .context("starting organizations")?;
    let signals = myaccount_signals::Application::build(signals_settings)
        .await
        .context("starting signals")?;
    let gateway = myaccount_gateway::Application::build(gateway_settings)
        .await
        .context("starting gateway")?;
    let gateway_port = gateway.port();
    tracing::info!(
        identity = identity.port(),
        audit = audit.port(),
        devices = devices.port(),
        organizations = organizations.port(),
        security_info = security_info.port(),
        signals = signals.port(),
        gateway = gateway_port,
        "all services started"
    );

    // One stop for all: a signal reaches every server; if one fails, the others stop too.
    let stops = vec![
        identity.shutdown_token(),
        audit.shutdown_token(),
        devices.shutdown_token(),
        gateway.shutdown_token(),
        organizations.shutdown_token(),
        security_info.shutdown_token(),
        signals.shutdown_token(),
    ];
    let mut servers = JoinSet::new();
    servers.spawn(async move { identity.run_until_stopped().await.map_err(anyhow::Error::from) });
    servers.spawn(async move { audit.run_until_stopped().await.map_err(anyhow::Error::from) });
    servers.spawn(async move { devices.run_until_stopped().await.map_err(anyhow::Error::from) });
    servers.spawn(async move { gateway.run_until_stopped().await.map_err(anyhow::Error::from) });
    servers.spawn(async move { organizations.run_until_stopped().await.map_err(anyhow::Error::from) });
    servers.spawn(async move { security_info.run_until_stopped().await.map_err(anyhow::Error::from) });
    servers.spawn(async move { signals.run_until_stopped().await.map_err(anyhow::Error::from) });
    Ok(System {
        gateway_port,
        gateway_key,
        stops,
        servers,
    })
}

impl System {
    /// Serves until a signal stops every server, or until one fails and the others stop too.
    pub async fn until_stopped(mut self) -> anyhow::Result<()> {
        let mut first_error = None;
        while let Some(result) = self.servers.join_next().await {
            for stop in &self.stops {
                stop.cancel();
            }
            if let Ok(Err(e)) | Err(e) = result.map_err(anyhow::Error::from) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Stops every server and waits for them to drain.
    pub async fn stop(self) -> anyhow::Result<()> {
        for stop in &self.stops {
            stop.cancel();
        }
        self.until_stopped().await
    }
}

pub async fn migrate(env: &Env) -> anyhow::Result<()> {
    let services: [&ServiceSpec; 6] = [
        &myaccount_identity::SPEC,
        &myaccount_audit::SPEC,
        &myaccount_devices::SPEC,
        &myaccount_organizations::SPEC,
        &myaccount_security_info::SPEC,
        &myaccount_signals::SPEC,
    ];
    for spec in services {
        let mut database = DatabaseSettings::from_env(env, spec.env_prefix, spec.default_database)?;
        database.run_migrations = true;
        let pool = platform::db::connect(&database, spec.migrations)
            .await
            .with_context(|| format!("{} database", spec.name))?;
        pool.close().await;
    }
    eprintln!("migrations applied: identity, audit, devices, organizations, security-info, signals");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_keys_are_valid_keyrings_and_explicit_values_win() {
        let env = local_env(Env::default());
        for name in ["DATA_ENCRYPTION_KEYS", "GATEWAY_COOKIE_KEYS"] {
            let value = env.raw(name).expect(name);
            platform::crypto::Keyring::parse(value).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let own = "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        let env = local_env(Env::from_pairs([("GATEWAY_COOKIE_KEYS", own)]));
        assert_eq!(env.raw("GATEWAY_COOKIE_KEYS"), Some(own));
    }
}
