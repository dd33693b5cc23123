//! OpenID Shared Signals end to end, from a relying party's side: a receiver written to SSF
//! 1.0, RFC 6749 (client credentials), RFC 8417 (SETs), RFC 8935 (push) and RFC 8936 (poll)
//! discovers the transmitter, gets a token, creates streams, and verifies every SET it receives
//! against the `jwks_uri` the discovery names. People end sessions and change their password
//! through the gateway; their SETs arrive by poll and by push, also after the receiver was down.
//! The receiver also verifies its stream (state echoed, 429 inside the interval), manages its
//! subjects and status, and hears the operator's stream-updated. Every event type MyAccount
//! transmits reaches it by poll and by push: CAEP's session-revoked, credential-change,
//! device-compliance-change, risk-level-change and assurance-level-change, and RISC's
//! credential-compromise ("this wasn't me"), recovery-activated, recovery-information-changed,
//! account-disabled, account-enabled, account-purged and identifier-changed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use myaccount_integration_tests::{Session, TestSystem, TestUser};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
const CREDENTIAL_CHANGE: &str = "https://schemas.openid.net/secevent/caep/event-type/credential-change";
const DEADLINE: Duration = Duration::from_secs(30);

/// A relying party subscribed to MyAccount's signals.
struct Receiver<'a> {
    system: &'a TestSystem,
    audience: String,
    configuration: Value,
    jwks: JwkSet,
    access_token: String,
}

impl<'a> Receiver<'a> {
    /// Registered by the operator, then on its own: discovery, keys, a token.
    async fn subscribe(system: &'a TestSystem) -> Self {
        let audience = format!("https://rp-{}.example.com", uuid::Uuid::new_v4().simple());
        let (client_id, client_secret) = system.add_ssf_receiver("Payroll", &audience).await;
        let configuration: Value = system
            .http
            .get(system.url("/.well-known/ssf-configuration"))
            .send()
            .await
            .expect("discovery answers")
            .json()
            .await
            .expect("json");
        assert_eq!(configuration["spec_version"], "1_0");
        assert_eq!(configuration["issuer"], system.gateway);
        assert_eq!(
            configuration["delivery_methods_supported"],
            json!(["urn:ietf:rfc:8935", "urn:ietf:rfc:8936"])
        );
        for endpoint in [
            "configuration_endpoint",
            "status_endpoint",
            "add_subject_endpoint",
            "remove_subject_endpoint",
            "verification_endpoint",
        ] {
            assert!(
                configuration[endpoint]
                    .as_str()
                    .is_some_and(|u| u.starts_with(&system.gateway)),
                "{endpoint} in {configuration}"
            );
        }
        assert_eq!(configuration["default_subjects"], "NONE");
        let jwks: JwkSet = system
            .http
            .get(configuration["jwks_uri"].as_str().expect("jwks_uri"))
            .send()
            .await
            .expect("the key set answers")
            .json()
            .await
            .expect("a JWK set");
        let token = token_request(system, &client_id, &client_secret, "grant_type=client_credentials").await;
        assert_eq!(token.status(), StatusCode::OK);
        assert_eq!(header_of(&token, "cache-control"), "no-store");
        let token: Value = token.json().await.expect("json");
        assert_eq!(token["token_type"], "Bearer");
        assert_eq!(token["scope"], "ssf.manage ssf.read");
        Self {
            system,
            audience,
            jwks,
            access_token: token["access_token"].as_str().expect("access_token").to_owned(),
            configuration,
        }
    }

    async fn create_stream(&self, delivery: Value) -> Value {
        let response = self
            .system
            .http
            .post(self.configuration["configuration_endpoint"].as_str().expect("endpoint"))
            .bearer_auth(&self.access_token)
            .json(&json!({
                "delivery": delivery,
                "events_requested": [SESSION_REVOKED, CREDENTIAL_CHANGE],
                "default_subjects": "ALL",
            }))
            .send()
            .await
            .expect("the gateway answers");
        assert_eq!(response.status(), StatusCode::CREATED);
        let stream: Value = response.json().await.expect("json");
        assert_eq!(stream["iss"], self.configuration["issuer"]);
        assert_eq!(stream["aud"], self.audience);
        assert_eq!(stream["events_delivered"], json!([SESSION_REVOKED, CREDENTIAL_CHANGE]));
        stream
    }

    /// The transmitter's key set as `jwks_uri` serves it now.
    async fn fetch_jwks(&self) -> JwkSet {
        self.system
            .http
            .get(self.configuration["jwks_uri"].as_str().expect("jwks_uri"))
            .send()
            .await
            .expect("the key set answers")
            .json()
            .await
            .expect("a JWK set")
    }

    /// RFC 8936: polls (acknowledging nothing) until `count` SETs wait, and returns them.
    async fn poll_until(&self, stream: &Value, count: usize) -> BTreeMap<String, String> {
        let endpoint = stream["delivery"]["endpoint_url"].as_str().expect("the poll endpoint");
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let answer: Value = self
                .system
                .http
                .post(endpoint)
                .bearer_auth(&self.access_token)
                .json(&json!({"maxEvents": 10}))
                .send()
                .await
                .expect("the gateway answers")
                .json()
                .await
                .expect("json");
            let sets: BTreeMap<String, String> = serde_json::from_value(answer["sets"].clone()).expect("sets");
            if sets.len() >= count {
                return sets;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{count} SETs expected, got {answer}"
            );
        }
    }

    /// A POST of `body` to the discovery's `endpoint`.
    async fn post(&self, endpoint: &str, body: Value) -> reqwest::Response {
        self.system
            .http
            .post(self.configuration[endpoint].as_str().expect("an advertised endpoint"))
            .bearer_auth(&self.access_token)
            .json(&body)
            .send()
            .await
            .expect("the gateway answers")
    }

    async fn acknowledge(&self, stream: &Value, jtis: Vec<String>) -> Value {
        self.system
            .http
            .post(stream["delivery"]["endpoint_url"].as_str().expect("the poll endpoint"))
            .bearer_auth(&self.access_token)
            .json(&json!({"ack": jtis, "returnImmediately": true}))
            .send()
            .await
            .expect("the gateway answers")
            .json()
            .await
            .expect("json")
    }

    /// Verifies a SET as RFC 8417 and SSF 1.0 section 4 ask, and returns its claims.
    fn verify(&self, token: &str) -> Value {
        let header = jsonwebtoken::decode_header(token).expect("a JWS header");
        assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
        assert_eq!(header.alg, Algorithm::RS256);
        let jwk = self
            .jwks
            .find(header.kid.as_deref().expect("kid"))
            .expect("kid in jwks_uri");
        let key = DecodingKey::from_jwk(jwk).expect("an RSA key");
        let modulus = match &jwk.algorithm {
            jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) => base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&rsa.n)
                .expect("base64url modulus"),
            other => panic!("an RSA key expected, got {other:?}"),
        };
        assert!(modulus.len() * 8 >= 2048, "keys of at least 2048 bits");
        let mut validation = Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.set_issuer(&[self.configuration["issuer"].as_str().expect("issuer")]);
        validation.set_audience(&[&self.audience]);
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .expect("signature, iss and aud verify")
            .claims;
        assert!(claims.get("sub").is_none() && claims.get("exp").is_none(), "{claims}");
        for claim in ["iat", "jti", "txn", "sub_id"] {
            assert!(claims.get(claim).is_some(), "{claim} missing: {claims}");
        }
        assert_eq!(claims["events"].as_object().map(serde_json::Map::len), Some(1));
        claims
    }
}

