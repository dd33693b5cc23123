//! Consume MyAccount's sign-in stream: a durable pull consumer with explicit acks that skips
//! redelivered events by their CloudEvents id. Copy it, then replace the handler with your logic.
//!
//! Delivery is at-least-once: after a crash or a lost ack the same event comes again. Keep the
//! ids you have applied where your effect lives (a table with a unique key, in the same
//! transaction as the effect). This example keeps them in memory, which is enough to show the
//! shape, not to survive a restart.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures::StreamExt;
use myaccount_proto::events::v1::SignInRecorded;
use prost::Message;

pub const STREAM: &str = "MYACCOUNT_SIGNIN";
pub const SUBJECT: &str = "myaccount.signin.v1.recorded";

/// Remembers the last `capacity` event ids.
pub struct SeenIds {
    order: VecDeque<String>,
    set: HashSet<String>,
    capacity: usize,
}

impl SeenIds {
    pub fn new(capacity: usize) -> Self {
        Self {
            order: VecDeque::with_capacity(capacity),
            set: HashSet::with_capacity(capacity),
            capacity,
        }
    }

    /// True the first time an id is seen.
    pub fn first_time(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.order.push_back(id.to_owned());
        self.set.insert(id.to_owned());
        true
    }
}

/// Where to consume from; the defaults are MyAccount's stream and subject.
pub struct Source {
    pub stream: String,
    pub subject: String,
    pub consumer_name: String,
}

/// Consumes until the stream ends or `max_events` distinct events were handled (None: forever).
pub async fn consume(
    js: &jetstream::Context,
    source: &Source,
    max_events: Option<usize>,
    mut handle: impl FnMut(&str, SignInRecorded),
) -> anyhow::Result<usize> {
    // The stream belongs to MyAccount; a consumer only binds to it.
    let stream = js.get_stream(&source.stream).await?;
    let consumer = stream
        .get_or_create_consumer(
            &source.consumer_name,
            pull::Config {
                durable_name: Some(source.consumer_name.clone()),
                filter_subject: source.subject.clone(),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                max_deliver: 10,
                ..Default::default()
            },
        )
        .await?;
    let mut seen = SeenIds::new(100_000);
    let mut handled = 0;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        let id = message
            .headers
            .as_ref()
            .and_then(|h| h.get("ce-id"))
            .map(|v| v.as_str().to_owned());
        let Some(id) = id else {
            // Not a MyAccount event: never retry it.
            message.ack_with(AckKind::Term).await.map_err(anyhow::Error::msg)?;
            continue;
        };
        if seen.first_time(&id) {
            match SignInRecorded::decode(message.payload.clone()) {
                Ok(event) => {
                    handle(&id, event);
                    handled += 1;
                }
                Err(e) => {
                    eprintln!("undecodable event {id}: {e}");
                    message.ack_with(AckKind::Term).await.map_err(anyhow::Error::msg)?;
                    continue;
                }
            }
        }
        // Ack only after the effect is done: a crash before this line means redelivery.
        message.ack().await.map_err(anyhow::Error::msg)?;
        if max_events.is_some_and(|max| handled >= max) {
            break;
        }
    }
    Ok(handled)
}

#[cfg(test)]
mod tests {
    use super::SeenIds;

    #[test]
    fn remembers_recent_ids_and_forgets_the_oldest() {
        let mut seen = SeenIds::new(2);
        assert!(seen.first_time("a"));
        assert!(!seen.first_time("a"));
        assert!(seen.first_time("b"));
        assert!(seen.first_time("c"));
        assert!(seen.first_time("a"), "evicted after capacity");
    }
}
