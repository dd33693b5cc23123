//! The browser's way in: the session cookie, its CSRF token, sign-out, and the gateway's own
//! rate limits on the sign-in endpoints.

use std::time::Duration;

use myaccount_gateway::ratelimit::RateLimitSettings;
use myaccount_integration_tests::{TestSystem, TestUser, assert_problem};
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

/// The two cookies a cookie sign-in sets, and their attributes.
struct Cookies {
    session: String,
    csrf: String,
    session_attributes: String,
    csrf_attributes: String,
}

impl Cookies {
    fn from(headers: &HeaderMap) -> Option<Self> {
        let mut session = None;
        let mut csrf = None;
        for value in headers.get_all(SET_COOKIE) {
            let value = value.to_str().expect("ascii");
            let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
            let (name, content) = pair.split_once('=').expect("name=value");
            match name {
                "myaccount_session" => session = Some((content.to_owned(), attributes.to_owned())),
                "myaccount_csrf" => csrf = Some((content.to_owned(), attributes.to_owned())),
                _ => {}
            }
        }
        let (session, session_attributes) = session?;
        let (csrf, csrf_attributes) = csrf?;
        Some(Self {
            session,
            csrf,
            session_attributes,
            csrf_attributes,
        })
    }

    fn header(&self) -> String {
        format!("myaccount_session={}; myaccount_csrf={}", self.session, self.csrf)
    }
}

async fn cookie_sign_in(system: &TestSystem, user: &TestUser) -> Cookies {
    let response = system
        .http
        .post(system.url("/api/v1/auth/sign-in"))
        .header("x-myaccount-session", "cookie")
        .json(&json!({ "username": user.upn, "password": user.password }))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    let cookies = Cookies::from(response.headers()).expect("both cookies are set");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["signedIn"], true, "{body}");
    assert!(body["expiresIn"].as_i64().is_some_and(|s| s > 0), "{body}");
    assert!(
        body.get("accessToken").is_none() && body.get("refreshToken").is_none(),
        "no token reaches page scripts: {body}"
    );
    cookies
}

