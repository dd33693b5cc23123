//! The fenced plane: the whole system on a NATS server started with `myaccount nats-config`'s
//! configuration, each service connected as its own nkey user. Everything works, the server
//! refuses nothing the services do, and it refuses what nobody is allowed: an anonymous client,
//! and one service publishing another's event.

use std::path::PathBuf;
use std::time::Duration;

use myaccount::nats_config::{self, PlaneOptions, WrittenPlane};
use myaccount_integration_tests::TestSystem;
use platform::testing::{NatsServer, TestNats};
use reqwest::{Method, StatusCode};

const WITHIN: Duration = Duration::from_secs(20);

/// A nats-server running the generated configuration, and where it was written.
struct Plane {
    server: NatsServer,
    written: WrittenPlane,
    dir: PathBuf,
}

impl Plane {
    /// Writes the configuration for `nats`'s namespace, starts the server and points `nats`
    /// (and each service's seed) at it.
    async fn start(nats: &mut TestNats) -> Self {
        let dir = std::env::temp_dir().join(format!("myaccount-plane-{}", uuid::Uuid::new_v4().simple()));
        let options = PlaneOptions {
            listen: "127.0.0.1:4222".into(),
            store_dir: dir.join("jetstream"),
            namespace: nats.settings.namespace.clone(),
        };
        let written = nats_config::write(&dir, &options).expect("the plane's configuration is written");
        let server = NatsServer::start_with_config(written.server_config.clone()).await;
        nats.settings.url = server.url();
        for (name, _, seed) in &written.seed_files {
            nats.seed_files.insert((*name).to_owned(), seed.clone());
        }
        Self { server, written, dir }
    }

    fn violations(&self) -> Vec<String> {
        self.server
            .log()
            .lines()
            .filter(|line| line.contains("Violation"))
            .map(str::to_owned)
            .collect()
    }

    /// Waits until `condition` holds; on timeout, says what and what the server refused.
    async fn until<F, Fut>(&self, what: &str, mut condition: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let start = tokio::time::Instant::now();
        while !condition().await {
            assert!(
                start.elapsed() < WITHIN,
                "{what}: not within {WITHIN:?}; the server refused: {:#?}",
                self.violations()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn connect_as(&self, service: &str) -> async_nats::Client {
        let seed = std::fs::read_to_string(self.written.seed_file(service).expect("a seed")).expect("seed file");
        async_nats::ConnectOptions::with_nkey(seed.trim().to_owned())
            .custom_inbox_prefix(platform::events::inbox_prefix(service))
            .connect(self.server.url())
            .await
            .expect("a service connects with its own seed")
    }
}

impl Drop for Plane {
    fn drop(&mut self) {
        self.server.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn every_service_works_as_its_own_nats_user_and_no_one_else_gets_in() {
    let mut nats = TestNats::new();
    let namespace = nats.settings.namespace.clone().expect("a test namespace");
    let plane = Plane::start(&mut nats).await;
    let system = TestSystem::spawn_with_nats(nats).await;

    // A person signs in and registers a device: identity, devices and audit publish and consume.
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    let device = system.register_device(&session.access_token, "Laptop", "laptop").await;
    assert_eq!(system.wait_for_sign_ins(&session.access_token, 1).await.len(), 1);
    // Every section answers: each service follows the revocations as itself.
    for path in [
        "/api/v1/me/profile".to_owned(),
        "/api/v1/me/security-info".to_owned(),
        "/api/v1/me/devices".to_owned(),
        format!("/api/v1/me/devices/{device}/recovery-keys"),
        "/api/v1/me/organizations".to_owned(),
        "/api/v1/me/activity".to_owned(),
    ] {
        plane
            .until(&format!("{path} answers"), || async {
                system.get(&path, &session.access_token).await.status() == StatusCode::OK
            })
            .await;
    }
    // The activity log (audit's stream-wide consumers) hears from identity, from organizations
    // (which heard of the new person from identity) and from devices.
    plane
        .until(
            "identity's, organizations' and devices' events in the activity log",
            || async {
                let page: serde_json::Value = system
                    .get("/api/v1/me/activity", &session.access_token)
                    .await
                    .json()
                    .await
                    .unwrap_or_default();
                let seen: Vec<(String, String)> = page["items"]
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .map(|i| {
                                (
                                    i["category"].as_str().unwrap_or_default().to_owned(),
                                    i["activity"].as_str().unwrap_or_default().to_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                [
                    ("account", "user_created"),
                    ("organizations", "member_joined"),
                    ("devices", "registered"),
                ]
                .iter()
                .all(|(category, activity)| seen.iter().any(|(c, a)| c == category && a == activity))
            },
        )
        .await;
    // Signing out everywhere: identity publishes the revocation, every service applies it.
    let ended = system
        .request(
            Method::POST,
            "/api/v1/me/sessions/revoke-all",
            Some(&session.access_token),
            None,
        )
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    // (identity's own check, and devices through the revocation feed it follows as itself.)
    for path in ["/api/v1/me/profile", "/api/v1/me/devices"] {
        plane
            .until(&format!("{path} refuses the ended session"), || async {
                system.get(path, &session.access_token).await.status() == StatusCode::UNAUTHORIZED
            })
            .await;
    }
    assert_eq!(plane.violations(), Vec::<String>::new(), "the server refused a service");

    // Nobody connects without credentials.
    let anonymous = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(plane.server.url())
        .await;
    assert!(anonymous.is_err(), "an anonymous client was let in");

    // devices may not publish identity's events: the server drops the message and says so.
    let devices = plane.connect_as("devices").await;
    let forged = format!("{namespace}.myaccount.identity.v1.user_deleted");
    let mut jetstream = async_nats::jetstream::new(devices.clone());
    jetstream.set_timeout(Duration::from_secs(2));
    let published = match jetstream.publish(forged.clone(), "forged".into()).await {
        Ok(ack) => ack.await.is_ok(),
        Err(_) => false,
    };
    assert!(!published, "a forged user_deleted was stored");
    // Nor read another service's durable consumer.
    let identity_stream = format!("{}_MYACCOUNT_SIGNIN", namespace.to_ascii_uppercase());
    let _ = devices
        .publish(
            format!("$JS.API.CONSUMER.MSG.NEXT.{identity_stream}.identity_flagged"),
            "1".into(),
        )
        .await;
    devices.flush().await.expect("flush");
    plane
        .until("the server reports both refusals", || async {
            let violations = plane.violations();
            violations.iter().any(|v| v.contains(&forged)) && violations.iter().any(|v| v.contains("identity_flagged"))
        })
        .await;
}
