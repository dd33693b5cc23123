//! What a service's consumers tell its readiness: which of them are stalled because a
//! dependency (Postgres, NATS) keeps failing. A stalled consumer holds its batch and retries with
//! backoff instead of spending delivery attempts; the host shows it in `/readyz` and in the
//! `consumers` entry of `grpc.health.v1`, so an operator sees why events are not moving.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Stalled consumers of one service, shared by its consumers and its host.
#[derive(Debug, Clone, Default)]
pub struct ConsumerStalls {
    stalled: Arc<Mutex<BTreeMap<String, String>>>,
}

impl ConsumerStalls {
    /// `consumer` cannot apply its events because of `reason` (a dependency's failure).
    pub fn stalled(&self, consumer: &str, reason: &str) {
        if let Ok(mut stalled) = self.stalled.lock() {
            stalled.insert(consumer.to_owned(), reason.to_owned());
        }
        metrics::gauge!("messaging_consumer_stalled", "consumer_group" => consumer.to_owned()).set(1.0);
    }

    /// `consumer` applies its events again.
    pub fn resumed(&self, consumer: &str) {
        if let Ok(mut stalled) = self.stalled.lock() {
            stalled.remove(consumer);
        }
        metrics::gauge!("messaging_consumer_stalled", "consumer_group" => consumer.to_owned()).set(0.0);
    }

    /// The stalled consumers and why, by name.
    pub fn current(&self) -> BTreeMap<String, String> {
        self.stalled.lock().map(|s| s.clone()).unwrap_or_default()
    }
}
