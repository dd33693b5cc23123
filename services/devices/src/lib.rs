//! The devices service: registered devices, disabling a lost device, recovery keys. A deleted
//! account's data is erased.

pub mod domain;
pub mod events;
pub mod grpc;
pub mod service;
pub mod store;

use std::sync::Arc;

use myaccount_proto::devices::v1::devices_service_server::DevicesServiceServer;
use platform::config::{ConfigError, Env};
use platform::crypto::Keyring;
use platform::events::Stream;
use platform::service::{Service, ServiceKit, ServiceSettings, ServiceSpec, StartError};
use platform::workload;

use crate::service::Devices;

pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub const SPEC: ServiceSpec = ServiceSpec {
    name: workload::DEVICES,
    env_prefix: "DEVICES",
    default_grpc_port: 50053,
    default_database: "myaccount_devices",
    consumer_name: "devices",
    publishes: &[Stream::Devices],
    migrations: &MIGRATIONS,
    // Only the gateway calls its public methods, for a person it has rate-limited.
    callers: &[workload::GATEWAY],
    generic_plans: false,
};

#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    /// Seals recovery keys at rest.
    pub encryption: Keyring,
}

impl Settings {
    /// The common service settings (`DEVICES_*`, ...) and `DATA_ENCRYPTION_KEYS`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceSettings::from_env(env, &SPEC)?,
            encryption: Keyring::from_env(env)?,
        })
    }
}

pub struct DevicesService;

pub type Application = platform::service::Application<DevicesService>;

impl Service for DevicesService {
    const SPEC: ServiceSpec = SPEC;
    type Settings = Settings;

    fn common(settings: &Settings) -> &ServiceSettings {
        &settings.service
    }

    async fn assemble(kit: ServiceKit, settings: Settings) -> Result<ServiceKit, StartError> {
        let devices = Arc::new(Devices::new(
            kit.pool().clone(),
            settings.encryption,
            settings.service.step_up_max_age,
        ));
        Ok(kit
            .serve(DevicesServiceServer::new(grpc::DevicesApi::new(devices)))
            // Last activity comes from sign-ins, never from the client's word.
            .consume(events::SignInRecordedHandler)
            // Whose organization a person is in: admins act on their own organization's only.
            .consume(events::UserCreatedHandler)
            .erase_users_with(store::Erasure))
    }
}
