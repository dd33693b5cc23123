//! "Devices and sessions": my sessions, ending one, all others or all of them, changing the
//! password, and the reaction to a disabled device.

use std::time::Duration;

use myaccount_proto::events::v1::{DeviceDisabled, DeviceEnabled, DeviceRegistered, PasswordChanged};
use myaccount_proto::identity::v1 as pb;
use platform::events::{Stream, headers};
use platform::testing::eventually;
use prost::Message;
use tonic::{Code, Status};
use uuid::Uuid;

use crate::helpers::{
    INVALID_CREDENTIALS, INVALID_REFRESH_TOKEN, SESSION_REVOKED, TestApp, TestUser, assert_revoked, assert_status,
    bearer, spawn_app, violated_fields,
};

const PASSWORD_CHANGED: &str = "myaccount.identity.v1.password_changed";
const EDGE_ON_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
     Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";
const SAFARI_ON_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
     (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
const NEW_PASSWORD: &str = "amber quokka lighthouse sonata";

impl TestApp {
    /// Registers a personal device of `user` as devices would announce it, and waits until
    /// identity knows it (only a person's own registered device is bound to a session).
    async fn register_device(&self, user: &TestUser) -> String {
        let device_id = Uuid::new_v4();
        let event = DeviceRegistered {
            user_id: user.id.to_string(),
            device_id: device_id.to_string(),
            display_name: "Laptop".into(),
            time: Some(myaccount_proto::timestamp(chrono::Utc::now())),
            ..Default::default()
        };
        self.publish(&Uuid::now_v7().to_string(), &event).await;
        let db = &self.db;
        eventually(Duration::from_secs(20), || async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM registered_devices WHERE device_id = $1")
                .bind(device_id)
                .fetch_one(db)
                .await
                .is_ok_and(|n| n == 1)
        })
        .await;
        device_id.to_string()
    }

    /// Signs `user` in from a browser on a device.
    async fn sign_in_from(&self, user: &TestUser, user_agent: &str, device_id: &str, ip: &str) -> pb::TokenSet {
        self.sign_in_with(pb::SignInRequest {
            username: user.upn.clone(),
            password: user.password.clone(),
            client: Some(pb::ClientContext {
                ip_address: ip.into(),
                user_agent: user_agent.into(),
                device_id: device_id.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("signs in")
    }

    async fn list_my_sessions(&self, access_token: &str) -> Result<Vec<pb::Session>, Status> {
        Ok(self.list_my_sessions_page(access_token, 0, "").await?.sessions)
    }

    async fn list_my_sessions_page(
        &self,
        access_token: &str,
        page_size: i32,
        page_token: &str,
    ) -> Result<pb::ListMySessionsResponse, Status> {
        let request = pb::ListMySessionsRequest {
            page_size,
            page_token: page_token.into(),
        };
        Ok(self
            .identity
            .clone()
            .list_my_sessions(bearer(request, access_token))
            .await?
            .into_inner())
    }

    /// `count` more usable sessions of `user`, the most recent used `minutes_ago` minutes
    /// ago and each next one a minute earlier, as if signed in on `count` other browsers long
    /// ago (written directly: thousands of argon2id sign-ins would take minutes).
    async fn add_old_sessions(&self, user: &TestUser, count: i32, minutes_ago: i32) {
        sqlx::query(
            "WITH made AS ( \
               INSERT INTO sessions (id, user_id, created_at, last_seen_at, user_agent, auth_time, amr) \
               SELECT gen_random_uuid(), $1, now() - interval '30 days', \
                      now() - make_interval(mins => $3 + g), 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0', \
                      now() - interval '30 days', '{pwd}' \
               FROM generate_series(0, $2 - 1) AS g RETURNING id) \
             INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) \
             SELECT sha256(id::text::bytea), id, now(), now() + interval '1 day' FROM made",
        )
        .bind(user.id)
        .bind(count)
        .bind(minutes_ago)
        .execute(&self.db)
        .await
        .expect("adds sessions");
    }

    async fn revoke_my_session(&self, access_token: &str, session_id: &str) -> Result<(), Status> {
        let request = pb::RevokeMySessionRequest {
            session_id: session_id.into(),
        };
        self.identity
            .clone()
            .revoke_my_session(bearer(request, access_token))
            .await?;
        Ok(())
    }

    async fn revoke_my_other_sessions(&self, access_token: &str) -> Result<i32, Status> {
        let request = bearer(pb::RevokeMyOtherSessionsRequest {}, access_token);
        Ok(self
            .identity
            .clone()
            .revoke_my_other_sessions(request)
            .await?
            .into_inner()
            .revoked_count)
    }

    async fn sign_out_everywhere(&self, access_token: &str) -> Result<i32, Status> {
        let request = bearer(pb::SignOutEverywhereRequest {}, access_token);
        Ok(self
            .identity
            .clone()
            .sign_out_everywhere(request)
            .await?
            .into_inner()
            .revoked_count)
    }

    async fn change_my_password(
        &self,
        access_token: &str,
        current: &str,
        new: &str,
        end_others: bool,
    ) -> Result<i32, Status> {
        let request = pb::ChangeMyPasswordRequest {
            current_password: current.into(),
            new_password: new.into(),
            end_other_sessions: end_others,
        };
        Ok(self
            .identity
            .clone()
            .change_my_password(bearer(request, access_token))
            .await?
            .into_inner()
            .other_sessions_ended)
    }

    /// The session id inside an access token.
    async fn session_of(&self, tokens: &pb::TokenSet) -> String {
        let caller = self
            .jwks_verifier()
            .verify(&tokens.access_token)
            .await
            .expect("verifies");
        caller.session_id.expect("a session").to_string()
    }
}

#[tokio::test]
async fn my_sessions_say_which_browser_system_and_device_and_which_one_is_this() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let laptop = app.register_device(&user).await;
    let on_laptop = app.sign_in_from(&user, EDGE_ON_WINDOWS, &laptop, "203.0.113.7").await;
    let on_phone = app.sign_in_from(&user, SAFARI_ON_IPHONE, "", "198.51.100.20").await;
    let laptop_session = app.session_of(&on_laptop).await;
    let phone_session = app.session_of(&on_phone).await;

    let sessions = app.list_my_sessions(&on_phone.access_token).await.expect("lists");

    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions[0].id, phone_session, "most recently used first");
    assert!(sessions[0].current, "this one");
    assert_eq!(sessions[0].browser, "Safari");
    assert_eq!(sessions[0].operating_system, "iOS");
    assert_eq!(sessions[0].device_category, "smartphone");
    assert_eq!(sessions[0].device_id, "");
    assert_eq!(sessions[1].id, laptop_session);
    assert!(!sessions[1].current);
    assert_eq!(sessions[1].browser, "Edge");
    assert_eq!(sessions[1].operating_system, "Windows");
    assert_eq!(sessions[1].operating_system_version, "10");
    assert_eq!(sessions[1].device_id, laptop);
    assert_eq!(sessions[1].ip_address, "203.0.113.7");
    assert_eq!(
        sessions[0].location, "Paris, Ile-de-France, FR",
        "from the GeoIP database"
    );
    assert_eq!(sessions[1].location, "Sydney, New South Wales, AU");
    assert_eq!(sessions[1].authentication_methods, ["pwd"]);
    assert!(sessions[1].created_at.is_some() && sessions[1].last_activity_at.is_some());

    // Another person sees only their own.
    let (_, other) = app.signed_in_user("megan.bowen@contoso.example").await;
    let theirs = app.list_my_sessions(&other.access_token).await.expect("lists");
    assert_eq!(theirs.len(), 1);
    assert!(theirs[0].current);
}

#[tokio::test]
async fn ending_one_session_stops_its_refresh_and_is_published() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let here = app.sign_in(&user.upn, &user.password).await.expect("signs in");
    let lost = app
        .sign_in(&user.upn, &user.password)
        .await
        .expect("signs in elsewhere");
    let lost_session = app.session_of(&lost).await;
    let (_, stranger) = app.signed_in_user("mallory@contoso.example").await;

    // Someone else's session, a made-up one and a malformed id change nothing.
    let status = app
        .revoke_my_session(&stranger.access_token, &lost_session)
        .await
        .expect_err("not theirs");
    assert_status(&status, Code::NotFound, &format!("session {lost_session} not found"));
    let made_up = Uuid::new_v4().to_string();
    let status = app
        .revoke_my_session(&here.access_token, &made_up)
        .await
        .expect_err("unknown");
    assert_status(&status, Code::NotFound, &format!("session {made_up} not found"));
    let status = app
        .revoke_my_session(&here.access_token, "yesterday")
        .await
        .expect_err("malformed");
    assert_eq!(violated_fields(&status), ["session_id"]);
    assert!(app.revocations().await.is_empty());

    app.revoke_my_session(&here.access_token, &lost_session)
        .await
        .expect("ends it");

    assert_status(
        &app.refresh(&lost.refresh_token).await.expect_err("ended"),
        Code::Unauthenticated,
        INVALID_REFRESH_TOKEN,
    );
    assert_revoked(
        &app.get_my_profile(&lost.access_token).await.expect_err("ended"),
        "revoked_by_user",
    );
    let sessions = app.list_my_sessions(&here.access_token).await.expect("lists");
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].current);
    let status = app
        .revoke_my_session(&here.access_token, &lost_session)
        .await
        .expect_err("already ended");
    assert_eq!(status.code(), Code::NotFound);

    let revoked = app.revocations().await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].session_id, lost_session);
    assert_eq!(revoked[0].user_id, user.id.to_string());
    assert_eq!(revoked[0].reason, "revoked_by_user");
    assert_eq!(revoked[0].actor_session_id, app.session_of(&here).await);

    // Published on JetStream with the user as its subject.
    let wire = app.naming.subject(SESSION_REVOKED);
    eventually(Duration::from_secs(10), || async {
        app.stream_messages(Stream::Identity).await.iter().any(|m| {
            m.subject.as_str() == wire
                && m.headers.get(headers::SUBJECT).map(|v| v.as_str()) == Some(&user.id.to_string())
        })
    })
    .await;
}

