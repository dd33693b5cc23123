//! The browser's way in: the session cookie, its CSRF token, sign-out, and the gateway's own
//! rate limits on the sign-in endpoints.

use std::time::Duration;

use myaccount_gateway::ratelimit::RateLimitSettings;
use myaccount_integration_tests::{SystemOptions, TestSystem, TestUser, assert_problem};
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

/// Access tokens so short-lived that every request through a gateway refreshes first.
fn refreshing_every_request(second_gateway: bool) -> SystemOptions {
    let defaults = SystemOptions::default();
    SystemOptions {
        second_gateway,
        tokens: myaccount_identity::tokens::TokenSettings {
            access_token_ttl: Duration::from_secs(5),
            ..defaults.tokens.clone()
        },
        ..defaults
    }
}

fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("myaccount_session="))
        .and_then(|v| v.split(';').next())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

#[tokio::test]
async fn two_gateway_replicas_refreshing_one_browser_session_at_once_keep_the_person_signed_in() {
    let system = TestSystem::spawn_with_options(refreshing_every_request(true)).await;
    let second = system.second_gateway.clone().expect("a second gateway");
    let user = system.create_user().await;
    let cookies = cookie_sign_in(&system, &user).await;

    // A page sends its requests at once, and the load balancer spreads them over both
    // replicas: each replica refreshes the expired access token with the same refresh token.
    let gateways = [system.gateway.clone(), second.clone()];
    let requests = (0..6).map(|i| {
        system
            .http
            .get(format!("{}/api/v1/me/profile", gateways[i % 2]))
            .header("cookie", cookies.header())
            .send()
    });
    let responses = futures::future::join_all(requests).await;
    let mut refreshed = Vec::new();
    for response in responses {
        let response = response.expect("answers");
        assert_eq!(response.status(), StatusCode::OK, "every request is served");
        refreshed.push(session_cookie(&response).expect("a refreshed cookie"));
    }

    // Whichever answer the browser keeps, the session goes on, on either replica, and the
    // repeat never ended it.
    for (i, session) in refreshed.iter().enumerate() {
        let cookie = format!("myaccount_session={session}; myaccount_csrf={}", cookies.csrf);
        let response = system
            .http
            .get(format!("{}/api/v1/me/profile", gateways[(i + 1) % 2]))
            .header("cookie", cookie)
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), StatusCode::OK, "cookie {i} still works");
    }
    let ended: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL")
        .fetch_one(&mut identity_db(&system).await)
        .await
        .expect("count ended sessions");
    assert_eq!(ended, 0, "no session was taken for stolen");
}

async fn identity_db(system: &TestSystem) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(&system.identity_db.settings.url)
        .await
        .expect("identity's database")
}

#[tokio::test]
async fn a_browser_session_idle_past_its_timeout_ends_saying_why() {
    let system = TestSystem::spawn_with_options(refreshing_every_request(false)).await;
    let user = system.create_user().await;
    let cookies = cookie_sign_in(&system, &user).await;
    let active = with_cookies(
        &system,
        Method::GET,
        "/api/v1/me/profile",
        &cookies.header(),
        None,
        None,
    )
    .await;
    assert_eq!(active.status(), StatusCode::OK);

    // The person leaves the tab for 25 hours (the idle timeout is 24).
    sqlx::query(
        "UPDATE refresh_tokens SET created_at = created_at - interval '25 hours', \
         expires_at = expires_at - interval '25 hours', used_at = used_at - interval '25 hours'",
    )
    .execute(&mut identity_db(&system).await)
    .await
    .expect("age the session");
    let cookie = session_cookie(&active).map_or_else(
        || cookies.header(),
        |session| format!("myaccount_session={session}; myaccount_csrf={}", cookies.csrf),
    );

    let response = with_cookies(&system, Method::GET, "/api/v1/me/profile", &cookie, None, None).await;
    assert!(clears_both_cookies(response.headers()));
    let problem = assert_problem(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(problem["type"], "urn:myaccount:problem:session-expired", "{problem}");
    assert_eq!(problem["reason"], "idle_timeout", "{problem}");
}
