//! Integration tests of the platform runtime against real Postgres and NATS JetStream. Every
//! test has a database and a NATS namespace of its own, so they run in parallel.

mod auth_layer;
mod batch_consumer;
mod consumer;
mod db;
mod deadletter;
mod grpc_tls;
mod helpers;
mod nats_tls;
mod outbox;
mod postgres_tls;
mod revocation;