#[tokio::test]
async fn sign_out_everywhere_else_keeps_this_session_and_everywhere_ends_it_too() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let here = app.sign_in(&user.upn, &user.password).await.expect("signs in");
    let second = app.sign_in(&user.upn, &user.password).await.expect("second device");
    let third = app.sign_in(&user.upn, &user.password).await.expect("third device");
    let (_, neighbour) = app.signed_in_user("megan.bowen@contoso.example").await;

    assert_eq!(
        app.revoke_my_other_sessions(&here.access_token).await.expect("revokes"),
        2
    );
    for ended in [&second, &third] {
        app.refresh(&ended.refresh_token).await.expect_err("ended");
    }
    let here = app.refresh(&here.refresh_token).await.expect("this session goes on");
    assert_eq!(
        app.revoke_my_other_sessions(&here.access_token)
            .await
            .expect("nothing left"),
        0
    );
    let reasons: Vec<String> = app.revocations().await.into_iter().map(|r| r.reason).collect();
    assert_eq!(reasons, ["other_sessions_revoked", "other_sessions_revoked"]);

    let elsewhere = app.sign_in(&user.upn, &user.password).await.expect("signs in again");
    assert_eq!(app.sign_out_everywhere(&here.access_token).await.expect("signs out"), 2);
    app.refresh(&here.refresh_token).await.expect_err("this one too");
    app.refresh(&elsewhere.refresh_token).await.expect_err("and the other");
    assert_revoked(
        &app.get_my_profile(&here.access_token).await.expect_err("ended"),
        "signed_out_everywhere",
    );
    assert_eq!(app.revocations().await.len(), 4);
    app.get_my_profile(&neighbour.access_token)
        .await
        .expect("another person is untouched");
}

