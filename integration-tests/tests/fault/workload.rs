//! What people do while the faults happen: sign-ins (good, bad, with a second factor) and account
//! changes (a device disabled, sign-out everywhere, "this wasn't me", an account deleted), each
//! answer written down with its time for the checks.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use myaccount_integration_tests::AuthenticatorApp;
use myaccount_proto::identity::v1 as pb;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

/// One answer the clients got (or the transport error instead).
#[derive(Debug, Clone)]
pub struct Answer {
    pub at: Instant,
    pub what: &'static str,
    pub outcome: Result<u16, String>,
}

#[derive(Default)]
pub struct Ledger {
    answers: Mutex<Vec<Answer>>,
}

impl Ledger {
    fn record(&self, what: &'static str, outcome: Result<u16, String>) {
        let answer = Answer {
            at: Instant::now(),
            what,
            outcome,
        };
        self.answers.lock().expect("ledger").push(answer);
    }

    pub fn answers(&self) -> Vec<Answer> {
        self.answers.lock().expect("ledger").clone()
    }
}

/// A web client of the gateways (through their balancer). A new connection per request, as many
/// browsers behind a load balancer would open: no request ever rides a connection that a
/// stopping gateway is closing, so an error is the gateway's, not the connection pool's.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    /// Where the person is, as the proxy in front of the gateways reports it
    /// (`X-Forwarded-For`): identity throttles wrong passwords per address, and a burst of
    /// guesses from one address must not lock everybody else out.
    address: String,
    pub ledger: Arc<Ledger>,
}

#[derive(Debug, Clone)]
pub struct Person {
    pub upn: String,
    pub password: String,
    pub id: String,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
}

/// How long a client keeps retrying through an outage (503, or no answer at all) before the
/// test gives up on it: longer than the Postgres outage.
const PATIENCE: Duration = Duration::from_secs(150);

impl Client {
    pub fn new(base: String) -> Self {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client");
        Self {
            http,
            base,
            address: "198.51.100.1".into(),
            ledger: Arc::default(),
        }
    }

    /// The same client, for a person at `address`.
    pub fn at(&self, address: String) -> Self {
        Self {
            address,
            ..self.clone()
        }
    }

    /// One request; the answer is recorded. `None` when no answer came.
    pub async fn call(
        &self,
        what: &'static str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        device: Option<&str>,
    ) -> Option<(StatusCode, Value)> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-forwarded-for", &self.address);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(device) = device {
            request = request.header("x-device-id", device);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                self.ledger.record(what, Ok(status.as_u16()));
                let body = response.json::<Value>().await.unwrap_or(Value::Null);
                Some((status, body))
            }
            Err(e) => {
                self.ledger.record(what, Err(format!("{e:?}")));
                None
            }
        }
    }

    /// As [`Client::call`], retried while the system answers 503 (or not at all), as a client
    /// told "unavailable, try again" does.
    pub async fn call_until_served(
        &self,
        what: &'static str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        device: Option<&str>,
    ) -> (StatusCode, Value) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some((status, body)) = self.call(what, method.clone(), path, token, body, device).await
                && status != StatusCode::SERVICE_UNAVAILABLE
            {
                return (status, body);
            }
            assert!(
                Instant::now() < deadline,
                "{what} {path}: not served within {PATIENCE:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// `POST /auth/sign-in`'s answer for `person` (from `device`), whatever it is: tokens, or a
    /// second step.
    pub async fn sign_in_answer(&self, person: &Person, device: Option<&str>) -> Value {
        let (status, body) = self
            .call_until_served(
                "sign-in",
                Method::POST,
                "/api/v1/auth/sign-in",
                None,
                Some(&json!({ "username": person.upn, "password": person.password })),
                device,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "sign-in of {}: {body}", person.upn);
        body
    }

    pub async fn sign_in(&self, person: &Person, device: Option<&str>) -> Session {
        session_of(&self.sign_in_answer(person, device).await)
    }

    /// `POST /auth/refresh`: the status only.
    pub async fn refresh(&self, session: &Session) -> StatusCode {
        self.call_until_served(
            "refresh",
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(&json!({ "refreshToken": session.refresh_token })),
            None,
        )
        .await
        .0
    }
}

fn session_of(body: &Value) -> Session {
    Session {
        access_token: body["accessToken"].as_str().expect("accessToken").to_owned(),
        refresh_token: body["refreshToken"].as_str().expect("refreshToken").to_owned(),
    }
}

