use myaccount_proto::events::v1::ProfileUpdated;
use myaccount_proto::identity::v1 as pb;
use prost::Message;
use tonic::{Code, Request};

use crate::helpers::{assert_status, spawn_app, user_request, violated_fields};

#[tokio::test]
async fn users_read_their_own_profile() {
    let app = spawn_app().await;
    let request = user_request("adele.vance@contoso.example");
    let created = app.create_user(request.clone()).await.expect("created");
    let tokens = app
        .sign_in("adele.vance@contoso.example", &request.password)
        .await
        .expect("signs in");

    let profile = app
        .get_my_profile(&tokens.access_token)
        .await
        .expect("reads own profile");

    assert_eq!(profile, created, "exactly what the admin created");
    assert_eq!(profile.user_principal_name, "adele.vance@contoso.example");
    assert_eq!(profile.job_title, request.job_title);
    assert_eq!(profile.home_organization_id, request.home_organization_id);
}

#[tokio::test]
async fn reading_a_profile_needs_an_access_token() {
    let app = spawn_app().await;

    let status = app
        .identity
        .clone()
        .get_my_profile(Request::new(pb::GetMyProfileRequest {}))
        .await
        .expect_err("anonymous");

    assert_status(&status, Code::Unauthenticated, "an access token is required");
}

#[tokio::test]
async fn users_update_the_fields_named_in_the_mask_and_nothing_else() {
    let app = spawn_app().await;
    let (user, tokens) = app.signed_in_user("adele.vance@contoso.example").await;
    let before = app.get_my_profile(&tokens.access_token).await.expect("profile");

    let changes = pb::ProfileChanges {
        display_name: "  Adele V.  ".into(),
        given_name: "Not in the mask".into(),
        surname: "Not in the mask".into(),
        office_location: "Building 4, room 12".into(),
        mobile_phone: "+44 20 7946 0958".into(),
        business_phone: String::new(),
        preferred_language: "zh-Hant-TW".into(),
        regional_format: "de-ch".into(),
        time_zone: "Europe/Zurich".into(),
    };
    let paths = [
        "display_name",
        "office_location",
        "mobile_phone",
        "business_phone",
        "preferred_language",
        "regional_format",
        "time_zone",
    ];
    let updated = app
        .update_my_profile(&tokens.access_token, changes, &paths)
        .await
        .expect("a valid update");

    let expected = pb::Profile {
        display_name: "Adele V.".into(),
        office_location: "Building 4, room 12".into(),
        mobile_phone: "+44 20 7946 0958".into(),
        business_phone: String::new(),
        preferred_language: "zh-Hant-TW".into(),
        regional_format: "de-CH".into(),
        time_zone: "Europe/Zurich".into(),
        updated_at: updated.updated_at,
        ..before.clone()
    };
    assert_eq!(
        updated, expected,
        "only the masked fields changed (values trimmed, a field cleared, a language tag in its canonical casing)"
    );
    let (old, new) = (before.updated_at.expect("set"), updated.updated_at.expect("set"));
    assert!(
        (new.seconds, new.nanos) > (old.seconds, old.nanos),
        "updated_at moves forward"
    );
    assert_eq!(
        app.get_my_profile(&tokens.access_token).await.expect("profile"),
        updated,
        "stored"
    );

    let events: Vec<ProfileUpdated> = app
        .outbox_payloads("myaccount.identity.v1.profile_updated")
        .await
        .iter()
        .map(|p| ProfileUpdated::decode(p.as_slice()).expect("a ProfileUpdated payload"))
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].user_id, user.id.to_string());
    assert_eq!(events[0].changed_fields, paths);
    assert!(!updated.preferred_language.is_empty());
    assert_eq!(
        events[0].preferred_language, updated.preferred_language,
        "the language after the change"
    );
    assert_eq!(
        (events[0].time_zone.as_str(), events[0].regional_format.as_str()),
        ("Europe/Zurich", "de-CH"),
        "the time zone and regional format after the change"
    );
    let caller = app
        .jwks_verifier()
        .verify(&tokens.access_token)
        .await
        .expect("verifies");
    assert_eq!(events[0].session_id, caller.session_id.expect("sid").to_string());

    // A change that leaves the language alone still carries it: consumers keep it from any event.
    let name_only = pb::ProfileChanges {
        display_name: "Adele Vance".into(),
        ..Default::default()
    };
    app.update_my_profile(&tokens.access_token, name_only, &["display_name"])
        .await
        .expect("updated");
    let events: Vec<ProfileUpdated> = app
        .outbox_payloads("myaccount.identity.v1.profile_updated")
        .await
        .iter()
        .map(|p| ProfileUpdated::decode(p.as_slice()).expect("a ProfileUpdated payload"))
        .collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1].changed_fields, ["display_name"]);
    assert_eq!(events[1].preferred_language, updated.preferred_language);
    assert_eq!(
        (events[1].time_zone.as_str(), events[1].regional_format.as_str()),
        ("Europe/Zurich", "de-CH")
    );
}