#[tokio::test]
async fn a_disabled_device_ends_the_sessions_on_it_once_even_when_redelivered() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let lost_device = app.register_device(&user).await;
    let on_lost = app
        .sign_in_from(&user, EDGE_ON_WINDOWS, &lost_device, "203.0.113.7")
        .await;
    let also_on_lost = app
        .sign_in_from(&user, EDGE_ON_WINDOWS, &lost_device, "203.0.113.7")
        .await;
    let on_phone = app
        .sign_in_from(&user, SAFARI_ON_IPHONE, &Uuid::new_v4().to_string(), "198.51.100.20")
        .await;
    // Someone else whose client claims the same device id keeps their session.
    let other = app.create_test_user("megan.bowen@contoso.example").await;
    let others_session = app
        .sign_in_from(&other, EDGE_ON_WINDOWS, &lost_device, "192.0.2.1")
        .await;

    let event = DeviceDisabled {
        user_id: user.id.to_string(),
        device_id: lost_device.clone(),
        actor_user_id: user.id.to_string(),
        ..Default::default()
    };
    let event_id = Uuid::now_v7().to_string();
    app.publish(&event_id, &event).await;
    eventually(Duration::from_secs(20), || async { app.revocations().await.len() == 2 }).await;

    for ended in [&on_lost, &also_on_lost] {
        assert_status(
            &app.refresh(&ended.refresh_token).await.expect_err("device disabled"),
            Code::Unauthenticated,
            INVALID_REFRESH_TOKEN,
        );
    }
    app.refresh(&on_phone.refresh_token)
        .await
        .expect("the phone is untouched");
    app.refresh(&others_session.refresh_token)
        .await
        .expect("another person is untouched");
    let revoked = app.revocations().await;
    assert!(
        revoked
            .iter()
            .all(|r| r.reason == "device_disabled" && r.device_id == lost_device)
    );
    assert!(
        revoked
            .iter()
            .all(|r| r.user_id == user.id.to_string() && r.actor_session_id.is_empty())
    );

    // Redelivered (same event id), and a second disable message for a device with nothing left.
    app.publish(&event_id, &event).await;
    let again = Uuid::now_v7().to_string();
    app.publish(&again, &event).await;
    eventually(Duration::from_secs(20), || app.processed(&again)).await;
    assert_eq!(
        app.revocations().await.len(),
        2,
        "nothing more to end, nothing more published"
    );
}

