//! The parts of the `myaccount` command that tests use too.

mod files;
pub mod nats_config;
pub mod workload_keys;
