//! Language and region: the profile's display language, regional format and time zone,
//! problem details in the person's language (the profile's once signed in, `Accept-Language`'s
//! before), and the sentences the gateway words itself (a sign-in review's answer, activity
//! summaries) in the language `Accept-Language` asks for.

use myaccount_integration_tests::{TestSystem, assert_problem, header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn profile(system: &TestSystem, token: &str) -> Value {
    system
        .get("/api/v1/me/profile", token)
        .await
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn language_format_and_zone_are_kept_in_the_profile_and_bad_values_change_nothing() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;

    let patched = system
        .request(
            Method::PATCH,
            "/api/v1/me/profile",
            Some(&session.access_token),
            Some(&json!({ "preferredLanguage": "de", "regionalFormat": "de-ch", "timeZone": "Europe/Zurich" })),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let saved = profile(&system, &session.access_token).await;
    assert_eq!(saved["preferredLanguage"], "de");
    assert_eq!(saved["regionalFormat"], "de-CH", "stored in the canonical casing");
    assert_eq!(saved["timeZone"], "Europe/Zurich");
    let editable: Vec<&str> = saved["editableFields"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for field in ["preferredLanguage", "regionalFormat", "timeZone"] {
        assert!(editable.contains(&field), "{field} is editable: {editable:?}");
    }

    // Each bad value is refused by name with its code; a good value beside them is not applied.
    let cases = [
        (
            json!({ "preferredLanguage": "German", "timeZone": "Europe/Paris" }),
            vec![("preferredLanguage", "INVALID_LANGUAGE_TAG")],
        ),
        (
            json!({ "regionalFormat": "de_DE", "timeZone": "Mars/Olympus_Mons" }),
            vec![
                ("regionalFormat", "INVALID_LANGUAGE_TAG"),
                ("timeZone", "INVALID_TIME_ZONE"),
            ],
        ),
        (json!({ "timeZone": "UTC+2" }), vec![("timeZone", "INVALID_TIME_ZONE")]),
        (json!({ "timeZone": 2 }), vec![("timeZone", "NOT_A_STRING")]),
        (
            json!({ "locale": "de-DE", "preferredLanguage": "fr" }),
            vec![("locale", "NOT_EDITABLE")],
        ),
    ];
    for (body, expected) in cases {
        let response = system
            .request(
                Method::PATCH,
                "/api/v1/me/profile",
                Some(&session.access_token),
                Some(&body),
            )
            .await;
        let problem = assert_problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["code"], "validation-error", "{body}: {problem}");
        let errors: Vec<(&str, &str)> = problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| (e["field"].as_str().unwrap_or(""), e["code"].as_str().unwrap_or("")))
            .collect();
        assert_eq!(errors, expected, "{body}");
        assert_eq!(
            profile(&system, &session.access_token).await,
            saved,
            "{body}: nothing changed"
        );
    }

    // The activity log says what changed in words, with the field names for programs.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let activity = loop {
        let page: Value = system
            .get("/api/v1/me/activity?category=profile", &session.access_token)
            .await
            .json()
            .await
            .expect("json");
        if let Some(first) = page["items"].as_array().and_then(|items| items.first()).cloned() {
            break first;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the profile change reaches the activity log"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(
        activity["summary"],
        "Profile updated: display language, regional format, time zone"
    );
    assert_eq!(
        activity["details"]["changed_fields"],
        "preferred_language,regional_format,time_zone"
    );

    // Clearing goes back to the browser's language and the device's zone.
    let cleared = system
        .request(
            Method::PATCH,
            "/api/v1/me/profile",
            Some(&session.access_token),
            Some(&json!({ "regionalFormat": null, "timeZone": "" })),
        )
        .await;
    assert_eq!(cleared.status(), StatusCode::OK);
    let after = profile(&system, &session.access_token).await;
    assert_eq!(
        (after["regionalFormat"].as_str(), after["timeZone"].as_str()),
        (Some(""), Some(""))
    );
    assert_eq!(after["preferredLanguage"], "de");
}

#[tokio::test]
async fn a_german_profile_gets_its_problems_in_german_whatever_the_browser_asks() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    let german = system
        .request(
            Method::PATCH,
            "/api/v1/me/profile",
            Some(&session.access_token),
            Some(&json!({ "preferredLanguage": "de-AT" })),
        )
        .await;
    assert_eq!(german.status(), StatusCode::OK);

    let response = system
        .http
        .patch(system.url("/api/v1/me/profile"))
        .bearer_auth(&session.access_token)
        .header("accept-language", "fr, en;q=0.5")
        .json(&json!({ "timeZone": "Europe/Nowhere", "displayName": "" }))
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(header(&response, "content-language"), "de");
    let problem = assert_problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["code"], "validation-error");
    assert_eq!(problem["title"], "Einige Felder sind ungültig");
    assert_eq!(
        problem["detail"],
        "Korrigieren Sie die markierten Felder und versuchen Sie es erneut."
    );
    // Every refused field, in German; their order is not part of the contract.
    let mut messages: Vec<(&str, &str)> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["field"].as_str().unwrap_or(""), e["message"].as_str().unwrap_or("")))
        .collect();
    messages.sort_unstable();
    assert_eq!(
        messages,
        [
            ("displayName", "Dieses Feld ist erforderlich."),
            ("timeZone", "Wählen Sie eine Zeitzone wie Europe/Berlin."),
        ]
    );

    // A problem of another kind, from another service, in German too.
    let missing = system
        .get(
            "/api/v1/me/devices/00000000-0000-4000-8000-000000000000",
            &session.access_token,
        )
        .await;
    let problem = assert_problem(missing, StatusCode::NOT_FOUND).await;
    assert_eq!(problem["code"], "not-found");
    assert_eq!(problem["title"], "Nicht gefunden");
}

