//! The web UI in a real browser: the whole system (every service and the gateway, on real
//! Postgres and NATS) is started here, the people the browser stories need are prepared through
//! the API, and `node --test web/tests/e2e/` drives Debian's Chromium (playwright-core) against
//! the gateway. Node's output is this test's failure message; screenshots and page HTML of
//! failed stories land in `target/browser-artifacts`.
//!
//! Needs `/usr/bin/chromium`, Node.js and `web/tests/node_modules`:
//! `deploy/scripts/ensure-browser.sh` installs them (`deploy/scripts/test.sh` runs it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use myaccount_integration_tests::{AuthenticatorApp, SystemOptions, TestSystem, TestUser};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";

/// What a phone's browser sends: the "other" sign-in of the stories.
const PHONE_USER_AGENT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds integration-tests")
        .to_path_buf()
}

/// Fails (never skips) when the browser tooling is missing, saying how to get it.
fn check_tooling(workspace: &Path) {
    let fix = "run deploy/scripts/ensure-browser.sh (it installs Debian's chromium, Node.js and the npm packages of web/tests)";
    assert!(Path::new(CHROMIUM).exists(), "{CHROMIUM} is missing: {fix}");
    assert!(
        workspace.join("web/tests/node_modules/playwright-core").is_dir(),
        "web/tests/node_modules is missing: {fix}"
    );
    let version = Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let Some(version) = version else {
        panic!("node is missing: {fix}");
    };
    // `node --test` with a folder and --test-concurrency: Node.js 20 or newer.
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(major >= 20, "Node.js {version} is too old (20 or newer needed): {fix}");
}

