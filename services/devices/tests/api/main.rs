//! The devices API, exercised over gRPC against a real service on real Postgres and NATS.

mod activity;
mod calling_workload;
mod concurrency;
mod devices;
mod helpers;
mod idempotency;
mod privacy;
mod recovery_keys;
mod tenant_admins;
