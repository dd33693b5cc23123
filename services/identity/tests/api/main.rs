//! Identity's API, exercised over gRPC against a real service on real Postgres and NATS.

mod account_status;
mod calling_workload;
mod concurrency;
mod create_user;
mod guest_organizations;
mod health;
mod helpers;
mod idempotency;
mod identifiers;
mod mfa_registration;
mod password_reset;
mod privacy;
mod profile;
mod required_password;
mod session_lifetime;
mod sessions;
mod sign_in;
mod sign_in_events;
mod signing_keys;
mod tenant_admins;
mod throttling;
mod tokens;