/// A request as the web UI sends it: the cookies, and the CSRF header when given.
async fn with_cookies(
    system: &TestSystem,
    method: Method,
    path: &str,
    cookies: &str,
    csrf: Option<&str>,
    body: Option<&Value>,
) -> Response {
    let mut request = system.http.request(method, system.url(path)).header("cookie", cookies);
    if let Some(token) = csrf {
        request = request.header("x-csrf-token", token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("answers")
}

fn clears_both_cookies(headers: &HeaderMap) -> bool {
    let cleared: Vec<&str> = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.contains("Max-Age=0"))
        .collect();
    cleared.iter().any(|v| v.starts_with("myaccount_session=;"))
        && cleared.iter().any(|v| v.starts_with("myaccount_csrf=;"))
}

#[tokio::test]
async fn a_browser_session_lives_in_an_http_only_cookie_and_writes_need_the_csrf_token() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let cookies = cookie_sign_in(&system, &user).await;
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(
            cookies.session_attributes.contains(attribute),
            "{}",
            cookies.session_attributes
        );
    }
    assert!(
        !cookies.csrf_attributes.contains("HttpOnly"),
        "page scripts read the CSRF token"
    );
    assert!(cookies.csrf_attributes.contains("SameSite=Strict"));
    assert!(
        !cookies.session.contains(&user.id) && !cookies.session.contains("eyJ"),
        "the cookie is sealed, not a readable token"
    );

    let jar = cookies.header();
    let status: Value = with_cookies(&system, Method::GET, "/api/v1/auth/session", &jar, None, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(status["signedIn"], true);
    let profile = with_cookies(&system, Method::GET, "/api/v1/me/profile", &jar, None, None).await;
    assert_eq!(profile.status(), StatusCode::OK, "reads need no CSRF token");
    let before: Value = profile.json().await.expect("json");

    // A forged request carries the cookies but cannot read the CSRF token.
    let change = json!({ "displayName": "Changed by a forged request" });
    for csrf in [None, Some("guessed-token"), Some(cookies.session.as_str())] {
        let refused = with_cookies(&system, Method::PATCH, "/api/v1/me/profile", &jar, csrf, Some(&change)).await;
        let problem = assert_problem(refused, StatusCode::FORBIDDEN).await;
        assert!(
            problem["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("csrf-token-invalid")),
            "{problem}"
        );
    }
    let unchanged: Value = with_cookies(&system, Method::GET, "/api/v1/me/profile", &jar, None, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        unchanged["displayName"], before["displayName"],
        "refused writes change nothing"
    );

    let changed = with_cookies(
        &system,
        Method::PATCH,
        "/api/v1/me/profile",
        &jar,
        Some(&cookies.csrf),
        Some(&json!({ "displayName": "Adele from the browser" })),
    )
    .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.expect("json");
    assert_eq!(changed["displayName"], "Adele from the browser");

    // A cookie this gateway did not seal ends nothing but its own request, and is cleared.
    let mut tampered = cookies.session.clone().into_bytes();
    tampered[10] = if tampered[10] == b'A' { b'B' } else { b'A' };
    let tampered = format!(
        "myaccount_session={}; myaccount_csrf={}",
        String::from_utf8(tampered).expect("ascii"),
        cookies.csrf
    );
    let refused = with_cookies(&system, Method::GET, "/api/v1/me/profile", &tampered, None, None).await;
    assert!(clears_both_cookies(refused.headers()));
    assert_problem(refused, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server_not_only_in_the_browser() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let cookies = cookie_sign_in(&system, &user).await;
    let jar = cookies.header();

    let without_token = with_cookies(&system, Method::POST, "/api/v1/auth/sign-out", &jar, None, None).await;
    assert_problem(without_token, StatusCode::FORBIDDEN).await;

    let signed_out = with_cookies(
        &system,
        Method::POST,
        "/api/v1/auth/sign-out",
        &jar,
        Some(&cookies.csrf),
        None,
    )
    .await;
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    assert!(clears_both_cookies(signed_out.headers()));

    // The old cookie, kept by someone who copied it, no longer opens the account: its access
    // token is still within its lifetime, but identity has ended the session.
    let replayed = with_cookies(&system, Method::GET, "/api/v1/me/profile", &jar, None, None).await;
    assert_problem(replayed, StatusCode::UNAUTHORIZED).await;
    let status: Value = with_cookies(&system, Method::GET, "/api/v1/auth/session", &jar, None, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(status["signedIn"], false);
}

#[tokio::test]
async fn bearer_clients_are_unchanged_and_need_no_csrf_token() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    let changed = system
        .request(
            Method::PATCH,
            "/api/v1/me/profile",
            Some(&session.access_token),
            Some(&json!({ "displayName": "API client" })),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let status: Value = system
        .get("/api/v1/auth/session", &session.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(status["signedIn"], true);
    let anonymous: Value = system
        .http
        .get(system.url("/api/v1/auth/session"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(anonymous["signedIn"], false);

    let bad_mode = system
        .http
        .post(system.url("/api/v1/auth/sign-in"))
        .header("x-myaccount-session", "please")
        .json(&json!({ "username": user.upn, "password": user.password }))
        .send()
        .await
        .expect("answers");
    assert_problem(bad_mode, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn sign_in_floods_get_429_with_retry_after_per_account_and_per_address() {
    // An hour's budget: no token comes back while the test runs, however slow the machine.
    let system = TestSystem::spawn_with_rate_limits(RateLimitSettings {
        per_ip: 7,
        per_account: 3,
        period: Duration::from_secs(3600),
    })
    .await;
    // Each creation signs the admin in through the gateway: two of the address's seven.
    let user = system.create_user().await;
    let other = system.create_user().await;
    for _ in 0..3 {
        let answered = system.sign_in(&user.upn, "not the password").await;
        assert_eq!(answered.status(), StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits: the limit counts attempts, not failures.
    let limited = system.sign_in(&user.upn.to_uppercase(), &user.password).await;
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    let problem = assert_problem(limited, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(
        problem["detail"].as_str().is_some_and(|d| d.contains("account")),
        "{problem}"
    );

    // Other accounts go on until the address's own limit.
    for _ in 0..2 {
        let signed_in = system.sign_in(&other.upn, &other.password).await;
        assert_eq!(signed_in.status(), StatusCode::OK);
    }
    // 2 for the admin, 3 for the first account and 2 for this one make the address's 7.
    let limited = system.sign_in(&other.upn, &other.password).await;
    assert!(limited.headers().contains_key("retry-after"));
    let problem = assert_problem(limited, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(
        problem["detail"].as_str().is_some_and(|d| d.contains("address")),
        "{problem}"
    );
}