#[tokio::test]
async fn changing_the_password_checks_the_current_one_and_can_end_the_other_sessions() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let here = app.sign_in(&user.upn, &user.password).await.expect("signs in");
    let elsewhere = app.sign_in(&user.upn, &user.password).await.expect("second device");

    let status = app
        .change_my_password(&here.access_token, "not my password", NEW_PASSWORD, true)
        .await
        .expect_err("wrong current password");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["current_password"]);
    let status = app
        .change_my_password(&here.access_token, "", "password123", false)
        .await
        .expect_err("empty and weak");
    assert_eq!(violated_fields(&status), ["current_password", "new_password"]);
    app.refresh(&elsewhere.refresh_token)
        .await
        .expect("nothing changed yet");
    let elsewhere = app
        .sign_in(&user.upn, &user.password)
        .await
        .expect("the old password still works");

    let ended = app
        .change_my_password(&here.access_token, &user.password, NEW_PASSWORD, true)
        .await
        .expect("changes it");
    assert_eq!(ended, 2, "both other sessions");
    app.refresh(&elsewhere.refresh_token).await.expect_err("ended");
    app.refresh(&here.refresh_token).await.expect("this session goes on");
    assert_status(
        &app.sign_in(&user.upn, &user.password).await.expect_err("old password"),
        Code::Unauthenticated,
        INVALID_CREDENTIALS,
    );
    app.sign_in(&user.upn, NEW_PASSWORD)
        .await
        .expect("the new password works");

    let changed: Vec<PasswordChanged> = app
        .outbox_payloads(PASSWORD_CHANGED)
        .await
        .into_iter()
        .map(|p| PasswordChanged::decode(p.as_slice()).expect("a PasswordChanged payload"))
        .collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].other_sessions_ended, 2);
    assert!(app.revocations().await.iter().all(|r| r.reason == "password_changed"));
}

