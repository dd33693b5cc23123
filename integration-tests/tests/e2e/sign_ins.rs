use std::collections::HashSet;

use myaccount_integration_tests::TestSystem;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn every_attempt_appears_in_my_sign_ins_newest_first() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;

    let wrong = system.sign_in(&user.upn, "not the password at all").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let session = system.sign_in_ok(&user).await;

    let items = system.wait_for_sign_ins(&session.access_token, 2).await;
    assert_eq!(items.len(), 2, "{items:?}");
    // Newest first: the success, then the wrong password.
    assert_eq!(items[0]["status"], "success");
    assert_eq!(items[0]["authenticationMethods"][0], "pwd");
    assert!(items[0]["sessionId"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(items[1]["status"], "failure");
    assert_eq!(items[1]["failureReason"], "invalid_password");
    assert_eq!(items[1]["userPrincipalName"], user.upn.as_str());
    assert_eq!(items[1]["ipAddress"], "127.0.0.1");
    assert!(items[0]["time"].as_str() >= items[1]["time"].as_str());
}

#[tokio::test]
async fn pages_have_no_gaps_or_repeats_even_while_new_sign_ins_arrive() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    for _ in 0..6 {
        system.sign_in_ok(&user).await;
    }
    let session = system.sign_in_ok(&user).await;
    let all = system.wait_for_sign_ins(&session.access_token, 7).await;
    assert_eq!(all.len(), 7);

    // Walk pages of 3 while two more sign-ins land at the top after the first page.
    let first: Value = system
        .get("/api/v1/me/sign-ins?pageSize=3", &session.access_token)
        .await
        .json()
        .await
        .expect("json");
    system.sign_in_ok(&user).await;
    system.sign_in_ok(&user).await;
    let mut seen: Vec<String> = first["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect();
    let mut token = first["nextPageToken"].as_str().expect("more pages").to_owned();
    loop {
        let page: Value = system
            .get(
                &format!("/api/v1/me/sign-ins?pageSize=3&pageToken={token}"),
                &session.access_token,
            )
            .await
            .json()
            .await
            .expect("json");
        seen.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| i["id"].as_str().expect("id").to_owned()),
        );
        match page["nextPageToken"].as_str() {
            Some(t) => token = t.to_owned(),
            None => break,
        }
    }
    let expected: Vec<String> = all.iter().map(|i| i["id"].as_str().expect("id").to_owned()).collect();
    assert_eq!(seen, expected, "the original seven, in order, once each");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7);
}

#[tokio::test]
async fn status_filter_and_isolation_between_users() {
    let system = TestSystem::spawn().await;
    let alice = system.create_user().await;
    let bob = system.create_user().await;
    assert_eq!(
        system.sign_in(&alice.upn, "wrong wrong wrong").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let alice_session = system.sign_in_ok(&alice).await;
    let bob_session = system.sign_in_ok(&bob).await;

    system.wait_for_sign_ins(&alice_session.access_token, 2).await;
    let failures: Value = system
        .get("/api/v1/me/sign-ins?status=failure", &alice_session.access_token)
        .await
        .json()
        .await
        .expect("json");
    let failures = failures["items"].as_array().expect("items");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["status"], "failure");

    // Bob sees only his own sign-in, never Alice's.
    let bobs = system.wait_for_sign_ins(&bob_session.access_token, 1).await;
    assert_eq!(bobs.len(), 1);
    assert!(bobs.iter().all(|s| s["userPrincipalName"] == bob.upn.as_str()));
}