#[tokio::test]
async fn before_sign_in_problems_come_in_the_language_accept_language_chooses() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;

    let ask = |language: &'static str| {
        system
            .http
            .post(system.url("/api/v1/auth/sign-in"))
            .header("accept-language", language)
            .json(&json!({ "username": user.upn, "password": "not the password at all" }))
            .send()
    };
    let french = ask("fr-CH, de;q=0.9, en;q=0.8").await.expect("gateway answers");
    assert_eq!(header(&french, "content-language"), "fr");
    let problem = assert_problem(french, StatusCode::UNAUTHORIZED).await;
    assert_eq!(problem["code"], "unauthenticated");
    assert_eq!(problem["title"], "Connexion requise");
    assert_eq!(problem["detail"], "Connectez-vous pour continuer.");

    // A language we do not have falls back to English, with the service's own sentence.
    let other = ask("ja").await.expect("gateway answers");
    assert_eq!(header(&other, "content-language"), "en");
    let problem = assert_problem(other, StatusCode::UNAUTHORIZED).await;
    assert_eq!(problem["title"], "Sign in required");

    // A body the gateway refuses itself, in German.
    let malformed = system
        .http
        .post(system.url("/api/v1/auth/sign-in"))
        .header("accept-language", "de-DE")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("gateway answers");
    let problem = assert_problem(malformed, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["code"], "bad-request");
    assert_eq!(problem["title"], "Die Anfrage ist ungültig");
}

/// Asks the gateway in `language`; answers the response.
async fn in_language(
    system: &TestSystem,
    method: Method,
    path: &str,
    token: &str,
    language: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut request = system
        .http
        .request(method, system.url(path))
        .bearer_auth(token)
        .header("accept-language", language);
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("gateway answers")
}