/// The admin's access to identity over gRPC (creating and deleting people), through identity's
/// balancer.
pub struct Admin {
    identity: String,
    /// identity takes a person's calls from the gateway alone: the admin's go as the gateway's.
    gateway_key: std::sync::Arc<platform::workload::WorkloadKey>,
    token: String,
}

impl Admin {
    /// Signs the bootstrap admin in with a second factor (an authenticator app it registers
    /// first): every admin action needs a recent multi-factor sign-in.
    pub async fn sign_in(
        client: &Client,
        identity: String,
        gateway_key: std::sync::Arc<platform::workload::WorkloadKey>,
    ) -> Self {
        let admin = Person {
            upn: crate::fleet::ADMIN_UPN.into(),
            password: crate::fleet::ADMIN_PASSWORD.into(),
            id: String::new(),
        };
        let admin = MfaPerson::enrol(client, admin).await;
        // The step after the one the registration used: within the one-step tolerance now.
        let step = {
            let mut last = admin.last_step.lock().expect("step");
            *last += 1;
            *last
        };
        let first = client.sign_in_answer(&admin.person, None).await;
        assert_eq!(first["mfaRequired"], true, "{first}");
        let (status, body) = client
            .call_until_served(
                "admin second step",
                Method::POST,
                "/api/v1/auth/mfa",
                None,
                Some(&json!({
                    "challengeId": first["challengeId"],
                    "methodId": first["methods"][0]["id"],
                    "code": admin.app.code(step),
                })),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "the admin's second factor: {body}");
        Self {
            identity,
            gateway_key,
            token: session_of(&body).access_token,
        }
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", self.token).parse().expect("header"),
        );
        request
    }

    async fn client(
        &self,
    ) -> pb::identity_service_client::IdentityServiceClient<
        platform::workload::SignedAsWorkload<tonic::transport::Channel>,
    > {
        let channel = tonic::transport::Endpoint::from_shared(self.identity.clone())
            .expect("identity's balancer address")
            .connect()
            .await
            .expect("identity's balancer answers");
        pb::identity_service_client::IdentityServiceClient::new(platform::workload::SignedAsWorkload::new(
            channel,
            self.gateway_key.clone(),
            platform::workload::IDENTITY,
        ))
    }

    /// Creates a person (before the faults: no retry needed).
    pub async fn create_person(&self, tag: &str) -> Person {
        let upn = format!("{tag}.{}@fault.example", &Uuid::new_v4().simple().to_string()[..10]);
        let password = format!("maple {} orbit", Uuid::new_v4().simple());
        let profile = self
            .client()
            .await
            .create_user(self.request(pb::CreateUserRequest {
                user_principal_name: upn.clone(),
                password: password.clone(),
                display_name: "Fault Suite".into(),
                home_organization_id: Uuid::new_v4().to_string(),
                ..Default::default()
            }))
            .await
            .expect("user created")
            .into_inner();
        Person {
            upn,
            password,
            id: profile.id,
        }
    }

    /// Deletes a person, retrying through outages; NOT_FOUND after a retry means an earlier
    /// attempt did it.
    pub async fn delete_person(&self, person: &Person) {
        let deadline = Instant::now() + PATIENCE;
        let mut retried = false;
        loop {
            let answer = self
                .client()
                .await
                .delete_user(self.request(pb::DeleteUserRequest {
                    user_id: person.id.clone(),
                }))
                .await;
            match answer {
                Ok(_) => return,
                Err(status) if retried && status.code() == tonic::Code::NotFound => return,
                Err(status) if matches!(status.code(), tonic::Code::Unavailable | tonic::Code::Unknown) => {
                    assert!(Instant::now() < deadline, "deleting {}: {status:?}", person.upn);
                    retried = true;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(status) => panic!("deleting {}: {status:?}", person.upn),
            }
        }
    }
}

/// A person with an authenticator app; each 30-second code is accepted once.
pub struct MfaPerson {
    pub person: Person,
    pub app: AuthenticatorApp,
    last_step: Mutex<u64>,
}

