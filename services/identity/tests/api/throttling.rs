use std::time::Duration;

use myaccount_proto::events::v1::{SignInFailureReason, SignInStatus};
use platform::error::retry_after;
use tonic::{Code, Status};

use crate::helpers::{INVALID_CREDENTIALS, TestApp, assert_status, spawn_app};

/// The first lock-out after the free failures is one second; the message rounds up to whole seconds.
const THROTTLED: &str = "too many failed sign-in attempts; try again in 1 seconds";

/// Five wrong passwords in a row: four free failures and the one that starts the lock-out.
async fn fail_five_times(app: &TestApp, upn: &str) {
    for attempt in 1..=5 {
        let status = app
            .sign_in(upn, "not the password at all")
            .await
            .expect_err("a wrong password does not sign in");
        assert_eq!(status.code(), Code::Unauthenticated, "attempt {attempt}: {status:?}");
        assert_eq!(status.message(), INVALID_CREDENTIALS, "attempt {attempt}");
    }
}

#[track_caller]
fn assert_throttled(status: &Status) {
    assert_status(status, Code::ResourceExhausted, THROTTLED);
    let retry = retry_after(status).expect("the status says when to retry");
    assert!(
        retry > Duration::ZERO && retry <= Duration::from_secs(1),
        "retry after {retry:?}"
    );
}

#[tokio::test]
async fn the_fifth_failure_blocks_the_account_even_for_the_right_password() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;

    fail_five_times(&app, &user.upn).await;
    let status = app
        .sign_in(&user.upn, &user.password)
        .await
        .expect_err("blocked, so the password is not even checked");

    assert_throttled(&status);
    let records = app.sign_in_records_for(&user.upn).await;
    let outcomes: Vec<(i32, i32)> = records.iter().map(|r| (r.status, r.failure_reason)).collect();
    let failure = SignInStatus::Failure as i32;
    let invalid_password = (failure, SignInFailureReason::InvalidPassword as i32);
    let throttled = (failure, SignInFailureReason::Throttled as i32);
    assert_eq!(
        outcomes,
        [
            invalid_password,
            invalid_password,
            invalid_password,
            invalid_password,
            invalid_password,
            throttled
        ]
    );
    assert!(
        records
            .iter()
            .all(|r| r.user_id == user.id.to_string() && r.session_id.is_empty())
    );
}

#[tokio::test]
async fn an_unknown_user_name_is_throttled_exactly_like_a_real_one() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;

    fail_five_times(&app, &user.upn).await;
    let real = app.sign_in(&user.upn, &user.password).await.expect_err("throttled");
    fail_five_times(&app, "nobody@contoso.example").await;
    let unknown = app
        .sign_in("nobody@contoso.example", &user.password)
        .await
        .expect_err("throttled");

    // Same code, same message, same kind of retry advice: throttling does not reveal which
    // accounts exist.
    assert_throttled(&real);
    assert_throttled(&unknown);
    assert_eq!(real.code(), unknown.code());
    assert_eq!(real.message(), unknown.message());

    let records = app.sign_in_records_for("nobody@contoso.example").await;
    let reasons: Vec<i32> = records.iter().map(|r| r.failure_reason).collect();
    let unknown_user = SignInFailureReason::UnknownUser as i32;
    assert_eq!(
        reasons,
        [
            unknown_user,
            unknown_user,
            unknown_user,
            unknown_user,
            unknown_user,
            SignInFailureReason::Throttled as i32
        ]
    );
    assert!(records.iter().all(|r| r.user_id.is_empty()), "{records:?}");
}

#[tokio::test]
async fn four_failures_are_free_and_a_successful_sign_in_starts_the_count_again() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;

    for _ in 0..4 {
        app.sign_in(&user.upn, "not the password at all")
            .await
            .expect_err("wrong password");
    }
    app.sign_in(&user.upn, &user.password)
        .await
        .expect("four failures do not block");
    for _ in 0..4 {
        let status = app
            .sign_in(&user.upn, "not the password at all")
            .await
            .expect_err("wrong password");
        assert_eq!(
            status.code(),
            Code::Unauthenticated,
            "the count started again: {status:?}"
        );
    }
    app.sign_in(&user.upn, &user.password)
        .await
        .expect("still four failures since the last success");
}

#[tokio::test]
async fn blocking_one_account_name_leaves_other_users_alone() {
    let app = spawn_app().await;
    let adele = app.create_test_user("adele.vance@contoso.example").await;
    let megan = app.create_test_user("megan.bowen@contoso.example").await;

    fail_five_times(&app, &adele.upn).await;

    let status = app
        .sign_in(&adele.upn, &adele.password)
        .await
        .expect_err("adele is blocked");
    assert_eq!(status.code(), Code::ResourceExhausted);
    app.sign_in(&megan.upn, &megan.password)
        .await
        .expect("megan, from the same address, is not");
}