/// The answer says its language and that `Accept-Language` chose it.
fn assert_language(response: &reqwest::Response, language: &str) {
    assert_eq!(header(response, "content-language"), language);
    let vary: Vec<&str> = response
        .headers()
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        vary.iter().any(|v| v
            .split(',')
            .any(|name| name.trim().eq_ignore_ascii_case("accept-language"))),
        "Vary names Accept-Language: {vary:?}"
    );
}

#[tokio::test]
async fn a_review_and_the_activity_log_answer_in_the_language_accept_language_asks_for() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    system.sign_in_ok(&user).await;
    let session = system.sign_in_ok(&user).await;
    let items = system.wait_for_sign_ins(&session.access_token, 2).await;
    let (newest, older) = (
        items[0]["id"].as_str().expect("id").to_owned(),
        items[1]["id"].as_str().expect("id").to_owned(),
    );

    // "This was me", in French.
    let me = in_language(
        &system,
        Method::POST,
        &format!("/api/v1/me/sign-ins/{newest}/review"),
        &session.access_token,
        "fr-CH, en;q=0.5",
        Some(&json!({ "verdict": "me" })),
    )
    .await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_language(&me, "fr");
    let me: Value = me.json().await.expect("json");
    assert_eq!(me["signIn"]["reviewState"], "confirmed_me");
    assert_eq!(
        me["message"],
        "Merci de votre confirmation. Vous n’avez rien d’autre à faire."
    );
    assert_eq!(me["nextSteps"], json!([]));

    // A profile change, in the activity log in the language asked for; English is audit's.
    let patched = system
        .request(
            Method::PATCH,
            "/api/v1/me/profile",
            Some(&session.access_token),
            Some(&json!({ "regionalFormat": "de-DE", "timeZone": "Europe/Berlin" })),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    // (what Accept-Language asks for, the language the answer is in)
    let summary_in = |language: &'static str, answered_in: &'static str| {
        let system = &system;
        let token = session.access_token.clone();
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                let response = in_language(
                    system,
                    Method::GET,
                    "/api/v1/me/activity?category=profile",
                    &token,
                    language,
                    None,
                )
                .await;
                assert_eq!(response.status(), StatusCode::OK);
                assert_language(&response, answered_in);
                let page: Value = response.json().await.expect("json");
                if let Some(summary) = page["items"][0]["summary"].as_str() {
                    return summary.to_owned();
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "the profile change reaches the activity log"
                );
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    };
    assert_eq!(
        summary_in("de-AT", "de").await,
        "Profil geändert: Regionales Format und Zeitzone"
    );
    assert_eq!(
        summary_in("fr", "fr").await,
        "Profil modifié : Format régional et Fuseau horaire"
    );
    assert_eq!(
        summary_in("ja", "en").await,
        "Profile updated: regional format, time zone",
        "a language we do not have: audit's English"
    );

    // "This wasn't me", in German, with the steps to take.
    let not_me = in_language(
        &system,
        Method::POST,
        &format!("/api/v1/me/sign-ins/{older}/review"),
        &session.access_token,
        "de",
        Some(&json!({ "verdict": "not_me" })),
    )
    .await;
    assert_eq!(not_me.status(), StatusCode::OK);
    assert_language(&not_me, "de");
    let not_me: Value = not_me.json().await.expect("json");
    assert_eq!(not_me["signIn"]["reviewState"], "reported_not_me");
    assert_eq!(
        not_me["message"],
        "Wir melden Sie überall ab. Bei Ihrer nächsten Anmeldung müssen Sie ein neues Kennwort wählen."
    );
    assert_eq!(
        not_me["nextSteps"],
        json!([
            "Melden Sie sich erneut an und wählen Sie ein neues Kennwort, das Sie nirgendwo sonst verwenden.",
            "Überprüfen Sie Ihre Sicherheitsinformationen und entfernen Sie jede Methode, die Sie nicht kennen.",
            "Überprüfen Sie Ihre Geräte und deaktivieren Sie jedes Gerät, das Sie nicht kennen.",
        ])
    );
}
