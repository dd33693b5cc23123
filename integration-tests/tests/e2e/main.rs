//! End to end through the gateway, on real Postgres and NATS.

mod app_passwords;
mod bad_input;
mod contract;
mod devices;
mod key_rotation;
mod language;
mod mfa_registration;
mod organizations;
mod outbox_fault;
mod overview;
mod passkeys;
mod password_reset;
mod plane;
mod privacy;
mod retries;
mod revocation;
mod security_info;
mod sign_ins;
mod signals;
mod sweep;
mod web_sessions;
