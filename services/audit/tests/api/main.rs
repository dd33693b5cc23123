//! Audit's API, exercised over gRPC against a real service fed by real JetStream events.

mod auth;
mod calling_workload;
mod concurrency;
mod helpers;
mod ingest;
mod list;
mod privacy;
mod retention;
