//! The published OpenAPI document against the real system: one person's story calls every
//! operation the document lists, and each real answer must be a status the operation declares,
//! with a body valid against the schema declared for it. A schema name used for two shapes, a
//! renamed field or an undocumented answer fails here, as it would fail every generated client.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use myaccount_integration_tests::{AuthenticatorApp, DiscoverablePasskey, Session, TestSystem, TestUser};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::organizations::{Admin, wait_for_home};

const RECOVERY_KEY: &str = "111111-222222-333333-444444-555555-666666-000000-010010";

/// The document and the operations the story has called so far.
struct Contract<'a> {
    system: &'a TestSystem,
    document: Value,
    called: Mutex<BTreeSet<(String, String)>>,
}

impl<'a> Contract<'a> {
    async fn of(system: &'a TestSystem) -> Self {
        let document = system.published_document().await;
        Self {
            system,
            document,
            called: Mutex::new(BTreeSet::new()),
        }
    }

    /// Calls `method template` with its `{…}` parameters filled in order, checks the answer
    /// against the document, and returns the JSON body (`Null` when there is none).
    async fn call(
        &self,
        method: Method,
        template: &str,
        parameters: &[&str],
        token: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let mut parameters = parameters.iter();
        let path = template
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    *parameters.next().expect("a value for every path parameter")
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let response = self.system.request(method.clone(), &path, token, body.as_ref()).await;
        self.record(method, template, response).await
    }

    /// Checks and records an answer of `method template` to a request the caller built itself
    /// (a form body, HTTP Basic, a query string).
    async fn record(&self, method: Method, template: &str, response: reqwest::Response) -> Value {
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned());
        let text = response.text().await.expect("a body");
        let operation = format!("{method} {template}");
        assert!(status.is_success(), "{operation} answered {status}: {text}");
        self.called
            .lock()
            .expect("not poisoned")
            .insert((method.to_string(), template.to_owned()));

        check_answer(
            &self.document,
            &method,
            template,
            status,
            content_type.as_deref(),
            &text,
        )
        .unwrap_or_else(|mismatch| panic!("{mismatch}"))
    }

    /// Every operation of the document that the story has not called.
    fn not_called(&self) -> Vec<String> {
        let called = self.called.lock().expect("not poisoned");
        let mut missing = Vec::new();
        for (path, item) in self.document["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                let method = method.to_uppercase();
                if method.parse::<Method>().is_ok() && !called.contains(&(method.clone(), path.clone())) {
                    missing.push(format!("{method} {path}"));
                }
            }
        }
        missing
    }
}