#[tokio::test]
async fn refresh_rotates_and_sign_out_ends_the_session() {
    // No reuse grace: a repeat is theft at once (the grace has tests of its own).
    let defaults = myaccount_integration_tests::SystemOptions::default();
    let system = TestSystem::spawn_with_options(myaccount_integration_tests::SystemOptions {
        tokens: myaccount_identity::tokens::TokenSettings {
            refresh_reuse_grace: std::time::Duration::ZERO,
            ..defaults.tokens.clone()
        },
        ..defaults
    })
    .await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;

    let refreshed = system
        .post_json(
            "/api/v1/auth/refresh",
            &serde_json::json!({ "refreshToken": session.refresh_token }),
        )
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.expect("json");
    assert_eq!(refreshed["tokenType"], "Bearer");
    assert!(refreshed["expiresIn"].as_i64().is_some_and(|s| s > 0));
    let new_access = refreshed["accessToken"].as_str().expect("access").to_owned();
    let new_refresh = refreshed["refreshToken"].as_str().expect("refresh").to_owned();

    // The old refresh token is spent.
    let reused = system
        .post_json(
            "/api/v1/auth/refresh",
            &serde_json::json!({ "refreshToken": session.refresh_token }),
        )
        .await;
    myaccount_integration_tests::assert_problem(reused, StatusCode::UNAUTHORIZED).await;

    // Reuse revoked the family: the newest refresh token is dead too.
    let after_reuse = system
        .post_json(
            "/api/v1/auth/refresh",
            &serde_json::json!({ "refreshToken": new_refresh }),
        )
        .await;
    assert_eq!(after_reuse.status(), StatusCode::UNAUTHORIZED);
    let profile = system.get("/api/v1/me/profile", &new_access).await;
    assert_eq!(
        profile.status(),
        StatusCode::UNAUTHORIZED,
        "identity refuses a revoked session"
    );

    // A fresh session, then sign out.
    let session = system.sign_in_ok(&user).await;
    let out = system
        .request(
            reqwest::Method::POST,
            "/api/v1/auth/sign-out",
            Some(&session.access_token),
            None,
        )
        .await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let refresh = system
        .post_json(
            "/api/v1/auth/refresh",
            &serde_json::json!({ "refreshToken": session.refresh_token }),
        )
        .await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn profile_can_be_read_and_edited_where_allowed() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;

    let patched = system
        .request(
            reqwest::Method::PATCH,
            "/api/v1/me/profile",
            Some(&session.access_token),
            Some(&serde_json::json!({ "displayName": "Adele V.", "preferredLanguage": "fr-CA", "mobilePhone": null })),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let profile: Value = system
        .get("/api/v1/me/profile", &session.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(profile["displayName"], "Adele V.");
    assert_eq!(profile["preferredLanguage"], "fr-CA");
    assert_eq!(profile["userPrincipalName"], user.upn.as_str());
    assert_eq!(profile["id"], user.id.as_str());
    assert!(
        profile["editableFields"]
            .as_array()
            .expect("list")
            .iter()
            .any(|f| f == "displayName")
    );
}

#[tokio::test]
async fn jwks_is_published_and_probes_answer() {
    let system = TestSystem::spawn().await;
    let jwks: Value = system
        .http
        .get(system.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("ok")
        .json()
        .await
        .expect("json");
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert!(key["kid"].as_str().is_some());
    assert!(key.get("d").is_none(), "never the private part");

    assert_eq!(
        system
            .http
            .get(system.url("/healthz"))
            .send()
            .await
            .expect("ok")
            .status(),
        StatusCode::OK
    );
    let ready = system.http.get(system.url("/readyz")).send().await.expect("ok");
    assert_eq!(ready.status(), StatusCode::OK);
}

#[tokio::test]
async fn reporting_a_sign_in_as_not_me_ends_every_session() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let laptop = system.sign_in_ok(&user).await;
    let phone = system.sign_in_ok(&user).await;
    let items = system.wait_for_sign_ins(&phone.access_token, 2).await;
    let suspicious = items[1]["id"].as_str().expect("id").to_owned();

    // Bad verdicts and someone else's sign-in change nothing.
    let bad = system
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/me/sign-ins/{suspicious}/review"),
            Some(&phone.access_token),
            Some(&serde_json::json!({ "verdict": "maybe" })),
        )
        .await;
    myaccount_integration_tests::assert_problem(bad, StatusCode::BAD_REQUEST).await;
    let stranger = system.create_user().await;
    let stranger_session = system.sign_in_ok(&stranger).await;
    let not_theirs = system
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/me/sign-ins/{suspicious}/review"),
            Some(&stranger_session.access_token),
            Some(&serde_json::json!({ "verdict": "not_me" })),
        )
        .await;
    myaccount_integration_tests::assert_problem(not_theirs, StatusCode::NOT_FOUND).await;

    let review = system
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/me/sign-ins/{suspicious}/review"),
            Some(&phone.access_token),
            Some(&serde_json::json!({ "verdict": "not_me" })),
        )
        .await;
    assert_eq!(review.status(), StatusCode::OK);
    let review: Value = review.json().await.expect("json");
    assert_eq!(review["signIn"]["reviewState"], "reported_not_me");
    assert!(
        review["message"]
            .as_str()
            .is_some_and(|m| m.contains("signing you out everywhere"))
    );
    assert!(!review["nextSteps"].as_array().expect("steps").is_empty());

    // identity reacts to myaccount.signin.v1.flagged: both sessions die, the stranger's lives.
    for session in [&laptop, &phone] {
        let token = session.refresh_token.clone();
        platform::testing::eventually(std::time::Duration::from_secs(20), || {
            let token = token.clone();
            let system = &system;
            async move {
                system
                    .post_json("/api/v1/auth/refresh", &serde_json::json!({ "refreshToken": token }))
                    .await
                    .status()
                    == StatusCode::UNAUTHORIZED
            }
        })
        .await;
    }
    let alive = system
        .post_json(
            "/api/v1/auth/refresh",
            &serde_json::json!({ "refreshToken": stranger_session.refresh_token }),
        )
        .await;
    assert_eq!(alive.status(), StatusCode::OK);

    // The next sign-in must choose a new password before a session opens; the old one is
    // refused as the new one, and the interrupted attempt is recorded.
    let interrupted: Value = system
        .sign_in(&user.upn, &user.password)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(interrupted["passwordChangeRequired"], true, "{interrupted}");
    assert!(interrupted.get("accessToken").is_none());
    let ticket = interrupted["changeTicket"].as_str().expect("ticket").to_owned();
    let same = system
        .post_json(
            "/api/v1/auth/new-password",
            &serde_json::json!({ "changeTicket": ticket, "newPassword": user.password }),
        )
        .await;
    let problem = myaccount_integration_tests::assert_problem(same, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["errors"][0]["field"], "newPassword");
    let forged = system
        .post_json(
            "/api/v1/auth/new-password",
            &serde_json::json!({ "changeTicket": uuid::Uuid::new_v4().to_string(), "newPassword": "velvet otter maple quasar" }),
        )
        .await;
    myaccount_integration_tests::assert_problem(forged, StatusCode::UNAUTHORIZED).await;
    let changed = system
        .post_json(
            "/api/v1/auth/new-password",
            &serde_json::json!({ "changeTicket": ticket, "newPassword": "velvet otter maple quasar" }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.expect("json");
    let fresh = myaccount_integration_tests::Session {
        access_token: changed["accessToken"].as_str().expect("tokens").to_owned(),
        refresh_token: changed["refreshToken"].as_str().expect("tokens").to_owned(),
    };
    let spent = system
        .post_json(
            "/api/v1/auth/new-password",
            &serde_json::json!({ "changeTicket": ticket, "newPassword": "another lively walrus anthem" }),
        )
        .await;
    myaccount_integration_tests::assert_problem(spent, StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        system.sign_in(&user.upn, &user.password).await.status(),
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let again: Value = system
        .sign_in(&user.upn, "velvet otter maple quasar")
        .await
        .json()
        .await
        .expect("json");
    assert!(again["accessToken"].is_string(), "no second interruption: {again}");

    // The review shows in the account activity log.
    let mut found = false;
    for _ in 0..200 {
        let activity: Value = system
            .get("/api/v1/me/activity", &fresh.access_token)
            .await
            .json()
            .await
            .expect("json");
        if activity["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|a| a["activity"] == "flagged")
        {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(found, "the report is in the activity log");
}

#[tokio::test]
async fn sign_ins_carry_location_browser_and_risk() {
    let system = TestSystem::spawn_with_forwarded_for().await;
    let user = system.create_user().await;
    let sign_in_from = |ip: &'static str| {
        let request = system
            .http
            .post(system.url("/api/v1/auth/sign-in"))
            .header("x-forwarded-for", ip)
            .header(
                "user-agent",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            )
            .json(&serde_json::json!({ "username": user.upn, "password": user.password }));
        async move { request.send().await.expect("answers") }
    };
    // Seattle, then Paris minutes later: a new country, and faster than any flight.
    assert_eq!(sign_in_from("192.0.2.10").await.status(), StatusCode::OK);
    let seattle = system.sign_in_ok(&user).await;
    system.wait_for_sign_ins(&seattle.access_token, 2).await;
    let paris = sign_in_from("198.51.100.20").await;
    assert_eq!(paris.status(), StatusCode::OK);
    let items = system.wait_for_sign_ins(&seattle.access_token, 3).await;
    let newest = &items[0];
    assert_eq!(newest["location"]["city"], "Paris");
    assert_eq!(newest["location"]["country"], "FR");
    assert_eq!(newest["device"]["browser"], "Chrome");
    assert_eq!(newest["risk"]["level"], "high");
    let reasons: Vec<&str> = newest["risk"]["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert!(
        reasons.contains(&"new_country") && reasons.contains(&"impossible_travel"),
        "{reasons:?}"
    );
    let risky: Value = system
        .get("/api/v1/me/sign-ins?risky=true", &seattle.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(risky["items"].as_array().expect("items").len(), 1);

    // An address the GeoIP database cannot place, forwarded with the proxy's location headers:
    // the proxy's report is shown. Of the forwarded addresses, the one the proxy appended last
    // counts; the ones before it are whatever the client claimed.
    let lyon = system
        .http
        .post(system.url("/api/v1/auth/sign-in"))
        .header("x-forwarded-for", "203.0.113.250, 10.20.30.40")
        .header("x-client-geo-country", "fr")
        .header("x-client-geo-region", "Auvergne-Rhone-Alpes")
        .header("x-client-geo-city", "Lyon")
        .json(&serde_json::json!({ "username": user.upn, "password": user.password }))
        .send()
        .await
        .expect("answers");
    assert_eq!(lyon.status(), StatusCode::OK);
    let items = system.wait_for_sign_ins(&seattle.access_token, 4).await;
    let newest = &items[0];
    assert_eq!(newest["ipAddress"], "10.20.30.40", "the hop the proxy appended");
    assert_eq!(newest["location"]["city"], "Lyon");
    assert_eq!(newest["location"]["country"], "FR");
}

#[tokio::test]
async fn after_not_me_a_person_with_a_second_factor_proves_it_before_choosing_a_new_password() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    let (app, step, _) = system.add_authenticator_app(&session.access_token).await;
    let items = system.wait_for_sign_ins(&session.access_token, 1).await;
    let id = items[0]["id"].as_str().expect("id").to_owned();
    let review = system
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/me/sign-ins/{id}/review"),
            Some(&session.access_token),
            Some(&serde_json::json!({ "verdict": "not_me" })),
        )
        .await;
    assert_eq!(review.status(), StatusCode::OK);
    let token = session.refresh_token.clone();
    platform::testing::eventually(std::time::Duration::from_secs(20), || {
        let token = token.clone();
        let system = &system;
        async move { system.refresh(&token).await.status() == StatusCode::UNAUTHORIZED }
    })
    .await;

    // The password alone is not enough to set a new one: the second factor comes first
    // (sign_in_with_code checks that the password step asks for it).
    let second = system.sign_in_with_code(&user, &app.code(step + 1)).await;
    assert_eq!(second.status(), StatusCode::OK);
    let second: Value = second.json().await.expect("json");
    assert_eq!(second["passwordChangeRequired"], true, "{second}");
    assert!(second["reason"].as_str().is_some_and(|r| r.contains("not you")));

    let changed = system
        .post_json(
            "/api/v1/auth/new-password",
            &serde_json::json!({ "changeTicket": second["changeTicket"], "newPassword": "velvet otter maple quasar" }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.expect("json");
    let access_token = changed["accessToken"].as_str().expect("tokens");
    let payload = access_token.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).expect("base64url"),
    )
    .expect("claims");
    assert!(
        claims["amr"].as_array().expect("amr").iter().any(|m| m == "mfa"),
        "the session carries the factors proven before the interruption: {claims}"
    );
}

#[tokio::test]
async fn another_persons_sign_in_is_not_found() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    let items = system.wait_for_sign_ins(&session.access_token, 1).await;
    let id = items[0]["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/me/sign-ins/{id}");

    let own = system.get(&path, &session.access_token).await;
    assert_eq!(own.status(), StatusCode::OK, "the owner reads it");
    let own: Value = own.json().await.expect("json");
    assert_eq!(own["id"], id.as_str());

    let stranger = system.create_user().await;
    let stranger_session = system.sign_in_ok(&stranger).await;
    let not_theirs = system.get(&path, &stranger_session.access_token).await;
    myaccount_integration_tests::assert_problem(not_theirs, StatusCode::NOT_FOUND).await;
}
