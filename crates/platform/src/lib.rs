//! The shared runtime of every MyAccount service: configuration, telemetry, Postgres, NATS
//! JetStream (streams, transactional outbox, idempotent consumer), access-token verification,
//! error mapping and the gRPC server host. Services use these and nothing else for plumbing.

pub mod auth;
pub mod cache_control;
pub mod config;
pub mod consumer;
pub mod crypto;
pub mod db;
pub mod deadletter;
pub mod erasure;
pub mod error;
pub mod events;
pub mod geoip;
pub mod grpc;
pub mod health;
pub mod idempotency;
pub mod instrument;
pub mod key_schedule;
pub mod metrics;
pub mod outbox;
pub mod personal_data;
pub mod ports;
pub mod retry;
pub mod revocation;
pub mod revocation_reason;
pub mod service;
pub mod shutdown;
pub mod telemetry;
pub mod tls;
pub mod user_agent;
pub mod verified_tokens;
pub mod workload;

#[cfg(feature = "testing")]
pub mod testing;

/// Every binary of the system allocates through mimalloc. A page of the portal makes thousands
/// of small, short-lived allocations across the gateway and the services it calls (requests,
/// spans, protobuf and JSON values), and under load glibc's allocator took about a third of
/// their CPU (docs/PERFORMANCE.md). Declared here, in the crate every binary links, so no
/// binary can be built with another by accident.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
