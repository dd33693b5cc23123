use myaccount_integration_tests::{TestSystem, assert_problem};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn malformed_bodies_get_precise_problems() {
    let system = TestSystem::spawn().await;
    let post_raw = |body: Vec<u8>, content_type: &'static str| {
        let request = system
            .http
            .post(system.url("/api/v1/auth/sign-in"))
            .header("content-type", content_type)
            .body(body);
        async move { request.send().await.expect("answers") }
    };

    let syntax = assert_problem(
        post_raw(b"{\"username\": ".to_vec(), "application/json").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(syntax["detail"].as_str().expect("detail").contains("not valid JSON"));

    let unknown = system
        .post_json(
            "/api/v1/auth/sign-in",
            &json!({ "username": "a@b.example", "password": "x", "remember": true }),
        )
        .await;
    let unknown = assert_problem(unknown, StatusCode::BAD_REQUEST).await;
    assert!(
        unknown["detail"]
            .as_str()
            .expect("detail")
            .contains("unknown field `remember`"),
        "{unknown}"
    );

    let invalid_utf8 = post_raw(
        b"{\"username\": \"\xff\xfe\", \"password\": \"x\"}".to_vec(),
        "application/json",
    )
    .await;
    assert_problem(invalid_utf8, StatusCode::BAD_REQUEST).await;

    let wrong_type = post_raw(b"username=a".to_vec(), "application/x-www-form-urlencoded").await;
    assert_problem(wrong_type, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    let huge = post_raw(
        format!("{{\"username\": \"{}\", \"password\": \"x\"}}", "a".repeat(200_000)).into_bytes(),
        "application/json",
    )
    .await;
    assert_problem(huge, StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test]
async fn over_long_and_empty_fields_are_named() {
    let system = TestSystem::spawn().await;
    let response = system
        .post_json(
            "/api/v1/auth/sign-in",
            &json!({ "username": "u".repeat(300), "password": "" }),
        )
        .await;
    let problem = assert_problem(response, StatusCode::BAD_REQUEST).await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["username", "password"]);

    let user = system.create_user().await;
    let session = system.sign_in_ok(&user).await;
    let response = system
        .request(
            Method::PATCH,
            "/api/v1/me/profile",
            Some(&session.access_token),
            Some(&json!({ "displayName": "d".repeat(300), "mobilePhone": "call me maybe" })),
        )
        .await;
    let problem = assert_problem(response, StatusCode::BAD_REQUEST).await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["displayName", "mobilePhone"]);

    let not_editable = system
        .request(
            Method::PATCH,
            "/api/v1/me/profile",
            Some(&session.access_token),
            Some(&json!({ "userPrincipalName": "me@evil.example" })),
        )
        .await;
    assert_problem(not_editable, StatusCode::BAD_REQUEST).await;

    // Nothing changed.
    let profile: Value = system
        .get("/api/v1/me/profile", &session.access_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(profile["displayName"], "Test User");
    assert_eq!(profile["userPrincipalName"], user.upn.as_str());

    let bad_query = system
        .get("/api/v1/me/sign-ins?pageSize=ten", &session.access_token)
        .await;
    assert_problem(bad_query, StatusCode::BAD_REQUEST).await;
    let unknown_query = system
        .get("/api/v1/me/sign-ins?userId=someone", &session.access_token)
        .await;
    assert_problem(unknown_query, StatusCode::BAD_REQUEST).await;
    let bad_token = system
        .get("/api/v1/me/sign-ins?pageToken=garbage", &session.access_token)
        .await;
    let problem = assert_problem(bad_token, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["errors"][0]["field"], "pageToken");
}

#[tokio::test]
async fn missing_forged_and_expired_tokens_are_refused() {
    let system = TestSystem::spawn().await;
    for path in ["/api/v1/me", "/api/v1/me/profile", "/api/v1/me/sign-ins"] {
        let missing = system.request(Method::GET, path, None, None).await;
        assert_eq!(
            missing
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap_or("")),
            Some("Bearer")
        );
        assert_problem(missing, StatusCode::UNAUTHORIZED).await;
    }

    let issuer = platform::testing::TestIssuer::new();
    let user = system.create_user().await;
    let forged = issuer.token_for(user.id.parse().expect("uuid"));
    for path in ["/api/v1/me/profile", "/api/v1/me/sign-ins"] {
        assert_problem(system.get(path, &forged).await, StatusCode::UNAUTHORIZED).await;
    }

    // A genuine token with its payload altered (an expired `exp` claimed as fresh, etc.).
    let session = system.sign_in_ok(&user).await;
    let mut parts: Vec<String> = session.access_token.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].chars().rev().collect();
    let tampered = parts.join(".");
    assert_problem(
        system.get("/api/v1/me/profile", &tampered).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let basic = system
        .http
        .get(system.url("/api/v1/me/profile"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .expect("answers");
    assert_problem(basic, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn expired_tokens_are_refused_with_a_clear_reason() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    // A real signing key is needed for an expired-but-genuine token: sign with identity's key
    // from its database.
    let key = {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&system.identity_db.settings.url)
            .await
            .expect("db");
        let (kid, secret): (String, Vec<u8>) = sqlx::query_as("SELECT kid, secret FROM signing_keys LIMIT 1")
            .fetch_one(&mut conn)
            .await
            .expect("key");
        platform::auth::SigningKey::from_secret(kid, &secret).expect("key")
    };
    let issuer = platform::testing::TestIssuer::new();
    let mut claims = issuer.claims_for(user.id.parse().expect("uuid"));
    claims.exp = claims.iat - 3600;
    let expired = key.sign(&claims).expect("signed");
    let problem = assert_problem(
        system.get("/api/v1/me/sign-ins", &expired).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(problem["detail"], "the access token has expired");
}

#[tokio::test]
async fn unknown_paths_and_methods_are_problems() {
    let system = TestSystem::spawn().await;
    assert_problem(
        system
            .http
            .get(system.url("/api/v1/nope"))
            .send()
            .await
            .expect("answers"),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        system
            .http
            .delete(system.url("/api/v1/auth/sign-in"))
            .send()
            .await
            .expect("answers"),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
}

#[tokio::test]
async fn another_users_page_token_reveals_nothing_of_theirs() {
    let system = TestSystem::spawn().await;
    let alice = system.create_user().await;
    let bob = system.create_user().await;
    for _ in 0..3 {
        system.sign_in_ok(&alice).await;
    }
    let alice_session = system.sign_in_ok(&alice).await;
    let bob_session = system.sign_in_ok(&bob).await;
    system.wait_for_sign_ins(&alice_session.access_token, 4).await;
    system.wait_for_sign_ins(&bob_session.access_token, 1).await;
    let first: Value = system
        .get("/api/v1/me/sign-ins?pageSize=1", &alice_session.access_token)
        .await
        .json()
        .await
        .expect("json");
    let token = first["nextPageToken"].as_str().expect("token");
    let page: Value = system
        .get(
            &format!("/api/v1/me/sign-ins?pageToken={token}"),
            &bob_session.access_token,
        )
        .await
        .json()
        .await
        .expect("json");
    assert!(
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|s| s["userPrincipalName"] == bob.upn.as_str())
    );
}

#[tokio::test]
async fn throttled_sign_ins_get_retry_after() {
    let system = TestSystem::spawn().await;
    let user = system.create_user().await;
    for _ in 0..5 {
        let r = system.sign_in(&user.upn, "wrong password again").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let blocked = system.sign_in(&user.upn, &user.password).await;
    assert!(blocked.headers().get("retry-after").is_some());
    assert_problem(blocked, StatusCode::TOO_MANY_REQUESTS).await;

    // The same for a name that has no account: the throttle does not reveal existence.
    for _ in 0..5 {
        system.sign_in("nobody@test.example", "wrong password again").await;
    }
    let blocked = system.sign_in("nobody@test.example", "anything at all").await;
    assert!(blocked.headers().get("retry-after").is_some());
    assert_problem(blocked, StatusCode::TOO_MANY_REQUESTS).await;
}

/// An answer given before the body was read (a refused token, a body past the limit) reaches a
/// client that is still sending that body. Closed with the rest unread, the connection would be
/// reset under the client, which then reads "connection reset" instead of its answer.
#[tokio::test]
async fn an_answer_given_before_the_body_was_read_reaches_a_client_still_sending_it() {
    let system = TestSystem::spawn().await;
    // No token: refused before the body is read.
    let refused = send_slowly(&system, "/api/v1/me/password").await;
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    // A body past the limit (64 KiB): refused once the limit is reached.
    let too_large = send_slowly(&system, "/api/v1/auth/sign-in").await;
    assert!(too_large.starts_with("HTTP/1.1 413"), "{too_large}");
    assert!(too_large.contains("payload-too-large"), "{too_large}");
}

/// POSTs 3 MiB of JSON whitespace to `path` in 64 KiB pieces with pauses, as a slow upload
/// does, and reads the answer.
async fn send_slowly(system: &TestSystem, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const PIECE: usize = 64 * 1024;
    const PIECES: usize = 48;
    let address = system
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("the gateway listens");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        PIECE * PIECES
    );
    stream.write_all(head.as_bytes()).await.expect("the head is sent");
    let piece = vec![b' '; PIECE];
    for _ in 0..PIECES {
        stream
            .write_all(&piece)
            .await
            .expect("the gateway reads the rest of a body it answered without");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("the answer arrives");
    String::from_utf8_lossy(&answer).into_owned()
}
