use futures::future::join_all;
use myaccount_proto::events::v1::{DeviceRegistered, SignInFailureReason, SignInStatus};
use myaccount_proto::identity::v1 as pb;
use platform::error::retry_after;
use tonic::{Code, Status};
use uuid::Uuid;

use crate::helpers::{INVALID_CREDENTIALS, LOCKOUT_BASE, TestApp, spawn_app};

/// The first lock-out after the free failures is the test service's `LOCKOUT_BASE` (a minute);
/// the message names the seconds left.
const THROTTLED: &str = "too many failed sign-in attempts; try again in ";

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
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let retry = retry_after(status).expect("the status says when to retry");
    // Within the first lock-out, however long the calls before this one took.
    assert!(
        retry > LOCKOUT_BASE / 2 && retry <= LOCKOUT_BASE,
        "retry after {retry:?}"
    );
    let seconds = myaccount_identity::error::whole_seconds(retry);
    assert_eq!(status.message(), format!("{THROTTLED}{seconds} seconds"));
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

/// A sign-in from `ip_address` (and the device `device_id`, when given).
async fn sign_in_from(
    app: &TestApp,
    upn: &str,
    password: &str,
    ip_address: &str,
    device_id: &str,
) -> Result<pb::TokenSet, Status> {
    app.sign_in_with(pb::SignInRequest {
        username: upn.into(),
        password: password.into(),
        client: Some(pb::ClientContext {
            ip_address: ip_address.into(),
            device_id: device_id.into(),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
}

const HOME: &str = "203.0.113.7";
const ATTACKER: &str = "198.51.100.66";

/// How the attempts on `upn` ended, as recorded: wrong passwords (each one password
/// verification) and refusals by the throttle (none).
async fn verified_and_throttled(app: &TestApp, upn: &str) -> (usize, usize) {
    let records = app.sign_in_records_for(upn).await;
    let count = |reason: SignInFailureReason| records.iter().filter(|r| r.failure_reason == reason as i32).count();
    (
        count(SignInFailureReason::InvalidPassword),
        count(SignInFailureReason::Throttled),
    )
}

#[tokio::test]
async fn fifty_concurrent_wrong_passwords_verify_no_more_than_the_policy_allows() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;

    let answers =
        join_all((0..50).map(|_| sign_in_from(&app, &user.upn, "not the password at all", ATTACKER, ""))).await;

    // Four free failures and the one that starts the lock-out; nobody raced past the count.
    let (verified, throttled) = verified_and_throttled(&app, &user.upn).await;
    assert_eq!(verified, 5, "password verifications: {verified}");
    assert_eq!(throttled, 45);
    let codes: Vec<Code> = answers.iter().map(|a| a.as_ref().expect_err("wrong").code()).collect();
    assert_eq!(
        codes.iter().filter(|c| **c == Code::Unauthenticated).count(),
        5,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == Code::ResourceExhausted).count(),
        45,
        "{codes:?}"
    );
    // Every reservation was settled, and the counter holds exactly the failures recorded.
    let counters: Vec<(String, i32, i32)> =
        sqlx::query_as("SELECT key, failures, in_flight FROM sign_in_throttle ORDER BY key")
            .fetch_all(&app.db)
            .await
            .expect("read the throttle");
    let place = format!("account:{}:from:{ATTACKER}", user.upn);
    assert!(counters.contains(&(place, 5, 0)), "{counters:?}");
    assert!(counters.iter().all(|(_, _, in_flight)| *in_flight == 0), "{counters:?}");
}

#[tokio::test]
async fn the_owners_concurrent_right_passwords_are_never_refused_by_the_race_guard() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;

    // More at once than the counter lets fail before a lock-out: they wait their turn, and all
    // get in.
    let answers = join_all((0..16).map(|_| sign_in_from(&app, &user.upn, &user.password, HOME, ""))).await;

    let refused: Vec<&Status> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
    assert!(refused.is_empty(), "{refused:?}");
}

#[tokio::test]
async fn an_attackers_address_locks_itself_out_while_the_owner_signs_in_from_home() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    sign_in_from(&app, &user.upn, &user.password, HOME, "")
        .await
        .expect("the owner signs in from home once: it becomes familiar");

    for _ in 0..5 {
        let status = sign_in_from(&app, &user.upn, "not the password at all", ATTACKER, "")
            .await
            .expect_err("wrong password");
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    }
    let attacker = sign_in_from(&app, &user.upn, &user.password, ATTACKER, "")
        .await
        .expect_err("the attacker's address is locked out, even with the right password");
    assert_throttled(&attacker);

    sign_in_from(&app, &user.upn, &user.password, HOME, "")
        .await
        .expect("the owner still signs in from a familiar address");
    // Failures from home count apart: a typo there is not a lock-out of home.
    sign_in_from(&app, &user.upn, "a typo at home", HOME, "")
        .await
        .expect_err("wrong password");
    sign_in_from(&app, &user.upn, &user.password, HOME, "")
        .await
        .expect("still home");
}

#[tokio::test]
async fn the_owners_registered_device_is_familiar_from_any_address() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let laptop = Uuid::now_v7();
    app.deliver(
        &DeviceRegistered {
            user_id: user.id.to_string(),
            device_id: laptop.to_string(),
            display_name: "Laptop".into(),
            time: Some(myaccount_proto::timestamp(chrono::Utc::now())),
            ..Default::default()
        },
        None,
    )
    .await;

    // The attacker, without the laptop's id, locks out only their own address.
    fail_five_times_from(&app, &user.upn, ATTACKER).await;
    let status = sign_in_from(&app, &user.upn, &user.password, ATTACKER, "")
        .await
        .expect_err("locked out");
    assert_throttled(&status);

    sign_in_from(&app, &user.upn, &user.password, "192.0.2.44", &laptop.to_string())
        .await
        .expect("the owner's registered laptop signs in from a hotel's address");
}

async fn fail_five_times_from(app: &TestApp, upn: &str, ip_address: &str) {
    for attempt in 1..=5 {
        let status = sign_in_from(app, upn, "not the password at all", ip_address, "")
            .await
            .expect_err("a wrong password does not sign in");
        assert_eq!(status.code(), Code::Unauthenticated, "attempt {attempt}: {status:?}");
    }
}

#[tokio::test]
async fn one_address_spraying_passwords_over_many_accounts_is_locked_out() {
    let app = spawn_app().await;
    let megan = app.create_test_user("megan.bowen@contoso.example").await;

    // One guess per account name, never enough to lock out any account.
    for n in 0..21 {
        let status = sign_in_from(&app, &format!("user{n}@contoso.example"), "Summer2026!", ATTACKER, "")
            .await
            .expect_err("no such account");
        assert_eq!(status.code(), Code::Unauthenticated, "guess {n}: {status:?}");
    }

    let status = sign_in_from(&app, &megan.upn, &megan.password, ATTACKER, "")
        .await
        .expect_err("the address is locked out across accounts");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    sign_in_from(&app, &megan.upn, &megan.password, HOME, "")
        .await
        .expect("other addresses are not");
}