impl MfaPerson {
    pub async fn enrol(client: &Client, person: Person) -> Self {
        let session = client.sign_in(&person, None).await;
        let (status, started) = client
            .call_until_served(
                "add authenticator app",
                Method::POST,
                "/api/v1/me/security-info/methods",
                Some(&session.access_token),
                Some(&json!({ "type": "authenticatorApp", "name": "Phone" })),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{started}");
        let app = AuthenticatorApp::new(started["secret"].as_str().expect("secret"));
        let method_id = started["methodId"].as_str().expect("methodId");
        let step = AuthenticatorApp::step_now();
        let (status, body) = client
            .call_until_served(
                "verify authenticator app",
                Method::POST,
                &format!("/api/v1/me/security-info/methods/{method_id}/verify"),
                Some(&session.access_token),
                Some(&json!({ "code": app.code(step) })),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        Self {
            person,
            app,
            last_step: Mutex::new(step),
        }
    }

    /// The current step's code when it has not been used yet.
    fn unused_step(&self) -> Option<u64> {
        let now = AuthenticatorApp::step_now();
        let mut last = self.last_step.lock().expect("step");
        (now > *last).then(|| {
            *last = now;
            now
        })
    }
}

/// Who the sign-in burst signs in as.
pub struct People {
    pub good: Vec<Person>,
    /// Their passwords are guessed wrong (they are never signed in correctly, so throttling
    /// them changes nothing for the others).
    pub victims: Vec<Person>,
    pub mfa: Vec<MfaPerson>,
}

/// What the burst sent, per kind.
#[derive(Debug, Default, Clone, Copy)]
pub struct BurstCounts {
    pub good: u64,
    pub bad: u64,
    pub mfa: u64,
}

/// Signs in as fast as `workers` clients can until `stop`: mostly good passwords, some wrong
/// ones (existing and unknown accounts), and a second factor whenever one of the MFA people has
/// an unused code.
pub async fn sign_in_burst(
    client: Client,
    people: Arc<People>,
    workers: usize,
    stop: tokio_util::sync::CancellationToken,
) -> BurstCounts {
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..workers {
        let client = client.clone();
        let people = people.clone();
        let stop = stop.clone();
        tasks.spawn(async move {
            let mut counts = BurstCounts::default();
            let mut i = worker;
            let person_client = client.at(format!("198.51.100.{}", 10 + worker));
            while !stop.is_cancelled() {
                i += workers;
                let mfa = people.mfa.iter().find_map(|p| p.unused_step().map(|step| (p, step)));
                if let Some((person, step)) = mfa {
                    sign_in_with_code(&person_client, person, step).await;
                    counts.mfa += 1;
                } else if i % 5 == 0 {
                    let guessed = if i % 10 == 0 {
                        format!("nobody.{i}@fault.example")
                    } else {
                        people.victims[i % people.victims.len()].upn.clone()
                    };
                    // Guesses from many addresses, as a spraying attacker's.
                    client
                        .at(format!("203.0.113.{}", 1 + i % 250))
                        .call(
                            "bad sign-in",
                            Method::POST,
                            "/api/v1/auth/sign-in",
                            None,
                            Some(&json!({ "username": guessed, "password": "wrong horse battery" })),
                            None,
                        )
                        .await;
                    counts.bad += 1;
                } else {
                    let person = &people.good[i % people.good.len()];
                    person_client
                        .call(
                            "sign-in",
                            Method::POST,
                            "/api/v1/auth/sign-in",
                            None,
                            Some(&json!({ "username": person.upn, "password": person.password })),
                            None,
                        )
                        .await;
                    counts.good += 1;
                }
            }
            counts
        });
    }
    let mut total = BurstCounts::default();
    while let Some(counts) = tasks.join_next().await {
        let counts = counts.expect("a burst worker");
        total.good += counts.good;
        total.bad += counts.bad;
        total.mfa += counts.mfa;
    }
    total
}

async fn sign_in_with_code(client: &Client, person: &MfaPerson, step: u64) {
    let Some((StatusCode::OK, first)) = client
        .call(
            "mfa sign-in",
            Method::POST,
            "/api/v1/auth/sign-in",
            None,
            Some(&json!({ "username": person.person.upn, "password": person.person.password })),
            None,
        )
        .await
    else {
        return;
    };
    assert_eq!(first["mfaRequired"], true, "{first}");
    client
        .call(
            "mfa second step",
            Method::POST,
            "/api/v1/auth/mfa",
            None,
            Some(&json!({
                "challengeId": first["challengeId"],
                "methodId": first["methods"][0]["id"],
                "code": person.app.code(step),
            })),
            None,
        )
        .await;
}

/// An account change made during the faults, and what must follow from it.
#[derive(Debug)]
pub enum Change {
    /// Sessions bound to the device end (identity consumes `devices.v1.disabled`).
    DeviceDisabled { on_device: Session },
    /// Every session ends, and every service refuses the access token (revocation feed).
    SignedOutEverywhere { sessions: Vec<Session> },
    /// "This wasn't me": identity ends every session (it consumes `signin.v1.flagged`).
    NotMe { session: Session },
    /// Every service erases the person (`identity.v1.user_deleted`).
    Deleted { person: Person },
}

/// People set aside for the account changes: four per round of changes.
pub struct ChangeKit {
    pub device_owner: Person,
    pub everywhere: Person,
    pub not_me: Person,
    pub deleted: Person,
}

/// Makes the four changes of `kit`, retrying through outages as a person would.
pub async fn make_changes(client: &Client, admin: &Admin, identity_db: &sqlx::PgPool, kit: &ChangeKit) -> Vec<Change> {
    let mut changes = Vec::new();

    // A lost laptop, disabled.
    let desk = client.sign_in(&kit.device_owner, None).await;
    let device = register_device(client, &desk).await;
    wait_until_identity_knows_device(identity_db, &device).await;
    let on_device = client.sign_in(&kit.device_owner, Some(&device)).await;
    let (status, body) = client
        .call_until_served(
            "disable device",
            Method::POST,
            &format!("/api/v1/me/devices/{device}/disable"),
            Some(&desk.access_token),
            None,
            None,
        )
        .await;
    assert!(status.is_success(), "disabling a device: {status} {body}");
    changes.push(Change::DeviceDisabled { on_device });

    // Sign out everywhere.
    let first = client.sign_in(&kit.everywhere, None).await;
    let second = client.sign_in(&kit.everywhere, None).await;
    let (status, body) = client
        .call_until_served(
            "sign out everywhere",
            Method::POST,
            "/api/v1/me/sessions/revoke-all",
            Some(&first.access_token),
            None,
            None,
        )
        .await;
    assert!(status.is_success(), "sign out everywhere: {status} {body}");
    changes.push(Change::SignedOutEverywhere {
        sessions: vec![first, second],
    });

    // "This wasn't me", about the sign-in of this very session.
    let session = client.sign_in(&kit.not_me, None).await;
    let sign_in_id = wait_for_my_sign_in(client, &session).await;
    let (status, body) = client
        .call_until_served(
            "this wasn't me",
            Method::POST,
            &format!("/api/v1/me/sign-ins/{sign_in_id}/review"),
            Some(&session.access_token),
            Some(&json!({ "verdict": "not_me" })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "review: {body}");
    changes.push(Change::NotMe { session });

    // An account with a device, deleted by an admin.
    let session = client.sign_in(&kit.deleted, None).await;
    register_device(client, &session).await;
    admin.delete_person(&kit.deleted).await;
    changes.push(Change::Deleted {
        person: kit.deleted.clone(),
    });
    changes
}

async fn register_device(client: &Client, session: &Session) -> String {
    let (status, body) = client
        .call_until_served(
            "register device",
            Method::POST,
            "/api/v1/me/devices",
            Some(&session.access_token),
            Some(&json!({ "displayName": "Laptop", "deviceType": "laptop", "operatingSystem": "Windows" })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().expect("a device id").to_owned()
}

/// Only once identity heard of the device does a sign-in naming it bind its session to it.
async fn wait_until_identity_knows_device(identity_db: &sqlx::PgPool, device: &str) {
    let device = Uuid::parse_str(device).expect("a device id");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let known = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM registered_devices WHERE device_id = $1")
            .bind(device)
            .fetch_one(identity_db)
            .await
            .is_ok_and(|n| n == 1);
        if known {
            return;
        }
        assert!(Instant::now() < deadline, "identity never heard of device {device}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The id of my newest sign-in, once audit has it.
async fn wait_for_my_sign_in(client: &Client, session: &Session) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, body) = client
            .call_until_served(
                "my sign-ins",
                Method::GET,
                "/api/v1/me/sign-ins?pageSize=1",
                Some(&session.access_token),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if let Some(id) = body["items"][0]["id"].as_str() {
            return id.to_owned();
        }
        assert!(Instant::now() < deadline, "my sign-in never reached audit");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
