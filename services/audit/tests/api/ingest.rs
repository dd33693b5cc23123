use async_nats::HeaderMap;
use myaccount_proto::events::v1::SignInRecorded;
use platform::events::{Stream, headers};
use prost::Message;
use uuid::Uuid;

use crate::helpers::{DEAD_LETTER_SUBJECT, SIGN_IN_RECORDED, at, cloud_event_headers, spawn_app, success};

#[tokio::test]
async fn the_same_event_delivered_twice_is_stored_once() {
    let app = spawn_app().await;
    let adele = Uuid::new_v4();
    let event = success(adele, at(0));

    app.publish(std::slice::from_ref(&event)).await;
    // The same event again (same ce-id) under other message ids, so JetStream keeps every copy
    // and only audit can tell they are one sign-in.
    app.publish_with_msg_id(&event, "redelivery-1").await;
    app.publish_with_msg_id(&event, "redelivery-2").await;
    app.wait_until_consumed().await;

    assert_eq!(
        app.stream_messages(Stream::SignIn).await.len(),
        3,
        "JetStream did not dedupe"
    );
    assert_eq!(app.stored_sign_ins().await, 1, "audit did");
    let listed = app.all_sign_ins_of(adele).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, event.sign_in_id);
    assert!(app.dead_letters().await.is_empty(), "a duplicate is not an error");
}

