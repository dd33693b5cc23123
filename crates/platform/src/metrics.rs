//! Prometheus metrics: one process-wide recorder (the `metrics` facade), rendered in the text
//! format on each service's admin port and the gateway's `/metrics`. Every metric is listed in
//! docs/OPERATIONS.md ("Metrics"); the names follow the OpenTelemetry semantic conventions in
//! Prometheus form (`rpc.server.duration` -> `rpc_server_duration_seconds`).
//!
//! Counters and histograms are recorded where things happen (the gRPC server layer, the HTTP
//! layer, the outbox relay, the consumers, identity's sign-in). Gauges that describe a state
//! (outbox backlog, pool use) are refreshed when scraped, by [`refresh_database_gauges`].

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets in seconds: 1 ms to 10 s.
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide recorder (once; later calls do nothing). Without it metrics are
/// not recorded at all, so [`crate::telemetry::init`], `ServiceHost` and the gateway call it.
pub fn install() {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .ok()?;
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder).ok()?;
        Some(handle)
    });
}

/// The Prometheus text exposition of every metric of this process.
pub fn render() -> String {
    install();
    match HANDLE.get().and_then(Option::as_ref) {
        Some(handle) => {
            handle.run_upkeep();
            handle.render()
        }
        None => String::new(),
    }
}

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Refreshes the gauges that describe a service's database: its connection pool and its
/// outbox (events not yet acknowledged by JetStream, and the age of the oldest).
pub async fn refresh_database_gauges(pool: &PgPool) {
    let database = pool.connect_options().get_database().unwrap_or("unknown").to_owned();
    let size = f64::from(pool.size());
    let idle = pool.num_idle() as f64;
    metrics::gauge!("db_client_connection_count", "pool_name" => database.clone(), "state" => "idle").set(idle);
    metrics::gauge!("db_client_connection_count", "pool_name" => database.clone(), "state" => "used")
        .set((size - idle).max(0.0));
    metrics::gauge!("db_client_connection_max", "pool_name" => database.clone())
        .set(f64::from(pool.options().get_max_connections()));

    let outbox = tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::query_as::<_, (i64, Option<f64>, i64)>(
            "SELECT count(*), EXTRACT(EPOCH FROM now() - min(created_at))::float8, \
                    count(*) FILTER (WHERE quarantined_at IS NOT NULL) \
             FROM platform.outbox WHERE published_at IS NULL",
        )
        .fetch_one(pool),
    )
    .await;
    if let Ok(Ok((backlog, oldest, quarantined))) = outbox {
        metrics::gauge!("outbox_backlog_events", "pool_name" => database.clone()).set(backlog as f64);
        metrics::gauge!("outbox_quarantined_events", "pool_name" => database.clone()).set(quarantined as f64);
        metrics::gauge!("outbox_oldest_unsent_age_seconds", "pool_name" => database)
            .set(oldest.unwrap_or(0.0).max(0.0));
    }
}
