//! What every request shares: the settings, one client stack per service, browser sessions,
//! the sign-in rate limits and the personal-data catalogue.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use myaccount_proto::audit::v1::DataRetention;
use myaccount_proto::audit::v1::audit_service_client::AuditServiceClient;
use myaccount_proto::devices::v1::devices_service_client::DevicesServiceClient;
use myaccount_proto::identity::v1::AccountDeletionPolicy;
use myaccount_proto::identity::v1::identity_service_client::IdentityServiceClient;
use myaccount_proto::organizations::v1::organizations_service_client::OrganizationsServiceClient;
use myaccount_proto::privacy::v1::PersonalDataDescription;
use myaccount_proto::securityinfo::v1::security_info_service_client::SecurityInfoServiceClient;
use myaccount_proto::signals::v1::signals_service_client::SignalsServiceClient;
use platform::workload::{self, SignedAsWorkload};

use crate::clients::{self, ClientSettings, ServiceChannel};
use crate::cookies::BrowserSessions;
use crate::ratelimit::AuthLimits;
use crate::remembered::Remembered;
use crate::settings::Settings;

/// One client stack per service (see [`clients`]), created once and shared by every request.
#[derive(Clone)]
pub struct Clients {
    pub identity: ServiceChannel,
    pub audit: ServiceChannel,
    pub devices: ServiceChannel,
    pub organizations: ServiceChannel,
    pub security_info: ServiceChannel,
    pub signals: ServiceChannel,
}

impl Clients {
    fn connect_lazy(settings: &Settings) -> Result<Self, StartError> {
        let stack_settings = ClientSettings {
            timeout: settings.request_timeout,
            concurrency_limit: settings.service_concurrency_limit,
            retries: settings.call_retries,
        };
        let endpoint = |url: &str, variable: &str| -> Result<ServiceChannel, StartError> {
            let channel = settings
                .client_tls
                .endpoint(url, variable)?
                .connect_timeout(Duration::from_secs(2))
                .connect_lazy();
            Ok(clients::stack(channel, &stack_settings))
        };
        if settings.workload_key.is_none() {
            tracing::warn!(
                "GATEWAY_WORKLOAD_KEY_FILE is not set: every service refuses this gateway's calls (`myaccount workload-keys` writes the key)"
            );
        }
        // Every service takes a person's calls from the gateway alone: each call carries a
        // fresh token of the gateway's key, bound to the one service it is meant for.
        let signed = |url: &str, variable: &str, audience: &str| -> Result<ServiceChannel, StartError> {
            let channel = endpoint(url, variable)?;
            Ok(match &settings.workload_key {
                Some(key) => ServiceChannel::new(SignedAsWorkload::new(channel, Arc::new(key.clone()), audience)),
                None => channel,
            })
        };
        Ok(Self {
            identity: signed(&settings.identity_url, "IDENTITY_URL", workload::IDENTITY)?,
            audit: signed(&settings.audit_url, "AUDIT_URL", workload::AUDIT)?,
            devices: signed(&settings.devices_url, "DEVICES_URL", workload::DEVICES)?,
            organizations: signed(
                &settings.organizations_url,
                "ORGANIZATIONS_URL",
                workload::ORGANIZATIONS,
            )?,
            security_info: signed(&settings.security_info_url, "SECURITYINFO_URL", workload::SECURITY_INFO)?,
            signals: signed(&settings.signals_url, "SIGNALS_URL", workload::SIGNALS)?,
        })
    }
}

/// Cloned for every request (axum's `State`): everything in it is shared, so a clone is a
/// handful of reference counts, not a copy of the settings and of six client stacks.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub clients: Arc<Clients>,
    pub http: reqwest::Client,
    pub sessions: Arc<BrowserSessions>,
    pub limits: Arc<AuthLimits>,
    /// What each service keeps about people (the same for everyone).
    pub personal_data: Arc<Remembered<PersonalDataDescription>>,
    /// A person's own sign-in log retention and account deletion policy, per token.
    pub retention: Arc<Remembered<DataRetention>>,
    pub deletion_policy: Arc<Remembered<AccountDeletionPolicy>>,
    /// Set at SIGTERM: readiness fails and every answer closes its connection, so clients and
    /// load balancers move to another replica before this one stops.
    pub draining: Arc<AtomicBool>,
}

impl AppState {
    /// Clients connect lazily: nothing is dialled until the first request.
    pub fn new(settings: Settings) -> Result<Self, StartError> {
        let clients = Clients::connect_lazy(&settings)?;
        // JWKS_URL may be https://, with the services' CA.
        let http = settings.client_tls.http_client(Duration::from_secs(3))?;
        Ok(Self {
            sessions: Arc::new(BrowserSessions::new(settings.cookie_keys.clone())),
            limits: Arc::new(AuthLimits::new(&settings.rate_limits)),
            personal_data: Arc::default(),
            retention: Arc::default(),
            deletion_policy: Arc::default(),
            draining: Arc::default(),
            settings: Arc::new(settings),
            clients: Arc::new(clients),
            http,
        })
    }

    pub fn identity(&self) -> IdentityServiceClient<ServiceChannel> {
        IdentityServiceClient::new(self.clients.identity.clone())
    }

    pub fn audit(&self) -> AuditServiceClient<ServiceChannel> {
        AuditServiceClient::new(self.clients.audit.clone())
    }

    pub fn devices(&self) -> DevicesServiceClient<ServiceChannel> {
        DevicesServiceClient::new(self.clients.devices.clone())
    }

    pub fn organizations(&self) -> OrganizationsServiceClient<ServiceChannel> {
        OrganizationsServiceClient::new(self.clients.organizations.clone())
    }

    pub fn security_info(&self) -> SecurityInfoServiceClient<ServiceChannel> {
        SecurityInfoServiceClient::new(self.clients.security_info.clone())
    }

    pub fn signals(&self) -> SignalsServiceClient<ServiceChannel> {
        SignalsServiceClient::new(self.clients.signals.clone())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A service address or the CA to verify it with.
    #[error(transparent)]
    Config(#[from] platform::config::ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}
