//! Codes that reach a phone: the notification sender against an in-test HTTP server playing the
//! SMS and voice provider (Twilio-style and webhook), with its errors, its slowness and its
//! limits; and a deployment without a provider, where phones are unavailable.

use std::time::Duration;

use data_encoding::{BASE64, HEXLOWER};
use hmac::{Hmac, Mac};
use myaccount_proto::events::v1::{NotificationChannel, NotificationRequested};
use myaccount_proto::securityinfo::v1 as pb;
use myaccount_security_info::notifications::{NotificationSender, SenderSettings, seal_secret_parameters};
use myaccount_security_info::phone::PhoneTransport;
use platform::consumer::{Delivery, Handler};
use sha2::Sha256;
use tonic::Code;

use crate::helpers::*;

const MOBILE: &str = "+14255550109";
const OFFICE: &str = "+14255550177";

async fn start_phone_with(app: &TestApp, p: &Person, phone_type: pb::PhoneType, number: &str) -> pb::PendingMethod {
    app.start_phone(p, phone_type, number)
        .await
        .expect("phone registration starts")
}

/// The provider's answer for a notification on a channel, once recorded.
async fn recorded(app: &TestApp, channel: &str) -> (String, i32, i32, Option<String>) {
    eventually_some(|| async {
        sqlx::query_as::<_, (String, i32, i32, Option<String>)>(
            "SELECT outcome, provider_status, attempts, provider_error_code FROM phone_deliveries WHERE channel = $1",
        )
        .bind(channel)
        .fetch_optional(&app.db)
        .await
        .expect("phone_deliveries")
    })
    .await
}

