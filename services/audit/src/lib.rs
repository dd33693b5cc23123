//! The audit service: the sign-in log (enriched with browser, OS and location, assessed for
//! risk, reviewable by its owner) and the account activity log, fed by events; exported on
//! request, and erased (sign-ins pseudonymised) when the account is deleted.

mod array_literal;
pub mod domain;
pub mod enrich;
pub mod events;
pub mod grpc;
pub mod retention;
pub mod service;
pub mod settings;
pub mod store;

use std::sync::Arc;

use myaccount_proto::audit::v1::audit_service_server::AuditServiceServer;
use myaccount_proto::events::v1::{OrganizationChanged, SignInRecorded};
use platform::consumer::StreamConsumer;
use platform::events::Stream;
use platform::service::{Service, ServiceKit, ServiceSettings, ServiceSpec, StartError};

pub use crate::settings::{DEFAULT_INGEST_WORKERS, Settings};
pub use crate::settings::{MIGRATIONS, SPEC};
use platform::geoip::GeoLocator;

/// The streams whose events make up the account activity log (of the sign-in stream, only the
/// reviews: the sign-ins themselves are the sign-in log).
const ACTIVITY_STREAMS: [(Stream, &str, Option<&str>); 5] = [
    (Stream::Identity, "activity_identity", None),
    (Stream::SecurityInfo, "activity_securityinfo", None),
    (Stream::Devices, "activity_devices", None),
    (Stream::Organizations, "activity_organizations", None),
    (Stream::SignIn, "activity_signin", Some("myaccount.signin.v1.flagged")),
];

pub struct AuditService;

pub type Application = platform::service::Application<AuditService>;

impl Service for AuditService {
    const SPEC: ServiceSpec = SPEC;
    type Settings = Settings;

    fn common(settings: &Settings) -> &ServiceSettings {
        &settings.service
    }

    async fn assemble(mut kit: ServiceKit, settings: Settings) -> Result<ServiceKit, StartError> {
        let pool = kit.pool().clone();
        // Today's partition must exist before the first sign-in arrives.
        retention::maintain(&pool, &settings.retention, chrono::Utc::now().date_naive())
            .await
            .map_err(|e| StartError::service("sign-in partitions", e))?;
        let geo = if settings.geoip_databases.is_empty() {
            None
        } else {
            let locator =
                GeoLocator::open(&settings.geoip_databases).map_err(|e| StartError::service("geoip database", e))?;
            Some(Arc::new(locator))
        };
        for (stream, purpose, only) in ACTIVITY_STREAMS {
            let mut consumer = StreamConsumer::new(
                pool.clone(),
                kit.bus().clone(),
                kit.consumer_settings(),
                stream,
                purpose,
                events::ActivityRecorder,
            );
            if let Some(subject) = only {
                consumer = consumer.only(subject);
            }
            kit = kit.spawn_task(move |shutdown| consumer.run(shutdown));
        }
        let retention = settings.retention.clone();
        let retention_pool = pool.clone();
        Ok(kit
            .serve(AuditServiceServer::new(grpc::AuditApi::new(
                service::Audit::new(pool, settings.retention.default_days),
                settings.service.step_up_max_age,
            )))
            .consume_batches::<SignInRecorded, _>(settings.ingest_workers, || events::SignInRecordedHandler {
                geo: geo.clone(),
            })
            .consume::<OrganizationChanged, _>(events::OrganizationChangedHandler)
            .erase_users_with(store::Erasure)
            .spawn_task(move |shutdown| retention::run(retention_pool, retention, shutdown)))
    }
}
