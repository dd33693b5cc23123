//! TLS to NATS: a nats-server of the test's own (the pinned one) that accepts only TLS, with a
//! certificate from a CA made up by the test.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use platform::consumer::Consumer;
use platform::events::{EventBus, NatsTls, Stream};
use platform::outbox::OutboxRelay;
use platform::testing::{NatsServer, TestCa, TestNats, eventually};
use uuid::Uuid;

use crate::helpers::{Counting, DEADLINE, Harness, Running, TEST_MIGRATOR, commit_event, consumer_settings, sign_in};

struct TlsNats {
    server: NatsServer,
    ca: PathBuf,
    dir: PathBuf,
}

impl TlsNats {
    async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("myaccount-nats-tls-{}", Uuid::new_v4().simple()));
        let files = TestCa::new("myaccount test NATS CA").write_server_files(&dir, "nats", &["localhost", "127.0.0.1"]);
        let config = dir.join("nats.conf");
        std::fs::write(
            &config,
            format!(
                "jetstream {{ store_dir: \"{}\" }}\ntls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n  timeout: 2\n}}\n",
                dir.join("jetstream").display(),
                files.cert.display(),
                files.key.display(),
            ),
        )
        .expect("nats.conf");
        let server = NatsServer::start_with_config(config).await;
        Self {
            server,
            ca: files.ca,
            dir,
        }
    }

    /// A namespace on this server, trusting `ca`.
    fn nats(&self, ca: Option<PathBuf>) -> TestNats {
        let mut nats = TestNats::at(&self.server.url());
        nats.settings.tls = NatsTls {
            required: ca.is_some(),
            ca_file: ca,
            client_cert: None,
        };
        nats
    }
}

impl Drop for TlsNats {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[tokio::test]
async fn with_the_servers_ca_events_are_relayed_and_consumed_over_tls() -> Result<()> {
    let nats = TlsNats::start().await;
    let h = Harness::with_nats(&TEST_MIGRATOR, nats.nats(Some(nats.ca.clone()))).await?;
    let bus = &h.bus;
    eventually(DEADLINE, || async move { bus.is_connected() }).await;

    let relay = OutboxRelay::new(
        h.pool.clone(),
        h.bus.clone(),
        "myaccount/platform-tests",
        vec![Stream::SignIn],
    );
    let relay = Running::spawn(move |token| relay.run(token));
    let counting = Counting::default();
    let consumer = Consumer::new(h.pool.clone(), h.bus.clone(), consumer_settings(), counting.clone());
    let consumer = Running::spawn(move |token| consumer.run(token));

    let id = commit_event(&h.pool, &sign_in("u", "over tls")).await?;
    let counted = &counting;
    eventually(DEADLINE, || async move { counted.applied(&id.to_string()) == 1 }).await;
    consumer.stop().await?;
    relay.stop().await
}

#[tokio::test]
async fn a_server_whose_certificate_is_not_trusted_is_never_talked_to() -> Result<()> {
    let nats = TlsNats::start().await;
    let other_ca = TestCa::new("another CA").write_cert(&nats.dir, "other-ca.crt");
    for (what, ca) in [("the system's roots only", None), ("another CA", Some(other_ca))] {
        let settings = nats.nats(ca).settings.clone();
        // The connection is made in the background (a service starts while NATS is away): it
        // must never come up, and nothing is published.
        let bus = EventBus::connect(&settings, "platform-runtime-tests").await?;
        let publish = bus.ensure_streams(&[Stream::SignIn]);
        let outcome = tokio::time::timeout(Duration::from_secs(8), publish).await;
        assert!(
            !matches!(outcome, Ok(Ok(()))),
            "{what}: JetStream answered over an untrusted connection"
        );
        assert!(!bus.is_connected(), "{what}: connected to a server it does not trust");
    }
    let log = nats.server.log();
    assert!(
        log.contains("TLS handshake error"),
        "the server saw no refused handshake: {log}"
    );
    Ok(())
}

#[tokio::test]
async fn requiring_tls_refuses_a_server_that_does_not_offer_it() -> Result<()> {
    // The machine's NATS speaks plain text.
    let mut settings = TestNats::new().settings.clone();
    settings.tls.required = true;
    let bus = EventBus::connect(&settings, "platform-runtime-tests").await?;
    let outcome = tokio::time::timeout(Duration::from_secs(5), bus.ensure_streams(&[Stream::SignIn])).await;
    assert!(!matches!(outcome, Ok(Ok(()))), "JetStream answered in plain text");
    assert!(!bus.is_connected());
    Ok(())
}
