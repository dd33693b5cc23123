//! Sessions end by themselves (idle timeout, absolute lifetime), and a refresh repeated within
//! the grace window (two gateway replicas refreshing one browser session at once) gets the same
//! pair instead of ending the session.

use tonic::Code;

use crate::helpers::{INVALID_REFRESH_TOKEN, TestApp, assert_revoked, assert_status, spawn_app};

/// Moves everything about `session_id` `hours` into the past, as if it had happened then.
async fn happened_earlier(app: &TestApp, session_id: &str, hours: i32) {
    let session_id: uuid::Uuid = session_id.parse().expect("a session id");
    sqlx::query(
        "UPDATE refresh_tokens SET created_at = created_at - make_interval(hours => $2), \
         expires_at = expires_at - make_interval(hours => $2), used_at = used_at - make_interval(hours => $2) \
         WHERE session_id = $1",
    )
    .bind(session_id)
    .bind(hours)
    .execute(&app.db)
    .await
    .expect("age the refresh tokens");
    sqlx::query(
        "UPDATE sessions SET created_at = created_at - make_interval(hours => $2), \
         auth_time = auth_time - make_interval(hours => $2), last_seen_at = last_seen_at - make_interval(hours => $2) \
         WHERE id = $1",
    )
    .bind(session_id)
    .bind(hours)
    .execute(&app.db)
    .await
    .expect("age the session");
}

async fn session_of(app: &TestApp, access_token: &str) -> String {
    let caller = app.jwks_verifier().verify(access_token).await.expect("verifies");
    caller.session_id.expect("a session").to_string()
}

#[track_caller]
fn assert_expired(status: &tonic::Status, reason: &str, message: &str) {
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(
        platform::error::session_expired_reason(status).as_deref(),
        Some(reason),
        "{status:?}"
    );
    assert_eq!(status.message(), message);
}

#[tokio::test]
async fn a_refresh_repeated_within_the_grace_gets_the_same_pair_and_the_session_goes_on() {
    let app = spawn_app().await;
    let (_, signed_in) = app.signed_in_user("adele.vance@contoso.example").await;

    // Two gateway replicas present the same refresh token at once.
    let (first, second) = tokio::join!(
        app.refresh(&signed_in.refresh_token),
        app.refresh(&signed_in.refresh_token)
    );
    let (first, second) = (first.expect("one refresh"), second.expect("the other"));
    assert_eq!(first.refresh_token, second.refresh_token, "one successor, never two");
    assert_eq!(first.access_token, second.access_token, "the same pair");
    assert!(
        second.expires_in > 0 && second.expires_in <= 600,
        "{}",
        second.expires_in
    );

    // And a third time, a moment later: still the same pair, not a theft.
    let third = app.refresh(&signed_in.refresh_token).await.expect("within the grace");
    assert_eq!(third.refresh_token, first.refresh_token);

    let next = app
        .refresh(&first.refresh_token)
        .await
        .expect("the successor refreshes");
    app.get_my_profile(&next.access_token)
        .await
        .expect("the session goes on");
    assert!(app.revocations().await.is_empty(), "no session was ended");
}

#[tokio::test]
async fn a_refresh_repeated_after_the_grace_ends_the_session() {
    let app = spawn_app().await;
    let (_, signed_in) = app.signed_in_user("adele.vance@contoso.example").await;
    let successor = app.refresh(&signed_in.refresh_token).await.expect("refreshes");
    let session_id = session_of(&app, &successor.access_token).await;
    // The spent token turns up again an hour later: someone kept a copy.
    happened_earlier(&app, &session_id, 1).await;

    let reused = app
        .refresh(&signed_in.refresh_token)
        .await
        .expect_err("reuse after the grace");
    assert_status(&reused, Code::Unauthenticated, INVALID_REFRESH_TOKEN);
    let profile = app
        .get_my_profile(&successor.access_token)
        .await
        .expect_err("the session has ended");
    assert_revoked(&profile, "refresh_token_reuse");
    app.refresh(&successor.refresh_token)
        .await
        .expect_err("the successor died with its session");
}

#[tokio::test]
async fn a_session_without_activity_for_longer_than_the_idle_timeout_ends() {
    let app = spawn_app().await;
    let (user, idle) = app.signed_in_user("adele.vance@contoso.example").await;
    let busy = app.sign_in(&user.upn, &user.password).await.expect("a second session");
    let idle_session = session_of(&app, &idle.access_token).await;
    // The default idle timeout is 24 hours; this session was last refreshed 25 hours ago.
    happened_earlier(&app, &idle_session, 25).await;

    let status = app.refresh(&idle.refresh_token).await.expect_err("idle too long");
    assert_expired(
        &status,
        "idle_timeout",
        "this session ended after a time without activity; sign in again",
    );

    // A session refreshed 23 hours ago is still alive, and every refresh starts the clock again.
    let busy_session = session_of(&app, &busy.access_token).await;
    happened_earlier(&app, &busy_session, 23).await;
    let refreshed = app.refresh(&busy.refresh_token).await.expect("within the idle timeout");
    happened_earlier(&app, &busy_session, 23).await;
    app.refresh(&refreshed.refresh_token)
        .await
        .expect("23 hours after the last refresh: alive");
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_busy() {
    let app = spawn_app().await;
    let (_, tokens) = app.signed_in_user("adele.vance@contoso.example").await;
    let session_id = session_of(&app, &tokens.access_token).await;
    let session: uuid::Uuid = session_id.parse().expect("uuid");

    // Refreshed every few hours for 13 days and 20 hours: the access tokens and refresh tokens
    // never reach past the 14th day.
    sqlx::query("UPDATE sessions SET created_at = now() - interval '13 days 20 hours' WHERE id = $1")
        .bind(session)
        .execute(&app.db)
        .await
        .expect("age the session");
    let late = app.refresh(&tokens.refresh_token).await.expect("still within 14 days");
    assert!(
        late.expires_in <= 600,
        "the access token ends with the session at the latest: {}",
        late.expires_in
    );
    let refresh_expires_at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "SELECT expires_at FROM refresh_tokens WHERE session_id = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(session)
    .fetch_one(&app.db)
    .await
    .expect("the newest refresh token");
    let session_end = chrono::Utc::now() + chrono::Duration::hours(4);
    assert!(
        refresh_expires_at <= session_end + chrono::Duration::seconds(5),
        "the refresh token ends with the session ({refresh_expires_at}), not 24 hours later"
    );

    // Then the 14th day passes.
    sqlx::query("UPDATE sessions SET created_at = now() - interval '14 days 1 minute' WHERE id = $1")
        .bind(session)
        .execute(&app.db)
        .await
        .expect("age the session");
    let status = app.refresh(&late.refresh_token).await.expect_err("past its lifetime");
    assert_expired(
        &status,
        "max_lifetime",
        "this session reached its maximum length; sign in again",
    );
}