#[tokio::test]
async fn invalid_updates_are_refused_and_leave_the_profile_unchanged() {
    let app = spawn_app().await;
    let (_, tokens) = app.signed_in_user("adele.vance@contoso.example").await;
    let before = app.get_my_profile(&tokens.access_token).await.expect("profile");
    let valid = pb::ProfileChanges {
        display_name: "Adele V.".into(),
        given_name: "Adele".into(),
        surname: "Vance".into(),
        office_location: "Building 4".into(),
        mobile_phone: "+1 425 555 0199".into(),
        business_phone: "+1 425 555 0100".into(),
        preferred_language: "en-GB".into(),
        regional_format: "en-GB".into(),
        time_zone: "Europe/London".into(),
    };
    let not_editable = "\"mail\" is not a field you can change; editable fields: display_name, given_name, surname, \
                        office_location, mobile_phone, business_phone, preferred_language, regional_format, time_zone";
    // What is asked, with which mask, and the (field, description) violations expected.
    type Case = (
        &'static str,
        pb::ProfileChanges,
        Vec<&'static str>,
        Vec<(&'static str, &'static str)>,
    );
    let cases: Vec<Case> = vec![
        (
            "a field the organization manages",
            valid.clone(),
            vec!["display_name", "mail"],
            vec![("update_mask", not_editable)],
        ),
        (
            "an empty mask",
            valid.clone(),
            vec![],
            vec![("update_mask", "name at least one field to change")],
        ),
        (
            "a field listed twice",
            valid.clone(),
            vec!["surname", "surname"],
            vec![("update_mask", "surname is listed twice")],
        ),
        (
            "a bad phone number",
            pb::ProfileChanges {
                mobile_phone: "call me maybe".into(),
                ..valid.clone()
            },
            vec!["display_name", "mobile_phone"],
            vec![("mobile_phone", "must be a phone number such as +1 425 555 0100")],
        ),
        (
            "a bad language tag",
            pb::ProfileChanges {
                preferred_language: "english".into(),
                ..valid.clone()
            },
            vec!["preferred_language"],
            vec![("preferred_language", "must be a language tag such as en-US")],
        ),
        (
            "a bad regional format and time zone beside a good language",
            pb::ProfileChanges {
                preferred_language: "fr".into(),
                regional_format: "de_DE".into(),
                time_zone: "Berlin".into(),
                ..valid.clone()
            },
            vec!["preferred_language", "regional_format", "time_zone"],
            vec![
                ("regional_format", "must be a language tag such as en-US"),
                ("time_zone", "must be an IANA time zone such as Europe/Berlin"),
            ],
        ),
        (
            "a display name removed",
            pb::ProfileChanges {
                display_name: "   ".into(),
                business_phone: "12".into(),
                ..valid.clone()
            },
            vec!["display_name", "business_phone"],
            vec![
                ("display_name", "is required"),
                ("business_phone", "must be a phone number such as +1 425 555 0100"),
            ],
        ),
    ];

    for (case, changes, paths, expected) in cases {
        let status = app
            .update_my_profile(&tokens.access_token, changes, &paths)
            .await
            .expect_err(case);
        assert_eq!(status.code(), Code::InvalidArgument, "{case}: {status:?}");
        let with_reasons = platform::error::field_violations(&status);
        assert!(
            with_reasons.iter().all(|v| !v.reason.is_empty()),
            "{case}: every violation has its stable code: {with_reasons:?}"
        );
        let violations: Vec<(String, String)> = with_reasons.into_iter().map(|v| (v.field, v.description)).collect();
        let expected: Vec<(String, String)> = expected.iter().map(|(f, d)| ((*f).into(), (*d).into())).collect();
        assert_eq!(violations, expected, "{case}");
        assert_eq!(
            app.get_my_profile(&tokens.access_token).await.expect("profile"),
            before,
            "{case}: nothing changed"
        );
    }

    // A request without any mask at all is the empty mask.
    let status = app
        .identity
        .clone()
        .update_my_profile(crate::helpers::bearer(
            pb::UpdateMyProfileRequest {
                profile: Some(valid),
                update_mask: None,
            },
            &tokens.access_token,
        ))
        .await
        .expect_err("no mask");
    assert_eq!(violated_fields(&status), ["update_mask"]);
    assert_eq!(app.get_my_profile(&tokens.access_token).await.expect("profile"), before);
    assert!(
        app.outbox_payloads("myaccount.identity.v1.profile_updated")
            .await
            .is_empty(),
        "no change, no event"
    );
}