async fn eventually_some<T, F, Fut>(mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = std::time::Instant::now();
    loop {
        if let Some(value) = f().await {
            return value;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "not recorded within 20 s");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn an_sms_code_reaches_a_twilio_style_api_with_basic_auth() {
    let provider = FakePhoneProvider::start().await;
    let twilio = provider.twilio_settings("AC0123", "twilio-auth-token");
    let app = spawn_app_with(|s| s.phone = Some(twilio)).await;
    let p = app.person(SignedIn::WithMfa);
    let pending = start_phone_with(&app, &p, pb::PhoneType::Mobile, MOBILE).await;

    let received = provider.wait_for(1).await;
    let sms = &received[0];
    assert_eq!(sms.path, "/2010-04-01/Accounts/AC0123/Messages.json");
    assert_eq!(
        sms.header("authorization").as_deref(),
        Some(format!("Basic {}", BASE64.encode(b"AC0123:twilio-auth-token")).as_str())
    );
    assert_eq!(
        sms.header("content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let form = sms.form();
    assert_eq!(form["To"], MOBILE);
    assert_eq!(form["From"], "+14255550100");
    let code = app.code_sent_to(MOBILE, 0).await;
    assert!(form["Body"].contains(&code), "the text carries the code");
    assert!(!form.contains_key("Twiml"));
    // The code the phone got proves the phone.
    let method = app.verify(&p, &pending.method_id, &code).await.expect("verified");
    assert_eq!(method.r#type(), pb::MethodType::Phone);
    assert_eq!(recorded(&app, "sms").await, ("delivered".into(), 201, 1, None));
}

#[tokio::test]
async fn a_voice_code_is_a_twilio_call_that_says_the_digits() {
    let provider = FakePhoneProvider::start().await;
    let twilio = provider.twilio_settings("AC0123", "twilio-auth-token");
    let app = spawn_app_with(|s| s.phone = Some(twilio)).await;
    let p = app.person(SignedIn::WithMfa);
    // An office phone is called.
    start_phone_with(&app, &p, pb::PhoneType::Office, OFFICE).await;

    let call = &provider.wait_for(1).await[0];
    assert_eq!(call.path, "/2010-04-01/Accounts/AC0123/Calls.json");
    let form = call.form();
    assert_eq!(form["To"], OFFICE);
    assert!(!form.contains_key("Body"));
    let code = app.code_sent_to(OFFICE, 0).await;
    let spoken: Vec<String> = code.chars().map(String::from).collect();
    let twiml = &form["Twiml"];
    assert!(twiml.starts_with("<Response><Say language=\"en-US\">"), "{twiml}");
    assert!(twiml.contains(&spoken.join(", ")), "digit by digit: {twiml}");
    assert_eq!(recorded(&app, "voice").await.0, "delivered");
}

#[tokio::test]
async fn a_webhook_gets_json_with_a_bearer_token_and_one_key_per_delivery() {
    let app = spawn_app().await;
    let p = app.person(SignedIn::WithMfa);
    start_phone_with(&app, &p, pb::PhoneType::Mobile, MOBILE).await;

    let request = &app.phone.wait_for(1).await[0];
    assert_eq!(request.path, "/messages");
    assert_eq!(
        request.header("authorization").as_deref(),
        Some(format!("Bearer {WEBHOOK_TOKEN}").as_str())
    );
    let body = request.json();
    let code = app.code_sent_to(MOBILE, 0).await;
    assert_eq!(body["to"], MOBILE);
    assert_eq!(body["channel"], "sms");
    assert_eq!(body["locale"], "en-US");
    assert_eq!(body["from"], "+14255550100");
    assert!(body["text"].as_str().expect("text").contains(&code));
    let id = body["id"].as_str().expect("id");
    assert!(id.ends_with("/sms"), "{id}");
    assert_eq!(request.header("idempotency-key").as_deref(), Some(id));
}

#[tokio::test]
async fn a_webhook_can_check_an_hmac_signature_instead() {
    let provider = FakePhoneProvider::start().await;
    let settings = provider.webhook_settings(WebhookAuth::Hmac(Secret::new("shared-hmac-key")));
    let app = spawn_app_with(|s| s.phone = Some(settings)).await;
    let p = app.person(SignedIn::WithMfa);
    start_phone_with(&app, &p, pb::PhoneType::Mobile, MOBILE).await;

    let request = &provider.wait_for(1).await[0];
    assert_eq!(request.header("authorization"), None);
    let signature = request.header("myaccount-signature").expect("signed");
    let (t, v1) = signature
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .expect("t=...,v1=...");
    let at: i64 = t.parse().expect("unix seconds");
    assert!((chrono::Utc::now().timestamp() - at).abs() < 60, "signed just now");
    let mut mac = Hmac::<Sha256>::new_from_slice(b"shared-hmac-key").expect("key");
    mac.update(format!("{t}.{}", request.body).as_bytes());
    assert_eq!(
        v1,
        HEXLOWER.encode(&mac.finalize().into_bytes()),
        "signed over time and body"
    );
}

#[tokio::test]
async fn a_server_error_is_retried_and_the_code_delivered_once() {
    let app = spawn_app().await;
    app.phone.script([Scripted::status(500, r#"{"error":"internal"}"#)]);
    let p = app.person(SignedIn::WithMfa);
    start_phone_with(&app, &p, pb::PhoneType::Mobile, MOBILE).await;

    let received = app.phone.wait_for(2).await;
    assert_eq!(received[0].body, received[1].body, "the same message again");
    assert_eq!(recorded(&app, "sms").await, ("delivered".into(), 201, 2, None));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(app.phone.received().len(), 2, "delivered once, not again");
}

#[tokio::test]
async fn too_many_requests_waits_as_long_as_retry_after_says() {
    let app = spawn_app().await;
    app.phone.script([Scripted {
        retry_after: Some(2),
        ..Scripted::status(429, r#"{"error":"slow_down"}"#)
    }]);
    let p = app.person(SignedIn::WithMfa);
    start_phone_with(&app, &p, pb::PhoneType::Mobile, MOBILE).await;

    let received = app.phone.wait_for(2).await;
    let waited = received[1].at - received[0].at;
    // The backoff alone would be 25-50 ms.
    assert!(waited >= Duration::from_secs(2), "waited {waited:?}");
    assert_eq!(recorded(&app, "sms").await, ("delivered".into(), 201, 2, None));
}

#[tokio::test]
async fn a_provider_that_times_out_is_asked_again() {
    let app = spawn_app().await;
    // Longer than the 800 ms a request may take.
    app.phone.script([Scripted {
        delay: Duration::from_secs(3),
        ..Scripted::status(201, r#"{"id":"late"}"#)
    }]);
    let p = app.person(SignedIn::WithMfa);
    start_phone_with(&app, &p, pb::PhoneType::Mobile, MOBILE).await;

    app.phone.wait_for(2).await;
    assert_eq!(recorded(&app, "sms").await, ("delivered".into(), 201, 2, None));
}

#[tokio::test]
async fn a_refused_message_is_recorded_and_not_sent_again() {
    let app = spawn_app().await;
    app.phone.script([Scripted::status(
        400,
        r#"{"code":21211,"message":"The 'To' number is not a valid phone number."}"#,
    )]);
    let p = app.person(SignedIn::WithMfa);
    start_phone_with(&app, &p, pb::PhoneType::Mobile, MOBILE).await;

    assert_eq!(
        recorded(&app, "sms").await,
        ("refused".into(), 400, 1, Some("21211".into()))
    );
    // Neither the sender nor the consumer asks again (a redelivery would come within a second).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app.phone.received().len(), 1);
}

#[tokio::test]
async fn a_provider_down_longer_than_one_delivery_gets_the_code_on_redelivery() {
    let app = spawn_app().await;
    // The first delivery's four attempts fail; the consumer redelivers and the fifth lands.
    app.phone.script((0..4).map(|_| Scripted::status(503, "")));
    let p = app.person(SignedIn::WithMfa);
    start_phone_with(&app, &p, pb::PhoneType::Mobile, MOBILE).await;

    let received = app.phone.wait_for(5).await;
    assert_eq!(received[0].body, received[4].body, "the same code, not lost");
    assert_eq!(recorded(&app, "sms").await, ("delivered".into(), 201, 1, None));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(app.phone.received().len(), 5);
}

#[tokio::test]
async fn a_notification_handled_twice_is_texted_once() {
    let app = spawn_app().await;
    let provider = FakePhoneProvider::start().await;
    let transport =
        PhoneTransport::new(provider.webhook_settings(WebhookAuth::Bearer(Secret::new("t")))).expect("transport");
    let sender = NotificationSender::new(
        &SenderSettings::Log,
        Some(transport),
        app.keyring.clone(),
        app.db.clone(),
    )
    .expect("sender");
    let notification_id = uuid::Uuid::new_v4().to_string();
    let parameters = vec![("code".to_owned(), "493817".to_owned())];
    let secret = vec!["code".to_owned()];
    let event = NotificationRequested {
        notification_id: notification_id.clone(),
        recipient: MOBILE.into(),
        channel: NotificationChannel::Sms.into(),
        template: "sign_in_code".into(),
        parameters: seal_secret_parameters(&app.keyring, &notification_id, &parameters, &secret).expect("sealed"),
        secret_parameters: secret,
        ..Default::default()
    };
    // Two deliveries of one notification (say, the first batch's commit was lost).
    for id in ["first", "second"] {
        let delivery = Delivery {
            id: id.into(),
            event: event.clone(),
            time: None,
            delivered: 1,
        };
        let mut conn = app.db.acquire().await.expect("connection");
        sender.handle(&mut conn, &delivery).await.expect("handled");
    }
    let received = provider.received();
    assert_eq!(received.len(), 1, "texted once");
    assert!(received[0].json()["text"].as_str().expect("text").contains("493817"));
    let stored: String =
        sqlx::query_scalar("SELECT row_to_json(d)::text FROM phone_deliveries d WHERE notification_id = $1")
            .bind(&notification_id)
            .fetch_one(&app.db)
            .await
            .expect("recorded");
    assert!(
        !stored.contains("493817") && !stored.contains(MOBILE),
        "no code, no number: {stored}"
    );
}

#[tokio::test]
async fn without_a_provider_phones_are_unavailable_and_nothing_is_stored() {
    let app = spawn_app_with(|s| s.phone = None).await;
    let p = app.person(SignedIn::WithMfa);
    assert!(!app.security_info(&p).await.phone_available);
    let before = app.row_counts().await;
    let outbox = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM platform.outbox")
            .fetch_one(&app.db)
            .await
            .expect("outbox")
    };
    let outbox_before = outbox().await;

    let refused = app
        .start_phone(&p, pb::PhoneType::Mobile, MOBILE)
        .await
        .expect_err("no provider, no phone");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("PHONE_PROVIDER"), "{refused:?}");
    assert!(
        refused.message().contains("authenticator app"),
        "says what to do instead: {refused:?}"
    );
    assert_eq!(app.row_counts().await, before, "nothing stored");
    assert_eq!(app.method_rows(p.id).await, 0);
    assert_eq!(outbox().await, outbox_before, "no notification requested");

    // An email address still works.
    app.start_email(&p, "megan@contoso.example")
        .await
        .expect("email is offered");
}

#[tokio::test]
async fn with_a_provider_phones_are_available() {
    let app = spawn_app().await;
    let p = app.person(SignedIn::WithMfa);
    assert!(app.security_info(&p).await.phone_available);
}