async fn token_request(system: &TestSystem, client_id: &str, secret: &str, body: &str) -> reqwest::Response {
    system
        .http
        .post(system.url("/oauth2/token"))
        .basic_auth(client_id, Some(secret))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .expect("the gateway answers")
}

fn header_of(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn event(claims: &Value) -> (String, Value) {
    let (uri, body) = claims["events"]
        .as_object()
        .and_then(|e| e.iter().next())
        .expect("an event");
    (uri.clone(), body.clone())
}

/// The person signs out of one session and changes their password from another.
async fn sign_out_then_change_password(system: &TestSystem, user: &TestUser) -> (Session, Session) {
    let leaving = system.sign_in_ok(user).await;
    let staying = system.sign_in_ok(user).await;
    let signed_out = system
        .request(Method::POST, "/api/v1/auth/sign-out", Some(&leaving.access_token), None)
        .await;
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    let changed = system
        .request(
            Method::POST,
            "/api/v1/me/password",
            Some(&staying.access_token),
            Some(&json!({
                "currentPassword": user.password,
                "newPassword": "a brand new passphrase for the signals story",
                "endOtherSessions": false,
            })),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    (leaving, staying)
}

#[tokio::test]
async fn a_receiver_polls_verified_sets_of_an_ended_session_and_a_changed_password() {
    let system = TestSystem::spawn().await;
    let receiver = Receiver::subscribe(&system).await;
    let stream = receiver.create_stream(json!({"method": "urn:ietf:rfc:8936"})).await;
    assert!(
        stream["delivery"]["endpoint_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&system.gateway)),
        "the transmitter names where to poll: {stream}"
    );
    let user = system.create_user().await;
    sign_out_then_change_password(&system, &user).await;

    let sets = receiver.poll_until(&stream, 2).await;
    let mut seen = BTreeMap::new();
    for (jti, token) in &sets {
        let claims = receiver.verify(token);
        assert_eq!(&claims["jti"], jti);
        assert_eq!(claims["sub_id"]["user"]["sub"], user.id);
        let (uri, body) = event(&claims);
        seen.insert(uri, body);
    }
    let revoked = &seen[SESSION_REVOKED];
    assert_eq!(revoked["initiating_entity"], "user");
    assert!(revoked["event_timestamp"].is_i64());
    let changed = &seen[CREDENTIAL_CHANGE];
    assert_eq!(changed["credential_type"], "password");
    assert_eq!(changed["change_type"], "update");

    let after = receiver.acknowledge(&stream, sets.keys().cloned().collect()).await;
    assert_eq!(after["sets"], json!({}));
    assert_eq!(after["moreAvailable"], false);
}

/// An RFC 8935 push endpoint that can be down (503).
#[derive(Clone, Default)]
struct PushEndpoint {
    received: Arc<Mutex<Vec<String>>>,
    down: Arc<AtomicBool>,
    refused: Arc<AtomicUsize>,
}

impl PushEndpoint {
    async fn start(&self) -> String {
        let state = self.clone();
        let app = axum::Router::new().route(
            "/events",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let state = state.clone();
                async move {
                    if state.down.load(Ordering::SeqCst) {
                        state.refused.fetch_add(1, Ordering::SeqCst);
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let typed =
                        headers.get("content-type").and_then(|v| v.to_str().ok()) == Some("application/secevent+jwt");
                    let authorized = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer rp");
                    if !typed || !authorized {
                        return axum::http::StatusCode::BAD_REQUEST;
                    }
                    state.received.lock().expect("lock").push(body);
                    axum::http::StatusCode::ACCEPTED
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://127.0.0.1:{port}/events")
    }

    fn received(&self) -> Vec<String> {
        self.received.lock().expect("lock").clone()
    }
}

#[tokio::test]
async fn a_push_receiver_that_was_down_gets_every_set_when_it_comes_back() {
    let system = TestSystem::spawn().await;
    let receiver = Receiver::subscribe(&system).await;
    let endpoint = PushEndpoint::default();
    endpoint.down.store(true, Ordering::SeqCst);
    let url = endpoint.start().await;
    receiver
        .create_stream(json!({
            "method": "urn:ietf:rfc:8935",
            "endpoint_url": url,
            "authorization_header": "Bearer rp",
        }))
        .await;
    let user = system.create_user().await;
    sign_out_then_change_password(&system, &user).await;

    let deadline = tokio::time::Instant::now() + DEADLINE;
    while endpoint.refused.load(Ordering::SeqCst) < 2 {
        assert!(tokio::time::Instant::now() < deadline, "the transmitter did not try");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    endpoint.down.store(false, Ordering::SeqCst);
    while endpoint.received().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the SETs did not arrive: {:?}",
            endpoint.received()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let types: std::collections::BTreeSet<String> = endpoint
        .received()
        .iter()
        .map(|token| {
            let claims = receiver.verify(token);
            assert_eq!(claims["sub_id"]["user"]["sub"], user.id);
            event(&claims).0
        })
        .collect();
    assert_eq!(types, [SESSION_REVOKED.to_owned(), CREDENTIAL_CHANGE.to_owned()].into());
}

#[tokio::test]
async fn the_token_endpoint_answers_rfc_6749_errors() {
    let system = TestSystem::spawn().await;
    let (client_id, secret) = system.add_ssf_receiver("Payroll", "https://payroll.example.com").await;

    let wrong = token_request(&system, &client_id, "guess", "grant_type=client_credentials").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(header_of(&wrong, "www-authenticate").starts_with("Basic"));
    assert_eq!(wrong.json::<Value>().await.expect("json")["error"], "invalid_client");

    let grant = token_request(&system, &client_id, &secret, "grant_type=password").await;
    assert_eq!(grant.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        grant.json::<Value>().await.expect("json")["error"],
        "unsupported_grant_type"
    );

    let missing = token_request(&system, &client_id, &secret, "scope=ssf.read").await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(missing.json::<Value>().await.expect("json")["error"], "invalid_request");

    // A token is taken from the Authorization header only.
    let token: Value = token_request(&system, &client_id, &secret, "grant_type=client_credentials")
        .await
        .json()
        .await
        .expect("json");
    let in_query = system
        .http
        .get(system.url(&format!(
            "/ssf/streams?access_token={}",
            token["access_token"].as_str().expect("token")
        )))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(in_query.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_receiver_verifies_its_stream_manages_its_subjects_and_pauses_it() {
    let system = TestSystem::spawn().await;
    let receiver = Receiver::subscribe(&system).await;
    let created = receiver
        .post(
            "configuration_endpoint",
            json!({"delivery": {"method": "urn:ietf:rfc:8936"}, "events_requested": [SESSION_REVOKED]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let stream: Value = created.json().await.expect("json");
    assert_eq!(
        stream["default_subjects"], "NONE",
        "only its subjects unless it asks for all"
    );
    let stream_id = stream["stream_id"].as_str().expect("stream_id").to_owned();
    // Every person's sessions, to know when the events below were all consumed.
    let witness = receiver.create_stream(json!({"method": "urn:ietf:rfc:8936"})).await;

    // Verification: 204, then 429 with Retry-After inside min_verification_interval.
    let interval = stream["min_verification_interval"]
        .as_i64()
        .expect("min_verification_interval");
    assert!(interval > 0);
    let verified = receiver
        .post("verification_endpoint", json!({"stream_id": stream_id, "state": "czE"}))
        .await;
    assert_eq!(verified.status(), StatusCode::NO_CONTENT);
    let again = receiver
        .post("verification_endpoint", json!({"stream_id": stream_id, "state": "czI"}))
        .await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = header_of(&again, "retry-after").parse().expect("Retry-After seconds");
    assert!((1..=interval).contains(&retry_after));
    let sets = receiver.poll_until(&stream, 1).await;
    let claims = receiver.verify(sets.values().next().expect("a SET"));
    assert_eq!(
        event(&claims),
        (
            "https://schemas.openid.net/secevent/ssf/event-type/verification".to_owned(),
            json!({"state": "czE"})
        )
    );
    assert_eq!(claims["sub_id"], json!({"format": "opaque", "id": stream_id}));
    receiver.acknowledge(&stream, sets.keys().cloned().collect()).await;

    // Subjects: only the added person's sessions reach the stream.
    let (added, other) = (system.create_user().await, system.create_user().await);
    let subject = json!({"format": "iss_sub", "iss": receiver.configuration["issuer"], "sub": added.id});
    let add = receiver
        .post(
            "add_subject_endpoint",
            json!({"stream_id": stream_id, "subject": subject}),
        )
        .await;
    assert_eq!(add.status(), StatusCode::OK);
    let unknown_format = receiver
        .post(
            "add_subject_endpoint",
            json!({"stream_id": stream_id, "subject": {"format": "email", "email": "a@example.com"}}),
        )
        .await;
    assert_eq!(unknown_format.status(), StatusCode::BAD_REQUEST);
    for user in [&other, &added] {
        let session = system.sign_in_ok(user).await;
        let signed_out = system
            .request(Method::POST, "/api/v1/auth/sign-out", Some(&session.access_token), None)
            .await;
        assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    }
    receiver.poll_until(&witness, 2).await;
    let sets = receiver.poll_until(&stream, 1).await;
    assert_eq!(sets.len(), 1, "only the subject's SET: {sets:?}");
    let claims = receiver.verify(sets.values().next().expect("a SET"));
    assert_eq!(claims["sub_id"]["user"]["sub"], added.id);
    let removed = receiver
        .post(
            "remove_subject_endpoint",
            json!({"stream_id": stream_id, "subject": subject}),
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);

    // Status: paused with a reason, read back.
    let paused = receiver
        .post(
            "status_endpoint",
            json!({"stream_id": stream_id, "status": "paused", "reason": "maintenance"}),
        )
        .await;
    assert_eq!(paused.status(), StatusCode::OK);
    let status: Value = system
        .http
        .get(format!(
            "{}?stream_id={stream_id}",
            receiver.configuration["status_endpoint"]
                .as_str()
                .expect("status_endpoint")
        ))
        .bearer_auth(&receiver.access_token)
        .send()
        .await
        .expect("the gateway answers")
        .json()
        .await
        .expect("json");
    assert_eq!(
        status,
        json!({"stream_id": stream_id, "status": "paused", "reason": "maintenance"})
    );

    // PATCH changes what it names and answers the whole configuration.
    let patched = system
        .http
        .patch(receiver.configuration["configuration_endpoint"].as_str().expect("endpoint"))
        .bearer_auth(&receiver.access_token)
        .json(&json!({"stream_id": stream_id, "description": "sessions of one person", "iss": receiver.configuration["issuer"]}))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.expect("json");
    assert_eq!(patched["description"], "sessions of one person");
    assert_eq!(patched["events_requested"], json!([SESSION_REVOKED]));
}

/// The person signs in and says, on "My sign-ins", that the sign-in was not them.
async fn report_not_me(system: &TestSystem, user: &TestUser) {
    let session = system.sign_in_ok(user).await;
    let sign_ins = system.wait_for_sign_ins(&session.access_token, 1).await;
    let suspicious = sign_ins[0]["id"].as_str().expect("id").to_owned();
    let review = system
        .request(
            Method::POST,
            &format!("/api/v1/me/sign-ins/{suspicious}/review"),
            Some(&session.access_token),
            Some(&json!({ "verdict": "not_me" })),
        )
        .await;
    assert_eq!(review.status(), StatusCode::OK);
}

#[tokio::test]
async fn this_wasnt_me_reaches_a_poll_receiver_as_a_risc_credential_compromise() {
    let system = TestSystem::spawn().await;
    let receiver = Receiver::subscribe(&system).await;
    let compromise = "https://schemas.openid.net/secevent/risc/event-type/credential-compromise";
    let created = receiver
        .post(
            "configuration_endpoint",
            json!({"delivery": {"method": "urn:ietf:rfc:8936"}, "events_requested": [compromise], "default_subjects": "ALL"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let stream: Value = created.json().await.expect("json");
    assert_eq!(stream["events_delivered"], json!([compromise]));

    let user = system.create_user().await;
    report_not_me(&system, &user).await;

    let sets = receiver.poll_until(&stream, 1).await;
    assert_eq!(sets.len(), 1, "{sets:?}");
    let claims = receiver.verify(sets.values().next().expect("a SET"));
    assert_eq!(claims["sub_id"]["user"]["sub"], user.id);
    let (uri, body) = event(&claims);
    assert_eq!(uri, compromise);
    assert_eq!(body["credential_type"], "password");
    assert_eq!(body["initiating_entity"], "user");
}

#[tokio::test]
async fn the_operator_pausing_a_stream_sends_a_stream_updated_set_and_holds_the_rest() {
    let system = TestSystem::spawn().await;
    let receiver = Receiver::subscribe(&system).await;
    let stream = receiver.create_stream(json!({"method": "urn:ietf:rfc:8936"})).await;
    let stream_id = stream["stream_id"].as_str().expect("stream_id").to_owned();

    system.set_ssf_stream_status(&stream_id, "paused", "maintenance").await;
    let user = system.create_user().await;
    sign_out_then_change_password(&system, &user).await;
    let sets = receiver.poll_until(&stream, 1).await;
    let claims = receiver.verify(sets.values().next().expect("a SET"));
    assert_eq!(
        event(&claims),
        (
            "https://schemas.openid.net/secevent/ssf/event-type/stream-updated".to_owned(),
            json!({"status": "paused", "reason": "maintenance"})
        )
    );
    assert_eq!(claims["sub_id"], json!({"format": "opaque", "id": stream_id}));
    let after = receiver.acknowledge(&stream, sets.keys().cloned().collect()).await;
    assert_eq!(after["sets"], json!({}), "the paused stream holds the person's SETs");

    system.set_ssf_stream_status(&stream_id, "enabled", "").await;
    // The enabling notice and the two held SETs.
    let sets = receiver.poll_until(&stream, 3).await;
    let mut kinds: Vec<String> = sets.values().map(|t| event(&receiver.verify(t)).0).collect();
    kinds.sort();
    let mut expected = vec![
        SESSION_REVOKED.to_owned(),
        CREDENTIAL_CHANGE.to_owned(),
        "https://schemas.openid.net/secevent/ssf/event-type/stream-updated".to_owned(),
    ];
    expected.sort();
    assert_eq!(kinds, expected);
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("a JWS header")
        .kid
        .expect("a kid")
}

fn published(jwks: &JwkSet, kid: &str) -> bool {
    jwks.find(kid).is_some()
}

async fn sign_in_and_out(system: &TestSystem, user: &TestUser) {
    let session = system.sign_in_ok(user).await;
    let signed_out = system
        .request(Method::POST, "/api/v1/auth/sign-out", Some(&session.access_token), None)
        .await;
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
}

/// The SET signing key rotates without a gap: the new key is at `jwks_uri` before it signs, and
/// the old one stays there while a SET it signed waits for the receiver, however long past the
/// rotation, and leaves once that SET is acknowledged.
#[tokio::test]
async fn sets_verify_across_a_signing_key_rotation_and_the_old_key_stays_while_its_sets_wait() {
    let system = TestSystem::spawn().await;
    let mut receiver = Receiver::subscribe(&system).await;
    let stream = receiver.create_stream(json!({"method": "urn:ietf:rfc:8936"})).await;
    let user = system.create_user().await;
    // A SET signed with the first key, left unacknowledged: the receiver is slow.
    sign_in_and_out(&system, &user).await;
    let held = receiver.poll_until(&stream, 1).await;
    let (held_jti, held_token) = held.iter().next().expect("a SET");
    let (held_jti, held_token) = (held_jti.clone(), held_token.clone());
    let old_kid = kid_of(&held_token);
    receiver.verify(&held_token);

    let signals_db = sqlx::PgPool::connect(&system.signals_db.settings.url)
        .await
        .expect("signals' database");
    let rotation = myaccount_signals::keys::rotate_signing_key(
        &signals_db,
        &system.signals_keyring,
        &system.signals_keys,
        chrono::Utc::now(),
    )
    .await
    .expect("rotates");
    assert_ne!(rotation.kid, old_kid);

    // Published before it signs.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let jwks = receiver.fetch_jwks().await;
        if published(&jwks, &rotation.kid) {
            assert!(
                chrono::Utc::now() < rotation.activates_at,
                "the new key was published only after it began signing"
            );
            assert!(published(&jwks, &old_kid), "both keys while the old one signs");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new key was never published"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // After its activation, the next SET is signed with the new key; the receiver, meeting an
    // unknown kid, fetches the key set again and verifies both the new and the held SET.
    let wait = (rotation.activates_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(100)).await;
    sign_in_and_out(&system, &user).await;
    let sets = receiver.poll_until(&stream, 2).await;
    let new_token = sets
        .iter()
        .find(|(jti, _)| **jti != held_jti)
        .map(|(_, token)| token.clone())
        .expect("the new SET");
    assert_eq!(kid_of(&new_token), rotation.kid);
    receiver.jwks = receiver.fetch_jwks().await;
    receiver.verify(&new_token);
    receiver.verify(&held_token);

    // Well past the publication tail (two reload periods), the held SET keeps its key published.
    tokio::time::sleep(system.signals_keys.reload * 4).await;
    assert!(
        published(&receiver.fetch_jwks().await, &old_kid),
        "the old key left while a SET it signed still waits"
    );
    let held_again = receiver.poll_until(&stream, 2).await;
    assert_eq!(
        held_again.get(&held_jti),
        Some(&held_token),
        "the same SET, still verifiable"
    );

    // Acknowledged, it no longer needs the old key: it leaves the key set.
    receiver.acknowledge(&stream, sets.keys().cloned().collect()).await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let jwks = receiver.fetch_jwks().await;
        if !published(&jwks, &old_kid) {
            assert!(published(&jwks, &rotation.kid));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the old key never left the key set"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The person signs in and adds and verifies an email address (a recovery method); returns it.
async fn add_email(system: &TestSystem, user: &TestUser) -> String {
    let first = system.sign_in_ok(user).await;
    let address = format!("txn-{}@example.org", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let added: Value = system
        .request(
            Method::POST,
            "/api/v1/me/security-info/methods",
            Some(&first.access_token),
            Some(&json!({ "type": "email", "address": address })),
        )
        .await
        .json()
        .await
        .expect("json");
    let method_id = added["methodId"].as_str().expect("methodId");
    let code = system.code_sent_to(&address, 0).await;
    let verified = system
        .request(
            Method::POST,
            &format!("/api/v1/me/security-info/methods/{method_id}/verify"),
            Some(&first.access_token),
            Some(&json!({ "code": code })),
        )
        .await;
    assert_eq!(verified.status(), StatusCode::OK);
    address
}

/// The person adds and verifies an email address (a recovery method), then forgets their
/// password and resets it with a code sent to that address.
async fn reset_password_by_email(system: &TestSystem, user: &TestUser) {
    let address = add_email(system, user).await;

    let flow: Value = system
        .post_json("/api/v1/auth/password-reset", &json!({ "username": user.upn }))
        .await
        .json()
        .await
        .expect("json");
    let flow_id = flow["flowId"].as_str().expect("flowId");
    let email = flow["methods"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["type"] == "email"))
        .and_then(|m| m["id"].as_str())
        .expect("the email method");
    let step = |name: &str, body: Value| {
        let path = format!("/api/v1/auth/password-reset/{flow_id}/{name}");
        async move { system.post_json(&path, &body).await }
    };
    assert_eq!(
        step("start", json!({ "methodId": email })).await.status(),
        StatusCode::OK
    );
    let code = system.code_sent_to(&address, 1).await;
    assert_eq!(
        step("verify", json!({ "methodId": email, "code": code }))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        step("password", json!({ "newPassword": "a reset passphrase for one txn" }))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

/// "Forgot my password?" is one act: its credential-change, its recovery-activated and the
/// session-revoked of every session it ended carry one `txn`, so a receiver can tell they
/// belong together (SSF 1.0 section 4.1.2), while each SET keeps a `jti` of its own.
#[tokio::test]
async fn a_password_reset_sends_its_sets_under_one_txn() {
    let system = TestSystem::spawn().await;
    let receiver = Receiver::subscribe(&system).await;
    let recovery_activated = "https://schemas.openid.net/secevent/risc/event-type/recovery-activated";
    let created = receiver
        .post(
            "configuration_endpoint",
            json!({
                "delivery": {"method": "urn:ietf:rfc:8936"},
                "events_requested": [SESSION_REVOKED, CREDENTIAL_CHANGE, recovery_activated],
                "default_subjects": "ALL",
            }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let stream: Value = created.json().await.expect("json");

    let user = system.create_user().await;
    // Two sessions when the reset comes: this one and the one that adds the email address.
    system.sign_in_ok(&user).await;
    reset_password_by_email(&system, &user).await;

    // The reset's SETs: the password's credential-change (not the email's), the
    // recovery-activated, and a session-revoked for each of the two sessions.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let of_the_reset = loop {
        let sets = receiver.poll_until(&stream, 1).await;
        let claims: Vec<Value> = sets.values().map(|t| receiver.verify(t)).collect();
        let reset: Vec<&Value> = claims
            .iter()
            .filter(|c| {
                let (uri, body) = event(c);
                uri == recovery_activated
                    || (uri == CREDENTIAL_CHANGE && body["credential_type"] == "password")
                    || (uri == SESSION_REVOKED
                        && body["reason_admin"]["en"]
                            .as_str()
                            .is_some_and(|r| r.contains("password_reset")))
            })
            .collect();
        if reset.len() >= 4 {
            break reset.into_iter().cloned().collect::<Vec<Value>>();
        }
        assert!(tokio::time::Instant::now() < deadline, "the reset's SETs: {claims:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(of_the_reset.len(), 4, "{of_the_reset:?}");
    let txn = of_the_reset[0]["txn"].as_str().expect("txn").to_owned();
    for claims in &of_the_reset {
        assert_eq!(claims["txn"], txn, "one act, one txn: {claims}");
    }
    let jtis: std::collections::BTreeSet<&str> = of_the_reset.iter().filter_map(|c| c["jti"].as_str()).collect();
    assert_eq!(jtis.len(), 4, "each SET its own jti");
    let sessions: std::collections::BTreeSet<&str> = of_the_reset
        .iter()
        .filter(|c| event(c).0 == SESSION_REVOKED)
        .filter_map(|c| c["sub_id"]["session"]["id"].as_str())
        .collect();
    assert_eq!(sessions.len(), 2, "both sessions ended: {of_the_reset:?}");
}

/// RISC's credential-compromise ("this wasn't me"), recovery-information-changed (an email
/// address added) and recovery-activated (a password reset) pushed (RFC 8935) to a receiver's
/// endpoint, each verified against `jwks_uri`.
#[tokio::test]
async fn compromise_and_recovery_reach_a_push_receiver_as_risc_sets() {
    let system = TestSystem::spawn().await;
    let receiver = Receiver::subscribe(&system).await;
    let compromise = "https://schemas.openid.net/secevent/risc/event-type/credential-compromise";
    let information_changed = "https://schemas.openid.net/secevent/risc/event-type/recovery-information-changed";
    let activated = "https://schemas.openid.net/secevent/risc/event-type/recovery-activated";
    let endpoint = PushEndpoint::default();
    let url = endpoint.start().await;
    let created = receiver
        .post(
            "configuration_endpoint",
            json!({
                "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": url, "authorization_header": "Bearer rp"},
                "events_requested": [compromise, information_changed, activated],
                "default_subjects": "ALL",
            }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);

    let recovering = system.create_user().await;
    reset_password_by_email(&system, &recovering).await;
    let reporting = system.create_user().await;
    report_not_me(&system, &reporting).await;

    let deadline = tokio::time::Instant::now() + DEADLINE;
    while endpoint.received().len() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "pushed so far: {:?}",
            endpoint.received()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give a duplicate the time to show.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut pushed: Vec<(String, String)> = endpoint
        .received()
        .iter()
        .map(|token| {
            let claims = receiver.verify(token);
            let (uri, _) = event(&claims);
            (
                uri.to_owned(),
                claims["sub_id"]["user"]["sub"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    pushed.sort();
    let mut expected = vec![
        (compromise.to_owned(), reporting.id.clone()),
        (information_changed.to_owned(), recovering.id.clone()),
        (activated.to_owned(), recovering.id.clone()),
    ];
    expected.sort();
    assert_eq!(pushed, expected);
}

/// An administrator's acts on accounts, RISC account-disabled, account-enabled and
/// account-purged, and a person's new email address, RISC recovery-information-changed, reach a
/// poll and a push receiver alike, each SET verified against `jwks_uri`.
#[tokio::test]
async fn account_status_purge_and_recovery_information_reach_poll_and_push_receivers() {
    use myaccount_proto::identity::v1 as pb;
    let system = TestSystem::spawn().await;
    let receiver = Receiver::subscribe(&system).await;
    let risc = "https://schemas.openid.net/secevent/risc/event-type/";
    let requested: Vec<String> = [
        "account-disabled",
        "account-enabled",
        "account-purged",
        "recovery-information-changed",
    ]
    .iter()
    .map(|name| format!("{risc}{name}"))
    .collect();
    let polled = receiver
        .post(
            "configuration_endpoint",
            json!({"delivery": {"method": "urn:ietf:rfc:8936"}, "events_requested": requested, "default_subjects": "ALL"}),
        )
        .await;
    assert_eq!(polled.status(), StatusCode::CREATED);
    let polled: Value = polled.json().await.expect("json");
    let endpoint = PushEndpoint::default();
    let url = endpoint.start().await;
    let pushed = receiver
        .post(
            "configuration_endpoint",
            json!({
                "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": url, "authorization_header": "Bearer rp"},
                "events_requested": requested,
                "default_subjects": "ALL",
            }),
        )
        .await;
    assert_eq!(pushed.status(), StatusCode::CREATED);

    let status_changed = system.create_user().await;
    let purged = system.create_user().await;
    add_email(&system, &purged).await;
    let mut identity = pb::identity_service_client::IdentityServiceClient::new(
        system.as_gateway(system.identity_port, platform::workload::IDENTITY),
    );
    let admin = system.admin_token().await;
    identity
        .disable_user(platform::testing::bearer(
            pb::DisableUserRequest {
                user_id: status_changed.id.clone(),
            },
            &admin,
        ))
        .await
        .expect("the admin disables the account");
    identity
        .enable_user(platform::testing::bearer(
            pb::EnableUserRequest {
                user_id: status_changed.id.clone(),
            },
            &admin,
        ))
        .await
        .expect("the admin enables it again");
    identity
        .delete_user(platform::testing::bearer(
            pb::DeleteUserRequest {
                user_id: purged.id.clone(),
            },
            &admin,
        ))
        .await
        .expect("the admin deletes the other account");

    let mut expected = vec![
        (format!("{risc}account-disabled"), status_changed.id.clone()),
        (format!("{risc}account-enabled"), status_changed.id.clone()),
        (format!("{risc}recovery-information-changed"), purged.id.clone()),
        (format!("{risc}account-purged"), purged.id.clone()),
    ];
    expected.sort();
    let about = |tokens: Vec<String>| -> Vec<(String, String)> {
        let mut told: Vec<(String, String)> = tokens
            .iter()
            .map(|token| {
                let claims = receiver.verify(token);
                let (uri, _) = event(&claims);
                (
                    uri,
                    claims["sub_id"]["user"]["sub"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        told.sort();
        told
    };

    let sets = receiver.poll_until(&polled, 4).await;
    assert_eq!(about(sets.values().cloned().collect()), expected, "by poll");

    let deadline = tokio::time::Instant::now() + DEADLINE;
    while endpoint.received().len() < 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "pushed so far: {:?}",
            endpoint.received()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give a duplicate the time to show.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(about(endpoint.received()), expected, "by push");
}

/// An administrator changes a person's identifiers, calling identity as the gateway would
/// (there are no admin pages yet).
async fn change_identifiers(
    system: &TestSystem,
    user_id: &str,
    new_user_principal_name: &str,
    new_email: &str,
) -> myaccount_proto::identity::v1::UserIdentifiers {
    use myaccount_proto::identity::v1 as pb;
    let mut client = pb::identity_service_client::IdentityServiceClient::new(
        system.as_gateway(system.identity_port, platform::workload::IDENTITY),
    );
    client
        .change_user_identifiers(platform::testing::bearer(
            pb::ChangeUserIdentifiersRequest {
                user_id: user_id.into(),
                new_user_principal_name: new_user_principal_name.into(),
                new_email: new_email.into(),
            },
            &system.admin_token().await,
        ))
        .await
        .expect("the admin changes the identifiers")
        .into_inner()
}

const IDENTIFIER_CHANGED: &str = "https://schemas.openid.net/secevent/risc/event-type/identifier-changed";

/// What a receiver must be told of [`identifier_changes`]: each old value with its new one, the
/// two old values of the second act (one `txn`) and one of the first.
struct IdentifierChanges {
    told: BTreeMap<String, String>,
    second_act: (String, String),
    first_act: String,
}

/// Two acts of an administrator on one person: a new user name (the person had no email, so
/// only the name has an old value to name), then a new user name and email at once. The new
/// name signs in through the gateway and the profile shows both; the old names do not sign in.
async fn identifier_changes(system: &TestSystem) -> IdentifierChanges {
    let user = system.create_user().await;
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..10];
    let (second_name, first_mail) = (
        format!("renamed.{suffix}@test.example"),
        format!("mail.{suffix}@test.example"),
    );
    let first = change_identifiers(system, &user.id, &second_name, &first_mail).await;
    assert!(first.changed);
    let (third_name, second_mail) = (
        format!("third.{suffix}@test.example"),
        format!("other.{suffix}@test.example"),
    );
    change_identifiers(system, &user.id, &third_name, &second_mail).await;

    for old in [&user.upn, &second_name] {
        assert_eq!(
            system.sign_in(old, &user.password).await.status(),
            StatusCode::UNAUTHORIZED,
            "{old}"
        );
    }
    let renamed = TestUser {
        upn: third_name.clone(),
        ..user.clone()
    };
    let session = system.sign_in_ok(&renamed).await;
    let profile: Value = system
        .request(Method::GET, "/api/v1/me/profile", Some(&session.access_token), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(profile["userPrincipalName"], third_name, "{profile}");
    assert_eq!(profile["mail"], second_mail, "{profile}");

    IdentifierChanges {
        told: BTreeMap::from([
            (user.upn.clone(), second_name.clone()),
            (second_name.clone(), third_name),
            (first_mail.clone(), second_mail),
        ]),
        second_act: (second_name, first_mail),
        first_act: user.upn,
    }
}

/// Each SET (verified) is a RISC identifier-changed about an old value, as `email` (RISC 1.0
/// section 2.6), with its `new-value`; one act's SETs share a `txn`.
fn assert_identifier_changes(receiver: &Receiver<'_>, tokens: &[String], expected: &IdentifierChanges) {
    assert_eq!(tokens.len(), 3, "{tokens:?}");
    let mut told = BTreeMap::new();
    let mut txns = BTreeMap::new();
    for token in tokens {
        let claims = receiver.verify(token);
        let (uri, body) = event(&claims);
        assert_eq!(uri, IDENTIFIER_CHANGED);
        assert_eq!(body["initiating_entity"], "admin");
        assert_eq!(claims["sub_id"]["format"], "email", "RISC 1.0 section 2.6: {claims}");
        let old = claims["sub_id"]["email"].as_str().expect("the old value").to_owned();
        txns.insert(old.clone(), claims["txn"].clone());
        told.insert(old, body["new-value"].as_str().expect("new-value").to_owned());
    }
    assert_eq!(told, expected.told);
    let (name, mail) = &expected.second_act;
    assert_eq!(txns[name], txns[mail], "one act, one txn");
    assert_ne!(txns[&expected.first_act], txns[name], "two acts");
}

#[tokio::test]
async fn a_changed_user_name_and_email_reach_a_poll_receiver_as_risc_identifier_changed() {
    let system = TestSystem::spawn().await;
    let receiver = Receiver::subscribe(&system).await;
    let created = receiver
        .post(
            "configuration_endpoint",
            json!({"delivery": {"method": "urn:ietf:rfc:8936"}, "events_requested": [IDENTIFIER_CHANGED], "default_subjects": "ALL"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let stream: Value = created.json().await.expect("json");
    assert_eq!(stream["events_delivered"], json!([IDENTIFIER_CHANGED]));

    let expected = identifier_changes(&system).await;

    let sets = receiver.poll_until(&stream, 3).await;
    let tokens: Vec<String> = sets.values().cloned().collect();
    assert_identifier_changes(&receiver, &tokens, &expected);
}

/// The same changes pushed (RFC 8935) to a receiver's endpoint.
#[tokio::test]
async fn a_changed_user_name_and_email_reach_a_push_receiver_as_risc_identifier_changed() {
    let system = TestSystem::spawn().await;
    let receiver = Receiver::subscribe(&system).await;
    let endpoint = PushEndpoint::default();
    let url = endpoint.start().await;
    let created = receiver
        .post(
            "configuration_endpoint",
            json!({
                "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": url, "authorization_header": "Bearer rp"},
                "events_requested": [IDENTIFIER_CHANGED],
                "default_subjects": "ALL",
            }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);

    let expected = identifier_changes(&system).await;

    let deadline = tokio::time::Instant::now() + DEADLINE;
    while endpoint.received().len() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "pushed so far: {:?}",
            endpoint.received()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give a duplicate the time to show.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_identifier_changes(&receiver, &endpoint.received(), &expected);
}

const DEVICE_COMPLIANCE_CHANGE: &str = "https://schemas.openid.net/secevent/caep/event-type/device-compliance-change";
const RISK_LEVEL_CHANGE: &str = "https://schemas.openid.net/secevent/caep/event-type/risk-level-change";
const ASSURANCE_LEVEL_CHANGE: &str = "https://schemas.openid.net/secevent/caep/event-type/assurance-level-change";
const CAEP_CHANGES: [&str; 3] = [DEVICE_COMPLIANCE_CHANGE, RISK_LEVEL_CHANGE, ASSURANCE_LEVEL_CHANGE];

/// The person's moments the three CAEP changes speak of, through the gateway (and the devices
/// API an admin uses): a sign-in from Seattle, one from Paris minutes later (audit finds it
/// risky: a new country, faster than any flight), their first second factor (an authenticator
/// app), and a device they disable (lost) that an admin enables again. Returns the device id.
async fn caep_moments(system: &TestSystem, user: &TestUser) -> String {
    let sign_in_from = |ip: &'static str| {
        let request = system
            .http
            .post(system.url("/api/v1/auth/sign-in"))
            .header("x-forwarded-for", ip)
            .json(&json!({ "username": user.upn, "password": user.password }));
        async move { request.send().await.expect("the gateway answers") }
    };
    let seattle = sign_in_from("192.0.2.10").await;
    assert_eq!(seattle.status(), StatusCode::OK);
    let seattle: Value = seattle.json().await.expect("json");
    let token = seattle["accessToken"].as_str().expect("accessToken").to_owned();
    // Audit judges Paris against Seattle only once it has recorded Seattle.
    system.wait_for_sign_ins(&token, 1).await;
    assert_eq!(sign_in_from("198.51.100.20").await.status(), StatusCode::OK);

    system.add_authenticator_app(&token).await;

    let device_id = system.register_device(&token, "Laptop", "laptop").await;
    let disabled = system
        .request(
            Method::POST,
            &format!("/api/v1/me/devices/{device_id}/disable"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(disabled.status(), StatusCode::OK);
    use myaccount_proto::devices::v1 as devices;
    let channel = system.as_gateway(system.devices_port, platform::workload::DEVICES);
    devices::devices_service_client::DevicesServiceClient::new(channel)
        .enable_device(platform::testing::bearer(
            devices::EnableDeviceRequest {
                device_id: device_id.clone(),
            },
            &system.admin_token().await,
        ))
        .await
        .expect("an admin enables the device again");
    device_id
}

/// Checks the CAEP changes' SETs about `user` (already verified), in the order the moments
/// happened per type: Paris's risk, the first second factor, the device disabled then enabled.
fn assert_caep_changes(receiver: &Receiver<'_>, of_the_user: &[Value], user: &TestUser, device_id: &str) {
    let issuer = receiver.configuration["issuer"].as_str().expect("issuer");
    let of_type = |uri: &str| -> Vec<&Value> { of_the_user.iter().filter(|c| event(c).0 == uri).collect() };

    let risk = of_type(RISK_LEVEL_CHANGE);
    assert_eq!(risk.len(), 1, "Paris alone was risky: {of_the_user:?}");
    let (_, body) = event(risk[0]);
    assert_eq!(body["principal"], "USER");
    assert_eq!(body["current_level"], "HIGH");
    assert!(
        body.get("previous_level").is_none(),
        "MyAccount keeps no standing level: {body}"
    );
    let reasons = body["risk_reason"].as_str().expect("risk_reason");
    assert!(
        reasons.contains("new_country") && reasons.contains("impossible_travel"),
        "{reasons}"
    );
    assert_eq!(body["initiating_entity"], "policy");
    assert!(body["event_timestamp"].is_i64());

    let assurance = of_type(ASSURANCE_LEVEL_CHANGE);
    assert_eq!(assurance.len(), 1, "{of_the_user:?}");
    let (_, body) = event(assurance[0]);
    assert_eq!(body["namespace"], "NIST-AAL");
    assert_eq!(body["previous_level"], "nist-aal1");
    assert_eq!(body["current_level"], "nist-aal2");
    assert_eq!(body["change_direction"], "increase");
    assert_eq!(body["initiating_entity"], "user");
    assert!(
        assurance[0]["sub_id"].get("session").is_none(),
        "the person's level, not a session's"
    );

    let compliance = of_type(DEVICE_COMPLIANCE_CHANGE);
    assert_eq!(compliance.len(), 2, "{of_the_user:?}");
    let mut statuses: Vec<(String, String, String)> = compliance
        .iter()
        .map(|claims| {
            assert_eq!(
                claims["sub_id"]["device"],
                json!({"format": "iss_sub", "iss": issuer, "sub": device_id}),
                "{claims}"
            );
            let (_, body) = event(claims);
            (
                body["previous_status"].as_str().unwrap_or_default().to_owned(),
                body["current_status"].as_str().unwrap_or_default().to_owned(),
                body["initiating_entity"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("compliant".into(), "not-compliant".into(), "user".into()),
            ("not-compliant".into(), "compliant".into(), "admin".into()),
        ]
    );
    for claims in of_the_user {
        assert_eq!(claims["sub_id"]["format"], "complex");
        assert_eq!(
            claims["sub_id"]["user"],
            json!({"format": "iss_sub", "iss": issuer, "sub": user.id})
        );
    }
}

/// A receiver that asked for CAEP's device-compliance-change, risk-level-change and
/// assurance-level-change gets each by poll, verified against `jwks_uri`.
#[tokio::test]
async fn caep_device_risk_and_assurance_changes_reach_a_poll_receiver() {
    let system = TestSystem::spawn_with_forwarded_for().await;
    let receiver = Receiver::subscribe(&system).await;
    let created = receiver
        .post(
            "configuration_endpoint",
            json!({"delivery": {"method": "urn:ietf:rfc:8936"}, "events_requested": CAEP_CHANGES, "default_subjects": "ALL"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let stream: Value = created.json().await.expect("json");
    assert_eq!(stream["events_delivered"], json!(CAEP_CHANGES));
    assert!(
        CAEP_CHANGES.iter().all(|uri| stream["events_supported"]
            .as_array()
            .is_some_and(|e| e.iter().any(|s| s == uri))),
        "{stream}"
    );

    let user = system.create_user().await;
    let device_id = caep_moments(&system, &user).await;

    // The admin's own moments (its authenticator app) reach an ALL stream too: only the
    // person's are counted.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let of_the_user = loop {
        let sets = receiver.poll_until(&stream, 1).await;
        let claims: Vec<Value> = sets.values().map(|t| receiver.verify(t)).collect();
        let of_the_user: Vec<Value> = claims
            .into_iter()
            .filter(|c| c["sub_id"]["user"]["sub"] == user.id)
            .collect();
        if of_the_user.len() >= 4 {
            break of_the_user;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the person's SETs: {of_the_user:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(of_the_user.len(), 4, "{of_the_user:?}");
    assert_caep_changes(&receiver, &of_the_user, &user, &device_id);
}

/// The same three CAEP changes pushed (RFC 8935) to a receiver's endpoint.
#[tokio::test]
async fn caep_device_risk_and_assurance_changes_reach_a_push_receiver() {
    let system = TestSystem::spawn_with_forwarded_for().await;
    let receiver = Receiver::subscribe(&system).await;
    let endpoint = PushEndpoint::default();
    let url = endpoint.start().await;
    let created = receiver
        .post(
            "configuration_endpoint",
            json!({
                "delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": url, "authorization_header": "Bearer rp"},
                "events_requested": CAEP_CHANGES,
                "default_subjects": "ALL",
            }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);

    let user = system.create_user().await;
    let device_id = caep_moments(&system, &user).await;

    let of_the_user_so_far = || -> Vec<Value> {
        endpoint
            .received()
            .iter()
            .map(|token| receiver.verify(token))
            .filter(|c| c["sub_id"]["user"]["sub"] == user.id)
            .collect()
    };
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while of_the_user_so_far().len() < 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the person's SETs: {:?}",
            of_the_user_so_far()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give a duplicate the time to show.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let of_the_user = of_the_user_so_far();
    assert_eq!(of_the_user.len(), 4, "{of_the_user:?}");
    assert_caep_changes(&receiver, &of_the_user, &user, &device_id);
}