#[tokio::test]
async fn guessing_the_current_password_is_throttled_like_sign_in() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let here = app.sign_in(&user.upn, &user.password).await.expect("signs in");
    for _ in 0..5 {
        app.change_my_password(&here.access_token, "a wrong guess", NEW_PASSWORD, false)
            .await
            .expect_err("wrong");
    }
    let status = app
        .change_my_password(&here.access_token, &user.password, NEW_PASSWORD, false)
        .await
        .expect_err("throttled, even with the right password");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(platform::error::retry_after(&status).is_some());
    app.sign_in(&user.upn, &user.password)
        .await
        .expect_err("the account name is throttled for sign-in too");
}

#[tokio::test]
async fn twenty_concurrent_wrong_current_passwords_verify_no_more_than_the_policy_allows() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let here = app.sign_in(&user.upn, &user.password).await.expect("signs in");

    let answers = futures::future::join_all(
        (0..20).map(|_| app.change_my_password(&here.access_token, "a wrong guess", NEW_PASSWORD, false)),
    )
    .await;

    // Four free failures and the one that starts the lock-out were verified; nobody raced past
    // the count, every other guess was throttled before its verification.
    let codes: Vec<Code> = answers.iter().map(|a| a.as_ref().expect_err("wrong").code()).collect();
    let wrong = codes.iter().filter(|c| **c == Code::InvalidArgument).count();
    let throttled = codes.iter().filter(|c| **c == Code::ResourceExhausted).count();
    assert_eq!((wrong, throttled), (5, 15), "{codes:?}");
    let counter: (i32, i32) = sqlx::query_as("SELECT failures, in_flight FROM sign_in_throttle WHERE key = $1")
        .bind(format!("account:{}", user.upn))
        .fetch_one(&app.db)
        .await
        .expect("the account's counter");
    assert_eq!(counter, (5, 0), "every failure counted, every place given back");
    let status = app
        .change_my_password(&here.access_token, &user.password, NEW_PASSWORD, false)
        .await
        .expect_err("locked out, even with the right password");
    assert_eq!(status.code(), Code::ResourceExhausted);
}

#[tokio::test]
async fn thousands_of_sessions_come_a_bounded_page_at_a_time_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let (user, tokens) = app.signed_in_user("adele.vance@contoso.example").await;
    app.add_old_sessions(&user, 10_000, 3).await;
    // Sessions that cannot be used any more never show: an ended one and one whose refresh
    // token expired (the two used 1 and 2 minutes ago).
    app.add_old_sessions(&user, 2, 1).await;
    sqlx::query(
        "UPDATE sessions SET revoked_at = now() WHERE id = (SELECT id FROM sessions WHERE user_id = $1 \
         ORDER BY last_seen_at DESC LIMIT 1 OFFSET 1)",
    )
    .bind(user.id)
    .execute(&app.db)
    .await
    .expect("ends one");
    sqlx::query(
        "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE session_id = \
         (SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY last_seen_at DESC LIMIT 1 OFFSET 1)",
    )
    .bind(user.id)
    .execute(&app.db)
    .await
    .expect("expires one");
    let usable = 1 + 10_000;

    // Without a size: the default page, this session first; a size past the cap: the cap.
    let first = app
        .list_my_sessions_page(&tokens.access_token, 0, "")
        .await
        .expect("lists");
    assert_eq!(first.sessions.len(), 50);
    assert!(
        first.sessions[0].current,
        "the session just signed in is the most recent"
    );
    assert!(!first.next_page_token.is_empty());
    let capped = app
        .list_my_sessions_page(&tokens.access_token, 100_000, "")
        .await
        .expect("lists");
    assert_eq!(capped.sessions.len(), 100);

    // Every usable session exactly once, most recently used first, and an empty token at the end.
    let mut seen = std::collections::HashSet::new();
    let mut last_activity = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = app
            .list_my_sessions_page(&tokens.access_token, 100, &token)
            .await
            .expect("lists");
        pages += 1;
        assert!(page.sessions.len() <= 100);
        for session in &page.sessions {
            assert!(seen.insert(session.id.clone()), "{} repeated", session.id);
            let at = session.last_activity_at.expect("last activity");
            last_activity.push((at.seconds, at.nanos));
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), usable);
    assert_eq!(pages, usable.div_ceil(100));
    assert!(
        last_activity.windows(2).all(|w| w[0] >= w[1]),
        "most recently used first"
    );
}

