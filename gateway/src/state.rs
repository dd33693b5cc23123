//! What every request shares: the settings, one client stack per service, browser sessions,
//! the sign-in rate limits and the personal-data catalogue.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use myaccount_proto::audit::v1::audit_service_client::AuditServiceClient;
use myaccount_proto::devices::v1::devices_service_client::DevicesServiceClient;
use myaccount_proto::identity::v1::identity_service_client::IdentityServiceClient;
use myaccount_proto::organizations::v1::organizations_service_client::OrganizationsServiceClient;
use myaccount_proto::securityinfo::v1::security_info_service_client::SecurityInfoServiceClient;
use myaccount_proto::signals::v1::signals_service_client::SignalsServiceClient;
use platform::workload::{IDENTITY, SignedAsWorkload};

use crate::catalogue::PersonalDataCatalogue;
use crate::clients::{self, ClientSettings, ServiceChannel};
use crate::cookies::BrowserSessions;
use crate::ratelimit::AuthLimits;
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
            read_retries: settings.read_retries,
        };
        let endpoint = |url: &str, variable: &str| -> Result<ServiceChannel, StartError> {
            let channel = settings
                .client_tls
                .endpoint(url, variable)?
                .connect_timeout(Duration::from_secs(2))
                .connect_lazy();
            Ok(clients::stack(channel, &stack_settings))
        };
        let identity = endpoint(&settings.identity_url, "IDENTITY_URL")?;
        Ok(Self {
            identity: signed_as_gateway(identity, settings),
            audit: endpoint(&settings.audit_url, "AUDIT_URL")?,
            devices: endpoint(&settings.devices_url, "DEVICES_URL")?,
            organizations: endpoint(&settings.organizations_url, "ORGANIZATIONS_URL")?,
            security_info: endpoint(&settings.security_info_url, "SECURITYINFO_URL")?,
            signals: endpoint(&settings.signals_url, "SIGNALS_URL")?,
        })
    }
}

/// identity believes a sign-in and a client context only from the gateway: every call to it
/// carries the gateway's workload token (without a key, none, and identity refuses).
fn signed_as_gateway(identity: ServiceChannel, settings: &Settings) -> ServiceChannel {
    match &settings.workload_key {
        Some(key) => ServiceChannel::new(SignedAsWorkload::new(identity, Arc::new(key.clone()), IDENTITY)),
        None => {
            tracing::warn!(
                "GATEWAY_WORKLOAD_KEY_FILE is not set: identity refuses sign-ins from this gateway (`myaccount workload-keys` writes the key)"
            );
            identity
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub settings: Settings,
    pub clients: Clients,
    pub http: reqwest::Client,
    pub sessions: Arc<BrowserSessions>,
    pub limits: Arc<AuthLimits>,
    pub personal_data: Arc<PersonalDataCatalogue>,
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
            settings,
            clients,
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