#[tokio::test]
async fn events_audit_cannot_read_are_dead_lettered_and_later_events_still_arrive() {
    let app = spawn_app().await;
    let adele = Uuid::new_v4();

    // Not protobuf at all.
    let garbage_id = Uuid::now_v7().to_string();
    app.publish_raw(cloud_event_headers(&garbage_id, SIGN_IN_RECORDED), vec![0xff; 7])
        .await;
    // A well-formed payload announced as another type of event.
    let mistyped = success(adele, at(0));
    let mut mistyped_headers = cloud_event_headers(&mistyped.sign_in_id, "myaccount.signin.v1.deleted");
    // Its own message id, so JetStream does not dedupe the proper send of this event below.
    mistyped_headers.insert("Nats-Msg-Id", "mistyped-1");
    app.publish_raw(mistyped_headers, mistyped.encode_to_vec()).await;
    // Decodes, but breaks the contract: the sign-in id must be a UUID.
    let contract_breaker = SignInRecorded {
        sign_in_id: "sign-in-42".into(),
        ..success(adele, at(5))
    };
    app.publish_raw(
        cloud_event_headers("sign-in-42", SIGN_IN_RECORDED),
        contract_breaker.encode_to_vec(),
    )
    .await;
    // No CloudEvents id, so it could never be deduplicated.
    let anonymous = success(adele, at(6));
    let mut no_id = HeaderMap::new();
    no_id.insert(headers::TYPE, SIGN_IN_RECORDED);
    no_id.insert(headers::CONTENT_TYPE, headers::PROTOBUF);
    app.publish_raw(no_id, anonymous.encode_to_vec()).await;
    // JSON where protobuf is expected.
    let json_id = Uuid::now_v7().to_string();
    let mut json = cloud_event_headers(&json_id, SIGN_IN_RECORDED);
    json.insert(headers::CONTENT_TYPE, "application/json");
    app.publish_raw(json, br#"{"sign_in_id":"x"}"#.to_vec()).await;

    // A good event behind all of them.
    let good = success(adele, at(10));
    app.publish(std::slice::from_ref(&good)).await;

    let listed: Vec<String> = app.all_sign_ins_of(adele).await.into_iter().map(|s| s.id).collect();
    assert_eq!(listed, [good.sign_in_id.as_str()], "the good event got through");
    assert_eq!(app.stored_sign_ins().await, 1, "nothing of the bad ones was stored");

    let dead = app.dead_letters().await;
    let wire_subject = app.bus.naming().subject(DEAD_LETTER_SUBJECT);
    assert!(
        wire_subject.ends_with(".myaccount.deadletter.v1.audit_recorded"),
        "namespaced: {wire_subject}"
    );
    let mut reasons = Vec::new();
    for message in &dead {
        assert_eq!(message.subject.as_str(), wire_subject);
        let header = |name: &str| message.headers.get(name).map(|v| v.as_str().to_owned());
        assert_eq!(
            header("x-original-subject").as_deref(),
            Some(SIGN_IN_RECORDED),
            "logical subject"
        );
        reasons.push((
            header(headers::ID).unwrap_or_default(),
            header("x-dead-letter-reason").expect("a reason"),
            message.payload.to_vec(),
        ));
    }
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    // In publication order; two ingest workers may dead-letter them in another.
    let order = [
        garbage_id.as_str(),
        mistyped.sign_in_id.as_str(),
        "sign-in-42",
        "",
        json_id.as_str(),
    ];
    reasons.sort_by_key(|(id, _, _)| order.iter().position(|o| o == id));
    let (id, reason, payload) = &reasons[0];
    assert_eq!(id, &garbage_id);
    assert!(reason.starts_with("undecodable payload: "), "{reason}");
    assert_eq!(payload, &vec![0xff; 7], "the original payload is kept");
    let (id, reason, payload) = &reasons[1];
    assert_eq!(id, &mistyped.sign_in_id);
    assert_eq!(
        reason,
        "unexpected ce-type \"myaccount.signin.v1.deleted\", expected \"myaccount.signin.v1.recorded\""
    );
    assert_eq!(payload, &mistyped.encode_to_vec());
    let (id, reason, _) = &reasons[2];
    assert_eq!(id, "sign-in-42");
    assert_eq!(reason, "sign_in_id \"sign-in-42\" is not a UUID");
    let (id, reason, payload) = &reasons[3];
    assert_eq!(id, "");
    assert_eq!(reason, "missing ce-id header");
    assert_eq!(payload, &anonymous.encode_to_vec());
    let (id, reason, _) = &reasons[4];
    assert_eq!(id, &json_id);
    assert_eq!(reason, "unsupported content-type \"application/json\"");

    // Dead-lettering did not use up the event's id: the mistyped event, sent properly, is taken.
    app.publish(std::slice::from_ref(&mistyped)).await;
    let listed: Vec<String> = app.all_sign_ins_of(adele).await.into_iter().map(|s| s.id).collect();
    assert_eq!(listed, [good.sign_in_id, mistyped.sign_in_id]);
}

#[tokio::test]
async fn the_geoip_database_locates_first_then_the_trusted_proxy_report() {
    let app = spawn_app().await;
    let adele = Uuid::new_v4();
    let lyon = || myaccount_proto::events::v1::ReportedLocation {
        country: "FR".into(),
        region: "Auvergne-Rhone-Alpes".into(),
        city: "Lyon".into(),
        latitude: Some(45.76),
        longitude: Some(4.83),
    };
    // An address the database knows (Paris): the report is not needed.
    let mut known = success(adele, at(0));
    known.ip_address = "198.51.100.20".into();
    known.reported_location = Some(lyon());
    // A private address the database cannot place: the proxy's report is used.
    let mut reported = success(adele, at(1));
    reported.ip_address = "10.0.0.1".into();
    reported.reported_location = Some(lyon());
    // Neither knows: unknown, not a guess. A report with nothing plausible in it is none.
    let mut unknown = success(adele, at(2));
    unknown.ip_address = "10.0.0.2".into();
    unknown.reported_location = Some(myaccount_proto::events::v1::ReportedLocation {
        country: "France".into(),
        latitude: Some(123.0),
        longitude: Some(4.0),
        ..Default::default()
    });
    // Returns once audit has consumed them (Paris then Lyon a second later is also an
    // impossible journey, whose alert lands on the same stream: no second wait).
    app.publish(&[known.clone(), reported.clone(), unknown.clone()]).await;

    let listed = app.all_sign_ins_of(adele).await;
    let place = |id: &str| {
        let s = listed.iter().find(|s| s.id == id).expect("listed");
        let l = s.location.clone().unwrap_or_default();
        (l.city, l.region, l.country)
    };
    assert_eq!(
        place(&known.sign_in_id),
        ("Paris".into(), "Ile-de-France".into(), "FR".into())
    );
    assert_eq!(
        place(&reported.sign_in_id),
        ("Lyon".into(), "Auvergne-Rhone-Alpes".into(), "FR".into())
    );
    assert_eq!(
        place(&unknown.sign_in_id),
        (String::new(), String::new(), String::new())
    );
}

#[tokio::test]
async fn the_same_sign_in_sent_again_under_a_new_event_id_is_stored_once_beside_its_batch() {
    let app = spawn_app().await;
    let adele = Uuid::new_v4();
    let first = success(adele, at(0));
    app.publish(std::slice::from_ref(&first)).await;

    // The stored sign-in again under a fresh event id, with two new sign-ins right behind it:
    // the set-wise insert meets the stored row, and the batch is applied message by message.
    let mut again = cloud_event_headers(&Uuid::new_v4().to_string(), SIGN_IN_RECORDED);
    again.insert("Nats-Msg-Id", "resent-under-a-new-id");
    app.publish_raw(again, first.encode_to_vec()).await;
    let later = [success(adele, at(10)), success(adele, at(20))];
    for event in &later {
        app.publish_with_msg_id(event, &event.sign_in_id).await;
    }
    app.wait_until_consumed().await;

    let mut listed: Vec<String> = app.all_sign_ins_of(adele).await.into_iter().map(|s| s.id).collect();
    listed.sort();
    let mut expected: Vec<String> = [&first, &later[0], &later[1]]
        .iter()
        .map(|e| e.sign_in_id.clone())
        .collect();
    expected.sort();
    assert_eq!(listed, expected, "each sign-in once");
    assert!(
        app.dead_letters().await.is_empty(),
        "a sign-in sent twice is not an error"
    );
}

#[tokio::test]
async fn text_with_tabs_line_breaks_backslashes_and_quotes_is_stored_as_sent() {
    let app = spawn_app().await;
    let adele = Uuid::new_v4();
    let mut event = success(adele, at(0));
    event.user_agent = "Odd/1.0 (tab\there; line\nbreak; cr\rhere) back\\slash \"quoted\" {braces} \\N é ☃".into();
    event.user_principal_name = "adele\\vance\t@contoso.example".into();
    event.app_id = "app\\with\"quotes\",commas".into();
    event.authentication_methods = vec!["pwd".into(), "o\"tp\\x,y".into(), String::new()];
    // Straight through the batch path's insert, which a consumer would quietly replace with the
    // message by message path if it failed.
    let mut sign_in = myaccount_audit::events::sign_in_from_event(&event).expect("a valid event");
    sign_in.location = myaccount_audit::domain::Location {
        city: "Saint-Jean\td'Acre\\".into(),
        region: String::new(),
        country: "FR".into(),
        latitude: Some(-33.868_820_123_456_78),
        longitude: Some(1e-7),
    };
    let mut tx = app.db.begin().await.expect("begin");
    myaccount_audit::store::insert_sign_ins(&mut tx, &[&sign_in], myaccount_audit::store::Existing::Fail)
        .await
        .expect("inserted");
    tx.commit().await.expect("commit");

    let stored = app.all_sign_ins_of(adele).await;
    assert_eq!(stored.len(), 1);
    let s = &stored[0];
    assert_eq!(s.user_agent, event.user_agent);
    assert_eq!(s.user_principal_name, event.user_principal_name);
    assert_eq!(s.app_id, event.app_id);
    assert_eq!(s.authentication_methods, event.authentication_methods);
    let location = s.location.as_ref().expect("a location");
    assert_eq!(location.city, "Saint-Jean\td'Acre\\");
    assert_eq!(location.country, "FR");
    let coordinates: (Option<f64>, Option<f64>) =
        sqlx::query_as("SELECT latitude, longitude FROM sign_ins WHERE id = $1")
            .bind(sign_in.id)
            .fetch_one(&app.db)
            .await
            .expect("the row");
    assert_eq!(
        coordinates,
        (Some(-33.868_820_123_456_78), Some(1e-7)),
        "floats in full"
    );
    let steps: Vec<&str> = s.authentication_steps.iter().map(|step| step.method.as_str()).collect();
    assert_eq!(steps, ["pwd", "o\"tp\\x,y", ""], "the steps (JSON) as sent");
}
