//! End to end through the gateway, on real Postgres and NATS.

mod bad_input;
mod outbox_fault;
mod overview;
mod sign_ins;