#[tokio::test]
async fn a_bad_page_of_sessions_is_refused_by_field() {
    let app = spawn_app().await;
    let (_, tokens) = app.signed_in_user("adele.vance@contoso.example").await;

    let status = app
        .list_my_sessions_page(&tokens.access_token, -1, "yesterday")
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["page_size", "page_token"]);

    // A token from another list (my sign-ins' keyset) is not one of this list's either.
    let status = app
        .list_my_sessions_page(&tokens.access_token, 10, "djE6MTcwMDAwMDAwMDAwMDAwMDpub3QtYS11dWlk")
        .await
        .expect_err("refused");
    assert_eq!(violated_fields(&status), ["page_token"]);
}

/// Two relays and two consumers may hand identity a device's events out of order: a disable
/// from before an enable, handled after it, leaves the device enabled.
#[tokio::test]
async fn an_older_disable_handled_after_a_newer_enable_leaves_the_device_enabled() {
    let app = spawn_app().await;
    let user = app.create_test_user("adele.vance@contoso.example").await;
    let device = app.register_device(&user).await;
    let registered = chrono::Utc::now();
    let enabled = DeviceEnabled {
        user_id: user.id.to_string(),
        device_id: device.clone(),
        time: Some(myaccount_proto::timestamp(registered + chrono::Duration::minutes(2))),
        ..Default::default()
    };
    app.deliver(&enabled, None).await;
    let disabled = DeviceDisabled {
        user_id: user.id.to_string(),
        device_id: device.clone(),
        actor_user_id: user.id.to_string(),
        time: Some(myaccount_proto::timestamp(registered + chrono::Duration::minutes(1))),
        ..Default::default()
    };
    app.deliver(&disabled, None).await;

    let session = app.sign_in_from(&user, EDGE_ON_WINDOWS, &device, "203.0.113.7").await;
    app.refresh(&session.refresh_token)
        .await
        .expect("the device is enabled: its new session lives");
}

#[tokio::test]
async fn a_session_ended_where_no_revocation_feed_saw_it_cannot_list_sessions() {
    let app = spawn_app().await;
    let (user, ended) = app.signed_in_user("adele.vance@contoso.example").await;
    let other = app.sign_in(&user.upn, &user.password).await.expect("second session");
    let ended_session = app.session_of(&ended).await;
    // Ended in the database only: the revocation feed never tells this process, so identity's
    // own check of the caller's session is what refuses it (its page does not show it).
    sqlx::query("UPDATE sessions SET revoked_at = now(), revoked_reason = 'revoked_by_user' WHERE id = $1::uuid")
        .bind(&ended_session)
        .execute(&app.db)
        .await
        .expect("ends it");
    assert_revoked(
        &app.list_my_sessions(&ended.access_token).await.expect_err("ended"),
        "revoked_by_user",
    );
    // The other session lists itself, the one the page shows it as current.
    let sessions = app.list_my_sessions(&other.access_token).await.expect("lists");
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].current);
}