/// A password sign-in from a phone's browser; its access token.
async fn sign_in_from_phone(system: &TestSystem, user: &TestUser, device_id: Option<&str>) -> String {
    let mut request = system
        .http
        .post(system.url("/api/v1/auth/sign-in"))
        .header("user-agent", PHONE_USER_AGENT)
        .json(&json!({ "username": user.upn, "password": user.password }));
    if let Some(id) = device_id {
        request = request.header("x-device-id", id);
    }
    let response = request.send().await.expect("gateway answers");
    assert_eq!(response.status(), StatusCode::OK, "sign-in of {}", user.upn);
    let body: Value = response.json().await.expect("json");
    body["accessToken"].as_str().expect("accessToken").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_ui_works_in_a_real_browser() {
    let workspace = workspace();
    check_tooling(&workspace);
    let system = TestSystem::spawn().await;

    // Story 1: a person with an authenticator app signs in with password and code.
    let totp_user = system.create_user().await;
    let totp_session = system.sign_in_ok(&totp_user).await;
    let (totp_app, totp_step, _) = system.add_authenticator_app(&totp_session.access_token).await;

    // Story 2: a person without a second factor adds one in the browser, then more (step-up).
    let stepup_user = system.create_user().await;

    // Story 3: a lost phone, registered and signed in on, to disable.
    let device_user = system.create_user().await;
    let token = system.sign_in_ok(&device_user).await.access_token;
    let device_id = system.register_device(&token, "Lost phone", "phone").await;
    let device_session = sign_in_from_phone(&system, &device_user, Some(&device_id)).await;

    // Story 4: someone else signed in from a phone; the person reports it.
    let review_user = system.create_user().await;
    let other_session = sign_in_from_phone(&system, &review_user, None).await;
    let seen = system.wait_for_sign_ins(&other_session, 1).await;
    assert!(!seen.is_empty(), "the phone's sign-in is in the log");

    // The keyboard and narrow-screen checks, the export, and "sign out everywhere else" (with
    // a session elsewhere to end).
    let plain_user = system.create_user().await;
    system.sign_in_ok(&plain_user).await;
    // Signed in in the browser, then signed out from elsewhere: the portal says why.
    let revoked_user = system.create_user().await;
    // A passkey, registered and used in the browser (Chromium's virtual authenticator).
    let passkey_user = system.create_user().await;
    // The overview with one service down (the last story: it stops that service).
    let degraded_user = system.create_user().await;
    // Recovery codes running low: eight of ten spent on sign-ins.
    let recovery_user = system.create_user().await;
    let (recovery_app, recovery_step) = with_two_recovery_codes_left(&system, &recovery_user).await;
    let recovery_step = recovery_step.to_string();
    // "More information required": a person without a second factor in an organization that
    // requires one.
    let mfareg_user = user_of_organization_requiring_mfa(&system).await;
    // "Forgot my password?": a person with an authenticator app resets the password.
    let reset_user = system.create_user().await;
    let reset_session = system.sign_in_ok(&reset_user).await;
    let (reset_app, reset_step, _) = system.add_authenticator_app(&reset_session.access_token).await;
    let reset_step = reset_step.to_string();
    // Every action on a page: a person of Northwind who is also a guest of Fabrikam edits the
    // profile, registers, renames and deletes a device and switches organization.
    let pages_user = guest_of_another_organization(&system, "Northwind", "Fabrikam").await;
    // Language and region: switches the portal to German, a Swiss format and Tokyo's time.
    let language_user = system.create_user().await;
    // A browser that prefers German: sign-in with an authenticator app, then security info.
    let german_user = system.create_user().await;
    let german_session = system.sign_in_ok(&german_user).await;
    let (german_app, german_step, _) = system.add_authenticator_app(&german_session.access_token).await;
    let german_step = german_step.to_string();
    // Terms of use: a person of Tailspin accepted its terms before a new version came out, and
    // accepts the new version on the Privacy page.
    let terms_user = user_who_accepted_earlier_terms(&system).await;

    let artifacts = workspace.join("target/browser-artifacts");
    // Only this run's failures: earlier screenshots would mislead.
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts).expect("artifacts directory");
    let step = totp_step.to_string();
    let env: Vec<(&str, &str)> = vec![
        ("GATEWAY_URL", system.gateway.as_str()),
        ("WEB_ORIGIN", system.web_origin.as_str()),
        ("CHROMIUM_PATH", CHROMIUM),
        ("ARTIFACTS_DIR", artifacts.to_str().expect("utf-8 path")),
        ("TOTP_USER", totp_user.upn.as_str()),
        ("TOTP_PASSWORD", totp_user.password.as_str()),
        ("TOTP_SECRET", totp_app.secret()),
        ("TOTP_LAST_STEP", step.as_str()),
        ("STEPUP_USER", stepup_user.upn.as_str()),
        ("STEPUP_PASSWORD", stepup_user.password.as_str()),
        ("DEVICE_USER", device_user.upn.as_str()),
        ("DEVICE_PASSWORD", device_user.password.as_str()),
        ("DEVICE_NAME", "Lost phone"),
        ("DEVICE_SESSION_TOKEN", device_session.as_str()),
        ("REVIEW_USER", review_user.upn.as_str()),
        ("REVIEW_PASSWORD", review_user.password.as_str()),
        ("REVIEW_OTHER_TOKEN", other_session.as_str()),
        ("PLAIN_USER", plain_user.upn.as_str()),
        ("PLAIN_PASSWORD", plain_user.password.as_str()),
        ("REVOKED_USER", revoked_user.upn.as_str()),
        ("REVOKED_PASSWORD", revoked_user.password.as_str()),
        ("PASSKEY_USER", passkey_user.upn.as_str()),
        ("PASSKEY_PASSWORD", passkey_user.password.as_str()),
        ("DEGRADED_USER", degraded_user.upn.as_str()),
        ("DEGRADED_PASSWORD", degraded_user.password.as_str()),
        ("RECOVERY_USER", recovery_user.upn.as_str()),
        ("RECOVERY_PASSWORD", recovery_user.password.as_str()),
        ("RECOVERY_TOTP_SECRET", recovery_app.secret()),
        ("RECOVERY_TOTP_LAST_STEP", recovery_step.as_str()),
        ("MFAREG_USER", mfareg_user.upn.as_str()),
        ("MFAREG_PASSWORD", mfareg_user.password.as_str()),
        ("RESET_USER", reset_user.upn.as_str()),
        ("RESET_PASSWORD", reset_user.password.as_str()),
        ("RESET_TOTP_SECRET", reset_app.secret()),
        ("RESET_TOTP_LAST_STEP", reset_step.as_str()),
        ("PAGES_USER", pages_user.upn.as_str()),
        ("PAGES_PASSWORD", pages_user.password.as_str()),
        ("PAGES_HOME_ORGANIZATION", "Northwind"),
        ("PAGES_GUEST_ORGANIZATION", "Fabrikam"),
        ("LANGUAGE_USER", language_user.upn.as_str()),
        ("LANGUAGE_PASSWORD", language_user.password.as_str()),
        ("GERMAN_USER", german_user.upn.as_str()),
        ("GERMAN_PASSWORD", german_user.password.as_str()),
        ("GERMAN_TOTP_SECRET", german_app.secret()),
        ("GERMAN_TOTP_LAST_STEP", german_step.as_str()),
        ("TERMS_USER", terms_user.upn.as_str()),
        ("TERMS_PASSWORD", terms_user.password.as_str()),
        ("TERMS_ORGANIZATION", "Tailspin"),
    ];
    let env: Vec<(String, String)> = env.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    run_node("e2e/", &env, &artifacts).await;

    // With the sign-in log's service down, the overview shows that one card as unavailable
    // and the rest as usual.
    system.stop_audit().await;
    run_node("degraded/", &env, &artifacts).await;
    drop(system);

    // Sessions over time, on a system whose access tokens live 5 seconds: every request the
    // portal sends refreshes first.
    let defaults = SystemOptions::default();
    let system = TestSystem::spawn_with_options(SystemOptions {
        tokens: myaccount_identity::tokens::TokenSettings {
            access_token_ttl: Duration::from_secs(5),
            ..defaults.tokens.clone()
        },
        ..defaults
    })
    .await;
    let session_user = system.create_user().await;
    let idle_user = system.create_user().await;
    let env: Vec<(String, String)> = [
        ("GATEWAY_URL", system.gateway.as_str()),
        ("WEB_ORIGIN", system.web_origin.as_str()),
        ("CHROMIUM_PATH", CHROMIUM),
        ("ARTIFACTS_DIR", artifacts.to_str().expect("utf-8 path")),
        ("IDENTITY_DATABASE_URL", system.identity_db.settings.url.as_str()),
        ("SESSION_USER", session_user.upn.as_str()),
        ("SESSION_PASSWORD", session_user.password.as_str()),
        ("IDLE_USER", idle_user.upn.as_str()),
        ("IDLE_PASSWORD", idle_user.password.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    run_node("sessions/", &env, &artifacts).await;
}

/// Gives `user` ten recovery codes (while they have no second factor, a fresh sign-in is
/// enough), then an authenticator app, and spends eight of the codes on sign-ins; returns the
/// app and the time step its last code used.
async fn with_two_recovery_codes_left(system: &TestSystem, user: &TestUser) -> (AuthenticatorApp, u64) {
    let token = system.sign_in_ok(user).await.access_token;
    let generated = system
        .request(
            Method::POST,
            "/api/v1/me/security-info/methods",
            Some(&token),
            Some(&json!({ "type": "recoveryCodes" })),
        )
        .await;
    assert_eq!(generated.status(), StatusCode::CREATED, "recovery codes generated");
    let generated: Value = generated.json().await.expect("json");
    let codes: Vec<String> = generated["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("a code").to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{generated}");
    let (app, step, _) = system.add_authenticator_app(&token).await;
    for code in &codes[..8] {
        let first: Value = system
            .sign_in(&user.upn, &user.password)
            .await
            .json()
            .await
            .expect("json");
        let method = first["methods"]
            .as_array()
            .expect("the second step's methods")
            .iter()
            .find(|m| m["type"] == "recoveryCodes")
            .expect("recovery codes are offered")
            .clone();
        let answered = system
            .post_json(
                "/api/v1/auth/mfa",
                &json!({ "challengeId": first["challengeId"], "methodId": method["id"], "code": code }),
            )
            .await;
        assert_eq!(answered.status(), StatusCode::OK, "a recovery code signs in");
    }
    (app, step)
}

/// There are no admin pages yet: the admin calls organizations directly, as the gateway.
fn organizations_as_admin(
    system: &TestSystem,
) -> myaccount_proto::organizations::v1::organizations_service_client::OrganizationsServiceClient<
    platform::workload::SignedAsWorkload<tonic::transport::Channel>,
> {
    myaccount_proto::organizations::v1::organizations_service_client::OrganizationsServiceClient::new(
        system.as_gateway(system.organizations_port, platform::workload::ORGANIZATIONS),
    )
}

/// Creates an organization named `name` (its domain `<name>.example`); its id.
async fn create_organization(system: &TestSystem, name: &str, mfa_required: bool) -> String {
    use myaccount_proto::organizations::v1 as pb;
    let domain = format!("{}.example", name.to_lowercase());
    let request = platform::auth::bearer_request(
        pb::CreateOrganizationRequest {
            organization_id: String::new(),
            settings: Some(pb::OrganizationSettings {
                display_name: name.into(),
                verified_domains: vec![domain.clone()],
                privacy_statement_url: format!("https://{domain}/privacy"),
                privacy_contact_email: format!("privacy@{domain}"),
                technical_contact_email: format!("it@{domain}"),
                mfa_required,
                ..Default::default()
            }),
        },
        &system.admin_token().await,
    )
    .expect("a request");
    organizations_as_admin(system)
        .create_organization(request)
        .await
        .expect("the organization is created")
        .into_inner()
        .id
}

/// A new person of a new organization `home` who accepted an invitation to a new organization
/// `guest`, once identity knows of the membership (a sign-in to `guest` then succeeds).
async fn guest_of_another_organization(system: &TestSystem, home: &str, guest: &str) -> TestUser {
    use myaccount_proto::organizations::v1 as pb;
    let home = create_organization(system, home, false).await;
    let guest = create_organization(system, guest, false).await;
    let user = system.create_user_in(&home).await;
    let token = system.sign_in_ok(&user).await.access_token;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    // Organizations hears of the person from identity before it can invite them.
    loop {
        let mine: Value = system
            .get("/api/v1/me/organizations", &token)
            .await
            .json()
            .await
            .expect("json");
        if mine["items"].as_array().is_some_and(|items| !items.is_empty()) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "organizations did not hear of the person"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let request = platform::auth::bearer_request(
        pb::InviteUserRequest {
            organization_id: guest.clone(),
            user_principal_name: user.upn.clone(),
        },
        &system.admin_token().await,
    )
    .expect("a request");
    let invitation = organizations_as_admin(system)
        .invite_user(request)
        .await
        .expect("the admin invites")
        .into_inner()
        .id;
    let accepted = system
        .request(
            Method::POST,
            &format!("/api/v1/me/invitations/{invitation}/accept"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::OK, "the invitation is accepted");
    loop {
        let signed_in = system
            .post_json(
                "/api/v1/auth/sign-in",
                &json!({ "username": user.upn, "password": user.password, "organizationId": guest }),
            )
            .await;
        if signed_in.status() == StatusCode::OK {
            return user;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "identity did not learn of the guest membership: {}",
            signed_in.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Publishes an organization's terms of use, as its admin.
async fn publish_terms(system: &TestSystem, organization_id: &str, version: &str) {
    use myaccount_proto::organizations::v1 as pb;
    let request = platform::auth::bearer_request(
        pb::UpdateOrganizationRequest {
            organization_id: organization_id.into(),
            settings: Some(pb::OrganizationSettings {
                terms_of_use_url: "https://tailspin.example/legal/terms".into(),
                terms_of_use_version: version.into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["terms_of_use_url".into(), "terms_of_use_version".into()],
            }),
        },
        &system.admin_token().await,
    )
    .expect("a request");
    organizations_as_admin(system)
        .update_organization(request)
        .await
        .expect("the admin publishes terms of use");
}

/// A new person of Tailspin who accepted version 2026-10 of its terms of use, after which the
/// admin published version 2026-11.
async fn user_who_accepted_earlier_terms(system: &TestSystem) -> TestUser {
    let tailspin = create_organization(system, "Tailspin", false).await;
    publish_terms(system, &tailspin, "2026-10").await;
    let user = system.create_user_in(&tailspin).await;
    let token = system.sign_in_ok(&user).await.access_token;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    // Organizations hears of the person (the home membership) from identity.
    loop {
        let accepted = system
            .request(
                Method::POST,
                &format!("/api/v1/me/organizations/{tailspin}/terms/accept"),
                Some(&token),
                Some(&json!({ "version": "2026-10" })),
            )
            .await;
        if accepted.status() == StatusCode::OK {
            break;
        }
        assert_eq!(accepted.status(), StatusCode::NOT_FOUND, "not a member yet");
        assert!(
            tokio::time::Instant::now() < deadline,
            "organizations did not hear of the person"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    publish_terms(system, &tailspin, "2026-11").await;
    user
}

/// A new person of a new organization that requires multi-factor authentication, once identity
/// knows it does (a sign-in then answers "more information required").
async fn user_of_organization_requiring_mfa(system: &TestSystem) -> TestUser {
    let woodgrove = create_organization(system, "Woodgrove", true).await;
    let user = system.create_user_in(&woodgrove).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let answer: Value = system
            .sign_in(&user.upn, &user.password)
            .await
            .json()
            .await
            .expect("json");
        if answer["mfaRegistrationRequired"] == true {
            return user;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "identity did not learn that Woodgrove requires MFA: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `node --test` on a folder of `web/tests`; fails with node's output when a story fails.
async fn run_node(folder: &str, env: &[(String, String)], artifacts: &Path) {
    let web_tests = workspace().join("web/tests");
    let env = env.to_vec();
    let folder = folder.to_owned();
    let output = tokio::time::timeout(
        Duration::from_secs(600),
        tokio::task::spawn_blocking(move || {
            Command::new("node")
                .args(["--test", "--test-concurrency=1", "--test-reporter=spec", &folder])
                .current_dir(web_tests)
                .envs(env)
                .output()
        }),
    )
    .await
    .expect("the browser tests finish within 10 minutes")
    .expect("the node task ran")
    .expect("node starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser tests failed ({}); screenshots and page HTML are in {}\n{stdout}\n{stderr}",
        output.status,
        artifacts.display()
    );
    println!("{stdout}");
}
