//! Security info's API over gRPC, against a real service on real Postgres and NATS.

mod app_passwords;
mod authenticator_app;
mod calling_workload;
mod concurrency;
mod contact_methods;
mod event_order;
mod helpers;
mod languages;
mod mfa_registration;
mod phone_provider;
mod privacy;
mod rules;
mod security_keys;
mod single_use_secrets;