/// Whether an answer of `method template` is one the published `document` declares: its status,
/// and its body (`Null` when there is none) valid against the schema declared for that status
/// and content type. `Err` says how it is not. The contract story and the sweep both check
/// every answer with this.
pub(crate) fn check_answer(
    document: &Value,
    method: &Method,
    template: &str,
    status: StatusCode,
    content_type: Option<&str>,
    text: &str,
) -> Result<Value, String> {
    let operation = format!("{method} {template}");
    let declared = &document["paths"][template][method.as_str().to_lowercase()]["responses"][status.as_str()];
    if !declared.is_object() {
        return Err(format!("{operation}: {status} is not a documented answer: {text}"));
    }
    let Some(content_type) = content_type.filter(|_| !text.is_empty()) else {
        if declared.get("content").is_some() {
            return Err(format!(
                "{operation}: {status} is documented with a body but answered none"
            ));
        }
        return Ok(Value::Null);
    };
    let schema = &declared["content"][content_type]["schema"];
    if !schema.is_object() {
        return Err(format!(
            "{operation}: {status} answered {content_type}, which the document does not declare: {declared}"
        ));
    }
    let instance = if content_type.ends_with("json") {
        serde_json::from_str(text)
            .map_err(|e| format!("{operation}: {status} answered {content_type} that is not JSON ({e}): {text}"))?
    } else {
        Value::String(text.to_owned())
    };
    // The schema's `#/components/...` references resolve against the document's components.
    let mut rooted = schema.clone();
    rooted["components"] = document["components"].clone();
    let validator = jsonschema::draft202012::new(&rooted)
        .map_err(|e| format!("{operation}: the declared schema does not compile: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if !errors.is_empty() {
        return Err(format!(
            "{operation}: the answer does not match its schema {schema}:\n{}\n{instance:#}",
            errors.join("\n")
        ));
    }
    Ok(instance)
}

fn access_token(answer: &Value) -> String {
    answer["accessToken"].as_str().expect("tokens").to_owned()
}

/// Signs in with the password and answers the second step with a recovery code.
async fn sign_in_with_recovery_code(
    contract: &Contract<'_>,
    user: &TestUser,
    codes: &mut Vec<String>,
    method_id: &str,
) -> Value {
    let challenge = contract
        .call(
            Method::POST,
            "/api/v1/auth/sign-in",
            &[],
            None,
            Some(json!({ "username": user.upn, "password": user.password })),
        )
        .await;
    assert_eq!(challenge["mfaRequired"], true, "{challenge}");
    let code = codes.pop().expect("a recovery code left");
    contract
        .call(
            Method::POST,
            "/api/v1/auth/mfa",
            &[],
            None,
            Some(json!({ "challengeId": challenge["challengeId"], "methodId": method_id, "code": code })),
        )
        .await
}

#[tokio::test]
async fn every_operation_answers_what_the_published_document_says() {
    let system = TestSystem::spawn().await;
    let contract = Contract::of(&system).await;
    let admin = Admin::of(&system).await;
    let contoso = admin.create_organization("Contoso", None).await;
    let fabrikam = admin.create_organization("Fabrikam", None).await;
    let northwind = admin.create_organization("Northwind", None).await;
    admin.allow_self_deletion(&contoso, true).await;
    let mut adele = system.create_user_in(&contoso).await;
    let c = &contract;

    // Probes, keys and the document itself.
    for path in [
        "/healthz",
        "/readyz",
        "/.well-known/jwks.json",
        "/metrics",
        "/openapi.json",
    ] {
        c.call(Method::GET, path, &[], None, None).await;
    }

    // Password sign-in, then an authenticator app and a multi-factor sign-in.
    let first = c
        .call(
            Method::POST,
            "/api/v1/auth/sign-in",
            &[],
            None,
            Some(json!({ "username": adele.upn, "password": adele.password })),
        )
        .await;
    let token = access_token(&first);
    let session = Session {
        access_token: token.clone(),
        refresh_token: first["refreshToken"].as_str().expect("refresh").to_owned(),
    };
    wait_for_home(&system, &session).await;
    c.call(Method::GET, "/api/v1/auth/session", &[], Some(&token), None)
        .await;
    let started = c
        .call(
            Method::POST,
            "/api/v1/me/security-info/methods",
            &[],
            Some(&token),
            Some(json!({ "type": "authenticatorApp", "name": "Phone" })),
        )
        .await;
    let app = AuthenticatorApp::new(started["secret"].as_str().expect("secret"));
    let app_id = started["methodId"].as_str().expect("methodId").to_owned();
    let step = AuthenticatorApp::step_now();
    c.call(
        Method::POST,
        "/api/v1/me/security-info/methods/{id}/verify",
        &[&app_id],
        Some(&token),
        Some(json!({ "code": app.code(step) })),
    )
    .await;
    let challenge = c
        .call(
            Method::POST,
            "/api/v1/auth/sign-in",
            &[],
            None,
            Some(json!({ "username": adele.upn, "password": adele.password })),
        )
        .await;
    c.call(
        Method::POST,
        "/api/v1/auth/mfa/start",
        &[],
        None,
        Some(json!({ "challengeId": challenge["challengeId"], "methodId": app_id })),
    )
    .await;
    let mfa = c
        .call(
            Method::POST,
            "/api/v1/auth/mfa",
            &[],
            None,
            Some(json!({ "challengeId": challenge["challengeId"], "methodId": app_id, "code": app.code(step + 1) })),
        )
        .await;
    let token = access_token(&mfa);
    let refreshed = c
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            &[],
            None,
            Some(json!({ "refreshToken": mfa["refreshToken"] })),
        )
        .await;
    let token_after_refresh = access_token(&refreshed);
    assert_ne!(token_after_refresh, token);
    let token = token_after_refresh;

    // "More information required": a person without a second factor signing in to an
    // organization that requires one registers it with the registration token first.
    let woodgrove = admin.create_organization("Woodgrove", None).await;
    let megan = system.create_user_in(&woodgrove).await;
    admin.require_mfa(&woodgrove, true).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let interrupt = loop {
        // The requirement reaches identity as an event.
        let answer = c
            .call(
                Method::POST,
                "/api/v1/auth/sign-in",
                &[],
                None,
                Some(json!({ "username": megan.upn, "password": megan.password })),
            )
            .await;
        if answer["mfaRegistrationRequired"] == true {
            break answer;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "identity did not learn of the requirement"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let registration_token = interrupt["registrationToken"].as_str().expect("registrationToken");
    system.add_authenticator_app(registration_token).await;
    c.call(
        Method::POST,
        "/api/v1/auth/mfa-registration/complete",
        &[],
        None,
        Some(json!({ "registrationToken": registration_token })),
    )
    .await;

    // Security info: recovery codes (the second factor from here on), an app password, the default.
    let recovery = c
        .call(
            Method::POST,
            "/api/v1/me/security-info/methods",
            &[],
            Some(&token),
            Some(json!({ "type": "recoveryCodes" })),
        )
        .await;
    let recovery_id = recovery["methodId"].as_str().expect("methodId").to_owned();
    let mut codes: Vec<String> = recovery["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|code| code.as_str().expect("a code").to_owned())
        .collect();
    let app_password = c
        .call(
            Method::POST,
            "/api/v1/me/security-info/methods",
            &[],
            Some(&token),
            Some(json!({ "type": "appPassword", "name": "Old mail client" })),
        )
        .await;
    c.call(
        Method::PUT,
        "/api/v1/me/security-info/default",
        &[],
        Some(&token),
        Some(json!({ "methodId": app_id })),
    )
    .await;
    c.call(Method::GET, "/api/v1/me/security-info", &[], Some(&token), None)
        .await;

    // Step-up: the password again, then a second factor.
    let step_up = c
        .call(
            Method::POST,
            "/api/v1/auth/reauthenticate",
            &[],
            Some(&token),
            Some(json!({ "password": adele.password })),
        )
        .await;
    let stepped_up = c
        .call(
            Method::POST,
            "/api/v1/auth/mfa",
            &[],
            None,
            Some(json!({ "challengeId": step_up["challengeId"], "methodId": recovery_id, "code": codes.pop() })),
        )
        .await;
    let token = access_token(&stepped_up);

    // Profile and overview.
    c.call(Method::GET, "/api/v1/me/profile", &[], Some(&token), None).await;
    c.call(
        Method::PATCH,
        "/api/v1/me/profile",
        &[],
        Some(&token),
        Some(json!({ "displayName": "Adele V.", "mobilePhone": null })),
    )
    .await;
    c.call(Method::GET, "/api/v1/me", &[], Some(&token), None).await;

    // Devices and their recovery keys.
    let laptop = c
        .call(
            Method::POST,
            "/api/v1/me/devices",
            &[],
            Some(&token),
            Some(json!({ "displayName": "Laptop", "deviceType": "laptop", "operatingSystem": "Windows" })),
        )
        .await;
    let laptop = laptop["id"].as_str().expect("id").to_owned();
    let tablet = c
        .call(
            Method::POST,
            "/api/v1/me/devices",
            &[],
            Some(&token),
            Some(json!({ "displayName": "Tablet", "deviceType": "tablet" })),
        )
        .await;
    let tablet = tablet["id"].as_str().expect("id").to_owned();
    c.call(Method::GET, "/api/v1/me/devices", &[], Some(&token), None).await;
    c.call(Method::GET, "/api/v1/me/devices/{id}", &[&laptop], Some(&token), None)
        .await;
    c.call(
        Method::PATCH,
        "/api/v1/me/devices/{id}",
        &[&laptop],
        Some(&token),
        Some(json!({ "displayName": "Work laptop" })),
    )
    .await;
    let key = c
        .call(
            Method::POST,
            "/api/v1/me/devices/{id}/recovery-keys",
            &[&laptop],
            Some(&token),
            Some(json!({ "volumeType": "operating_system", "key": RECOVERY_KEY })),
        )
        .await;
    let key_id = key["id"].as_str().expect("id").to_owned();
    c.call(
        Method::GET,
        "/api/v1/me/devices/{id}/recovery-keys",
        &[&laptop],
        Some(&token),
        None,
    )
    .await;
    c.call(
        Method::POST,
        "/api/v1/me/devices/{id}/recovery-keys/{key_id}/reveal",
        &[&laptop, &key_id],
        Some(&token),
        None,
    )
    .await;
    c.call(
        Method::POST,
        "/api/v1/me/devices/{id}/disable",
        &[&laptop],
        Some(&token),
        None,
    )
    .await;
    c.call(
        Method::DELETE,
        "/api/v1/me/devices/{id}",
        &[&tablet],
        Some(&token),
        None,
    )
    .await;

    // Organizations: accept one invitation, decline another, leave the guest organization.
    let to_fabrikam = admin.invite(&fabrikam, &adele).await;
    let to_northwind = admin.invite(&northwind, &adele).await;
    c.call(Method::GET, "/api/v1/me/invitations", &[], Some(&token), None)
        .await;
    c.call(
        Method::POST,
        "/api/v1/me/invitations/{id}/accept",
        &[&to_fabrikam],
        Some(&token),
        None,
    )
    .await;
    c.call(
        Method::POST,
        "/api/v1/me/invitations/{id}/decline",
        &[&to_northwind],
        Some(&token),
        None,
    )
    .await;
    admin
        .publish_terms(&contoso, "https://contoso.example/legal/terms", "2026-11")
        .await;
    c.call(
        Method::POST,
        "/api/v1/me/organizations/{id}/terms/accept",
        &[&contoso],
        Some(&token),
        Some(json!({ "version": "2026-11" })),
    )
    .await;
    c.call(Method::GET, "/api/v1/me/organizations", &[], Some(&token), None)
        .await;
    c.call(Method::GET, "/api/v1/me/privacy", &[], Some(&token), None).await;
    c.call(
        Method::POST,
        "/api/v1/me/organizations/{id}/leave",
        &[&fabrikam],
        Some(&token),
        None,
    )
    .await;

    // Sessions: one signed in with the app password is ended by id, then all the others.
    let other = system
        .sign_in(&adele.upn, app_password["password"].as_str().expect("shown once"))
        .await;
    assert_eq!(other.status(), StatusCode::OK);
    let sessions = c
        .call(Method::GET, "/api/v1/me/sessions", &[], Some(&token), None)
        .await;
    let not_current = sessions["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["current"] != true)
        .and_then(|s| s["id"].as_str())
        .expect("another session")
        .to_owned();
    c.call(
        Method::DELETE,
        "/api/v1/me/sessions/{id}",
        &[&not_current],
        Some(&token),
        None,
    )
    .await;
    c.call(
        Method::POST,
        "/api/v1/me/sessions/revoke-others",
        &[],
        Some(&token),
        None,
    )
    .await;
    let new_password = "velvet otter maple quasar";
    c.call(
        Method::POST,
        "/api/v1/me/password",
        &[],
        Some(&token),
        Some(json!({ "currentPassword": adele.password, "newPassword": new_password })),
    )
    .await;
    adele.password = new_password.to_owned();

    // My sign-ins and activity, once audit has them.
    let sign_ins = system.wait_for_sign_ins(&token, 3).await;
    let sign_in = sign_ins[0]["id"].as_str().expect("id").to_owned();
    c.call(Method::GET, "/api/v1/me/sign-ins", &[], Some(&token), None)
        .await;
    c.call(Method::GET, "/api/v1/me/sign-ins/{id}", &[&sign_in], Some(&token), None)
        .await;
    c.call(Method::GET, "/api/v1/me/activity", &[], Some(&token), None)
        .await;
    c.call(Method::POST, "/api/v1/me/export", &[], Some(&token), None).await;

    // "This wasn't me": every session ends and the next sign-in must choose a new password.
    let refresh_token = stepped_up["refreshToken"].as_str().expect("refresh").to_owned();
    c.call(
        Method::POST,
        "/api/v1/me/sign-ins/{id}/review",
        &[&sign_in],
        Some(&token),
        Some(json!({ "verdict": "not_me" })),
    )
    .await;
    platform::testing::eventually(Duration::from_secs(20), || {
        let refresh_token = refresh_token.clone();
        let system = &system;
        async move { system.refresh(&refresh_token).await.status() == StatusCode::UNAUTHORIZED }
    })
    .await;
    let required = sign_in_with_recovery_code(c, &adele, &mut codes, &recovery_id).await;
    assert_eq!(required["passwordChangeRequired"], true, "{required}");
    let renewed = c
        .call(
            Method::POST,
            "/api/v1/auth/new-password",
            &[],
            None,
            Some(json!({ "changeTicket": required["changeTicket"], "newPassword": "amber heron quiet lantern" })),
        )
        .await;
    adele.password = "amber heron quiet lantern".to_owned();
    // The new password took the app passwords with it; a fresh one is made and removed.
    let fresh_app_password = c
        .call(
            Method::POST,
            "/api/v1/me/security-info/methods",
            &[],
            Some(&access_token(&renewed)),
            Some(json!({ "type": "appPassword", "name": "Old calendar" })),
        )
        .await;
    let app_password_id = fresh_app_password["methodId"].as_str().expect("methodId");
    c.call(
        Method::DELETE,
        "/api/v1/me/security-info/methods/{id}",
        &[app_password_id],
        Some(&access_token(&renewed)),
        None,
    )
    .await;
    c.call(
        Method::POST,
        "/api/v1/me/sessions/revoke-all",
        &[],
        Some(&access_token(&renewed)),
        None,
    )
    .await;

    // "Forgot my password?": a recovery code proves the person, then a new password.
    let flow = c
        .call(
            Method::POST,
            "/api/v1/auth/password-reset",
            &[],
            None,
            Some(json!({ "username": adele.upn })),
        )
        .await;
    let flow_id = flow["flowId"].as_str().expect("flowId");
    let recovery = flow["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .find(|m| m["type"] == "recoveryCodes")
        .expect("the recovery codes are offered");
    let reset_method = recovery["id"].as_str().expect("id");
    c.call(
        Method::POST,
        "/api/v1/auth/password-reset/{flowId}/start",
        &[flow_id],
        None,
        Some(json!({ "methodId": reset_method })),
    )
    .await;
    let progress = c
        .call(
            Method::POST,
            "/api/v1/auth/password-reset/{flowId}/verify",
            &[flow_id],
            None,
            Some(json!({ "methodId": reset_method, "code": codes.pop().expect("a recovery code left") })),
        )
        .await;
    assert_eq!(progress["methodsRequired"], 0, "{progress}");
    c.call(
        Method::POST,
        "/api/v1/auth/password-reset/{flowId}/password",
        &[flow_id],
        None,
        Some(json!({ "newPassword": "violet harbour morning quill" })),
    )
    .await;
    adele.password = "violet harbour morning quill".to_owned();

    // Sign-out, and finally deleting the account.
    let once_more = sign_in_with_recovery_code(c, &adele, &mut codes, &recovery_id).await;
    c.call(
        Method::POST,
        "/api/v1/auth/sign-out",
        &[],
        Some(&access_token(&once_more)),
        None,
    )
    .await;
    let last = sign_in_with_recovery_code(c, &adele, &mut codes, &recovery_id).await;
    c.call(
        Method::DELETE,
        "/api/v1/me",
        &[],
        Some(&access_token(&last)),
        Some(json!({ "confirmUserPrincipalName": adele.upn })),
    )
    .await;

    // Passwordless: another person's passkey signs in alone (no user name, no password), and
    // is renamed.
    let bea = system.create_user().await;
    let mut passkey = DiscoverablePasskey::new(&system.web_origin);
    let bea_first = system.sign_in_ok(&bea).await;
    let started = c
        .call(
            Method::POST,
            "/api/v1/me/security-info/methods",
            &[],
            Some(&bea_first.access_token),
            Some(json!({ "type": "securityKey", "name": "Laptop passkey" })),
        )
        .await;
    let passkey_id = started["methodId"].as_str().expect("methodId");
    let credential = passkey.register(&started["publicKey"]);
    c.call(
        Method::POST,
        "/api/v1/me/security-info/methods/{id}/verify",
        &[passkey_id],
        Some(&bea_first.access_token),
        Some(json!({ "credential": credential })),
    )
    .await;
    let challenge = c
        .call(Method::POST, "/api/v1/auth/passkey/start", &[], None, Some(json!({})))
        .await;
    let assertion = passkey.sign(&challenge["publicKey"]);
    let by_passkey = c
        .call(
            Method::POST,
            "/api/v1/auth/passkey",
            &[],
            None,
            Some(json!({ "challengeId": challenge["challengeId"], "assertion": assertion })),
        )
        .await;
    c.call(
        Method::PATCH,
        "/api/v1/me/security-info/methods/{id}",
        &[passkey_id],
        Some(&access_token(&by_passkey)),
        Some(json!({ "name": "Work laptop" })),
    )
    .await;

    // Shared Signals, as a relying party: discovery, keys, a token, a poll stream, a poll, the
    // stream read back and deleted.
    for path in ["/.well-known/ssf-configuration", "/ssf/jwks.json"] {
        c.call(Method::GET, path, &[], None, None).await;
    }
    let (client_id, secret) = system
        .add_ssf_receiver("Contract", "https://contract.example.com")
        .await;
    let token = c
        .record(
            Method::POST,
            "/oauth2/token",
            system
                .http
                .post(system.url("/oauth2/token"))
                .basic_auth(&client_id, Some(&secret))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials")
                .send()
                .await
                .expect("the gateway answers"),
        )
        .await;
    let receiver_token = token["access_token"].as_str().expect("an access token").to_owned();
    let stream = c
        .call(
            Method::POST,
            "/ssf/streams",
            &[],
            Some(&receiver_token),
            Some(json!({"delivery": {"method": "urn:ietf:rfc:8936"}, "events_requested": []})),
        )
        .await;
    let stream_id = stream["stream_id"].as_str().expect("a stream id").to_owned();
    c.call(
        Method::POST,
        "/ssf/poll/{stream_id}",
        &[&stream_id],
        Some(&receiver_token),
        Some(json!({"returnImmediately": true})),
    )
    .await;
    c.call(
        Method::PATCH,
        "/ssf/streams",
        &[],
        Some(&receiver_token),
        Some(json!({"stream_id": stream_id, "description": "contract"})),
    )
    .await;
    c.call(
        Method::PUT,
        "/ssf/streams",
        &[],
        Some(&receiver_token),
        Some(json!({"stream_id": stream_id, "delivery": {"method": "urn:ietf:rfc:8936"}, "default_subjects": "NONE"})),
    )
    .await;
    c.call(
        Method::POST,
        "/ssf/status",
        &[],
        Some(&receiver_token),
        Some(json!({"stream_id": stream_id, "status": "paused", "reason": "contract"})),
    )
    .await;
    let subject = json!({"format": "iss_sub", "iss": system.url(""), "sub": uuid::Uuid::new_v4().to_string()});
    for path in ["/ssf/subjects/add", "/ssf/subjects/remove"] {
        c.call(
            Method::POST,
            path,
            &[],
            Some(&receiver_token),
            Some(json!({"stream_id": stream_id, "subject": subject})),
        )
        .await;
    }
    c.call(
        Method::POST,
        "/ssf/verify",
        &[],
        Some(&receiver_token),
        Some(json!({"stream_id": stream_id, "state": "contract"})),
    )
    .await;
    let status = system
        .http
        .get(system.url(&format!("/ssf/status?stream_id={stream_id}")))
        .bearer_auth(&receiver_token)
        .send()
        .await
        .expect("the gateway answers");
    c.record(Method::GET, "/ssf/status", status).await;
    for method in [Method::GET, Method::DELETE] {
        let response = system
            .http
            .request(
                method.clone(),
                system.url(&format!("/ssf/streams?stream_id={stream_id}")),
            )
            .bearer_auth(&receiver_token)
            .send()
            .await
            .expect("the gateway answers");
        c.record(method, "/ssf/streams", response).await;
    }

    assert_eq!(contract.not_called(), Vec::<String>::new(), "every operation is called");
}
