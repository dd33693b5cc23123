//! My data: the export (with its own record in my activity), erasure of a deleted account (the
//! sign-ins kept pseudonymised, everything else gone, later events ignored), and the retention
//! policy as a client states it.

use chrono::Utc;
use myaccount_proto::audit::v1 as pb;
use myaccount_proto::events::v1::{
    OrganizationChanged, ProfileUpdated, SignInFailureReason, SignInRecorded, TermsAccepted,
};
use tonic::{Code, Request};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_status, at, bearer, failure, spawn_app, success};

const USER_DELETED: &str = "audit_user_deleted";
const ACTIVITY_IDENTITY: &str = "audit_activity_identity";
const CHROME: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// Identity reports a profile change of `user_id`; waits until the activity log has it.
async fn profile_updated(app: &TestApp, user_id: Uuid) -> String {
    let id = app
        .publish_event(&ProfileUpdated {
            user_id: user_id.to_string(),
            changed_fields: vec!["display_name".into()],
            time: None,
            session_id: String::new(),
            preferred_language: String::new(),
            ..Default::default()
        })
        .await;
    app.wait_until_processed(ACTIVITY_IDENTITY, &id).await;
    id
}

async fn confirm_me(app: &TestApp, user_id: Uuid, sign_in_id: &str) {
    let request = pb::ReviewMySignInRequest {
        id: sign_in_id.into(),
        verdict: pb::ReviewVerdict::Me.into(),
    };
    app.audit
        .clone()
        .review_my_sign_in(bearer(request, &app.token_for(user_id)))
        .await
        .expect("reviewed");
}

fn ids_of(sign_ins: &[pb::SignIn]) -> Vec<&str> {
    sign_ins.iter().map(|s| s.id.as_str()).collect()
}

#[tokio::test]
async fn my_export_holds_my_sign_ins_with_my_verdicts_and_my_activity_and_nobody_elses() {
    let app = spawn_app().await;
    let (adele, megan) = (Uuid::new_v4(), Uuid::new_v4());
    let first = success(adele, at(0));
    let wrong_password = failure(Some(adele), at(10), SignInFailureReason::InvalidPassword);
    let latest = success(adele, at(20));
    app.publish(&[
        first.clone(),
        wrong_password.clone(),
        latest.clone(),
        success(megan, at(15)),
    ])
    .await;
    confirm_me(&app, adele, &first.sign_in_id).await;
    profile_updated(&app, adele).await;
    profile_updated(&app, megan).await;

    let export = app.export(&app.token_for(adele)).await.expect("exported");

    assert_eq!(export.user_id, adele.to_string());
    assert!(export.exported_at.is_some());
    assert_eq!(
        ids_of(&export.sign_ins),
        [&latest.sign_in_id, &wrong_password.sign_in_id, &first.sign_in_id],
        "mine only, newest first"
    );
    assert_eq!(
        export.sign_ins,
        app.all_sign_ins_of(adele).await,
        "as ListMySignIns shows them"
    );
    let reviewed = &export.sign_ins[2];
    assert_eq!(reviewed.review_state, "confirmed_me");
    assert!(reviewed.reviewed_at.is_some(), "with when I said so");
    assert!(export.sign_ins[0].reviewed_at.is_none());
    let activities: Vec<&str> = export.activities.iter().map(|a| a.activity.as_str()).collect();
    assert_eq!(activities, ["profile_updated"], "mine only");

    let stranger = app.export(&app.token_for(Uuid::new_v4())).await.expect("exported");
    assert!(stranger.sign_ins.is_empty() && stranger.activities.is_empty());
}

#[tokio::test]
async fn an_export_is_recorded_in_my_activity_and_shows_in_the_next_export() {
    let app = spawn_app().await;
    let adele = Uuid::new_v4();
    app.publish(&[success(adele, at(0))]).await;
    profile_updated(&app, adele).await;
    let token = app.token_for(adele);

    let first = app.export(&token).await.expect("exported");
    assert_eq!(first.activities.len(), 1, "not yet the record of itself");

    let listed = app.my_activity(adele).await;
    let record = &listed[0];
    assert_eq!(
        (
            record.category.as_str(),
            record.activity.as_str(),
            record.summary.as_str()
        ),
        (
            "privacy",
            "data_exported",
            "Exported a copy of your sign-ins and account activity"
        )
    );
    assert_eq!(record.time, first.exported_at);
    assert_eq!(record.details.get("sign_ins").map(String::as_str), Some("1"));
    assert_eq!(record.details.get("activities").map(String::as_str), Some("1"));

    let second = app.export(&token).await.expect("exported again");
    assert_eq!(second.activities[0], *record, "the earlier export, newest first");
    assert_eq!(second.activities[1..], first.activities[..]);
    assert_eq!(app.my_activity(adele).await.len(), 3, "both exports are on record");
}

#[tokio::test]
async fn accepted_terms_of_use_read_as_a_sentence_naming_the_organization_and_version() {
    let app = spawn_app().await;
    let adele = Uuid::new_v4();
    let organization_id = Uuid::new_v4().to_string();
    let id = app
        .publish_event(&TermsAccepted {
            user_id: adele.to_string(),
            organization_id: organization_id.clone(),
            organization_display_name: "Fabrikam".into(),
            version: "2026-11".into(),
            terms_of_use_url: "https://fabrikam.example/terms".into(),
            time: None,
        })
        .await;
    app.wait_until_processed("audit_activity_organizations", &id).await;

    let listed = app.my_activity(adele).await;
    assert_eq!(listed.len(), 1);
    let record = &listed[0];
    assert_eq!(
        (
            record.category.as_str(),
            record.activity.as_str(),
            record.summary.as_str()
        ),
        (
            "organizations",
            "terms_accepted",
            "Accepted the terms of use of Fabrikam (version 2026-11)"
        )
    );
    let detail = |key: &str| record.details.get(key).map(String::as_str);
    assert_eq!(detail("organization_name"), Some("Fabrikam"));
    assert_eq!(detail("version"), Some("2026-11"));
    assert_eq!(detail("organization_id"), Some(organization_id.as_str()));
}

#[tokio::test]
async fn my_data_calls_without_a_token_are_unauthenticated() {
    let app = spawn_app().await;

    let status = app
        .audit
        .clone()
        .export_my_data(Request::new(pb::ExportMyDataRequest {}))
        .await
        .expect_err("anonymous");
    assert_status(&status, Code::Unauthenticated, "an access token is required");

    let status = app
        .audit
        .clone()
        .get_my_data_retention(Request::new(pb::GetMyDataRetentionRequest {}))
        .await
        .expect_err("anonymous");
    assert_status(&status, Code::Unauthenticated, "an access token is required");
}

/// Rows of `table` whose text holds `needle` anywhere.
async fn rows_mentioning(app: &TestApp, table: &str, needle: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {table} t WHERE strpos(t::text, $1) > 0"
    )))
    .bind(needle)
    .fetch_one(&app.db)
    .await
    .expect("search rows")
}

/// The stored sign-ins with these ids, whole, in id order.
async fn stored_rows(app: &TestApp, ids: &[&str]) -> Vec<String> {
    let ids: Vec<Uuid> = ids.iter().map(|i| Uuid::parse_str(i).expect("a uuid")).collect();
    sqlx::query_scalar("SELECT s::text FROM sign_ins s WHERE id = ANY($1) ORDER BY id")
        .bind(ids)
        .fetch_all(&app.db)
        .await
        .expect("read sign-ins")
}

async fn tombstones(app: &TestApp, user_id: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM platform.erased_users WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&app.db)
        .await
        .expect("read tombstones")
}

#[derive(Debug, sqlx::FromRow)]
struct Kept {
    user_id: Option<Uuid>,
    user_principal_name: String,
    ip_address: String,
    user_agent: String,
    device_id: String,
    session_id: String,
    correlation_id: String,
    latitude: Option<f64>,
    city: String,
    browser: String,
    status: String,
    review_state: String,
}

async fn kept(app: &TestApp, id: &str) -> Kept {
    sqlx::query_as(
        "SELECT user_id, user_principal_name, ip_address, user_agent, device_id, session_id, correlation_id, \
         latitude, city, browser, status, review_state FROM sign_ins WHERE id = $1",
    )
    .bind(Uuid::parse_str(id).expect("a uuid"))
    .fetch_one(&app.db)
    .await
    .expect("the sign-in is still kept")
}

#[tokio::test]
async fn a_deleted_account_keeps_only_pseudonymised_sign_ins_and_stays_erased() {
    let app = spawn_app().await;
    let (adele, megan) = (Uuid::new_v4(), Uuid::new_v4());
    // Located (Paris in the test database), so there are coordinates to forget.
    let in_paris = SignInRecorded {
        ip_address: "198.51.100.20".into(),
        user_agent: CHROME.into(),
        device_id: "adele-laptop".into(),
        ..success(adele, at(0))
    };
    let over_ipv6 = SignInRecorded {
        ip_address: "2001:db8:1234:5678::9".into(),
        device_id: "adele-laptop".into(),
        ..success(adele, at(10))
    };
    let wrong_password = SignInRecorded {
        ip_address: "198.51.100.20".into(),
        device_id: "adele-laptop".into(),
        ..failure(Some(adele), at(20), SignInFailureReason::InvalidPassword)
    };
    let megans = success(megan, at(5));
    app.publish(&[in_paris.clone(), over_ipv6.clone(), wrong_password.clone(), megans])
        .await;
    confirm_me(&app, adele, &in_paris.sign_in_id).await;
    profile_updated(&app, adele).await;
    profile_updated(&app, megan).await;
    app.export(&app.token_for(adele)).await.expect("exported");
    assert_eq!(kept(&app, &in_paris.sign_in_id).await.city, "Paris");
    let megan_sign_ins = app.all_sign_ins_of(megan).await;
    let megan_activity = app.my_activity(megan).await;

    let deleted = app.user_deleted(adele).await;
    app.wait_until_processed(USER_DELETED, &deleted).await;
    // The activity log sees user_deleted too, and must not record it.
    app.wait_until_processed(ACTIVITY_IDENTITY, &deleted).await;

    // Nothing is shown to the account any more, and asking leaves no record.
    let adele_token = app.token_for(adele);
    assert!(app.all_sign_ins_of(adele).await.is_empty());
    assert!(app.my_activity(adele).await.is_empty());
    let export = app.export(&adele_token).await.expect("exported");
    assert!(export.sign_ins.is_empty() && export.activities.is_empty(), "{export:?}");
    assert!(
        app.my_activity(adele).await.is_empty(),
        "the export of an erased account is not recorded"
    );

    // The sign-ins are still there for the organization's retention, under one pseudonym.
    let ids = [
        in_paris.sign_in_id.as_str(),
        over_ipv6.sign_in_id.as_str(),
        wrong_password.sign_in_id.as_str(),
    ];
    let rows = [
        kept(&app, ids[0]).await,
        kept(&app, ids[1]).await,
        kept(&app, ids[2]).await,
    ];
    let pseudonym = rows[0].user_id.expect("a pseudonym");
    assert_ne!(pseudonym, adele);
    for row in &rows {
        assert_eq!(row.user_id, Some(pseudonym), "one pseudonym per erased user");
        for cleared in [
            &row.user_principal_name,
            &row.user_agent,
            &row.device_id,
            &row.session_id,
            &row.correlation_id,
        ] {
            assert_eq!(cleared, "", "{row:?}");
        }
        assert_eq!(row.latitude, None);
    }
    let networks: Vec<&str> = rows.iter().map(|r| r.ip_address.as_str()).collect();
    assert_eq!(networks, ["198.51.100.0/24", "2001:db8:1234::/48", "198.51.100.0/24"]);
    // What an investigation needs stays.
    assert_eq!(
        (
            rows[0].city.as_str(),
            rows[0].browser.as_str(),
            rows[0].review_state.as_str()
        ),
        ("Paris", "Chrome", "confirmed_me")
    );
    assert_eq!(rows[2].status, "failure");
    for needle in [
        adele.to_string(),
        in_paris.user_principal_name.clone(),
        "198.51.100.20".into(),
        "2001:db8:1234:5678".into(),
        in_paris.session_id.clone(),
        in_paris.correlation_id.clone(),
        "adele-laptop".into(),
    ] {
        for table in ["sign_ins", "activities", "known_sign_in_traits"] {
            assert_eq!(rows_mentioning(&app, table, &needle).await, 0, "{needle} in {table}");
        }
    }
    let tombstone: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'platform' AND table_name = 'erased_users' \
         ORDER BY ordinal_position",
    )
    .fetch_all(&app.db)
    .await
    .expect("columns");
    assert_eq!(tombstone, ["user_id", "erased_at"], "the tombstone holds no pseudonym");
    assert_eq!(tombstones(&app, adele).await, 1);

    // Megan's data is untouched.
    assert_eq!(app.all_sign_ins_of(megan).await, megan_sign_ins);
    assert_eq!(app.my_activity(megan).await, megan_activity);

    // The deletion delivered again changes nothing.
    let before = stored_rows(&app, &ids).await;
    let again = app.user_deleted(adele).await;
    app.wait_until_processed(USER_DELETED, &again).await;
    assert_eq!(stored_rows(&app, &ids).await, before);
    assert_eq!(tombstones(&app, adele).await, 1);

    // Late events about adele: the sign-in is kept pseudonymised, the activity not at all. The
    // sign-in is from a device never seen: for a live account it would raise an alert.
    let late = SignInRecorded {
        ip_address: "198.51.100.20".into(),
        user_agent: CHROME.into(),
        device_id: "laptop-7".into(),
        ..success(adele, at(30))
    };
    app.publish(std::slice::from_ref(&late)).await;
    profile_updated(&app, adele).await;
    let late_row = kept(&app, &late.sign_in_id).await;
    assert!(late_row.user_id.is_some_and(|u| u != adele), "{late_row:?}");
    assert_eq!(
        (
            late_row.user_principal_name.as_str(),
            late_row.ip_address.as_str(),
            late_row.user_agent.as_str(),
            late_row.device_id.as_str(),
            late_row.session_id.as_str()
        ),
        ("", "198.51.100.0/24", "", "", "")
    );
    assert_eq!(late_row.browser, "Chrome");
    assert!(app.all_sign_ins_of(adele).await.is_empty());
    assert!(app.my_activity(adele).await.is_empty());
    for table in ["sign_ins", "activities", "known_sign_in_traits"] {
        assert_eq!(rows_mentioning(&app, table, &adele.to_string()).await, 0, "{table}");
    }
    let alerts: i64 = sqlx::query_scalar("SELECT count(*) FROM platform.outbox")
        .fetch_one(&app.db)
        .await
        .expect("outbox");
    assert_eq!(alerts, 0, "no risk alert or notification about an erased account");
}

/// Two relays and two consumers may hand audit an organization's changes out of order: the
/// newest change stands whichever is handled last.
#[tokio::test]
async fn an_older_retention_change_handled_late_does_not_overwrite_a_newer_one() {
    let app = spawn_app().await;
    let contoso = Uuid::new_v4().to_string();
    let changed = |days: i32, minutes_ago: i64| OrganizationChanged {
        organization_id: contoso.clone(),
        display_name: "Contoso".into(),
        sign_in_retention_days: days,
        time: Some(myaccount_proto::timestamp(
            Utc::now() - chrono::Duration::minutes(minutes_ago),
        )),
        ..Default::default()
    };
    let newer = app.publish_event(&changed(90, 1)).await;
    app.wait_until_processed("audit_changed", &newer).await;
    let older = app.publish_event(&changed(7, 5)).await;
    app.wait_until_processed("audit_changed", &older).await;
    let mut claims = app.issuer.claims_for(Uuid::new_v4());
    claims.org = Some(contoso.clone());
    let token = app.issuer.sign(&claims);
    let retention = app.data_retention(&token).await.expect("retention");
    assert_eq!(retention.sign_in_retention_days, 90, "the newer change stands");

    let newest = app.publish_event(&changed(30, 0)).await;
    app.wait_until_processed("audit_changed", &newest).await;
    let retention = app.data_retention(&token).await.expect("retention");
    assert_eq!(retention.sign_in_retention_days, 30, "a newer change still applies");
}

#[tokio::test]
async fn my_data_retention_is_my_organizations_when_known_and_the_default_otherwise() {
    let app = spawn_app().await;
    let contoso = Uuid::new_v4().to_string();
    let changed = app
        .publish_event(&OrganizationChanged {
            organization_id: contoso.clone(),
            display_name: "Contoso".into(),
            sign_in_retention_days: 90,
            ..Default::default()
        })
        .await;
    app.wait_until_processed("audit_changed", &changed).await;
    let in_organization = |organization: &str| {
        let mut claims = app.issuer.claims_for(Uuid::new_v4());
        claims.org = Some(organization.to_owned());
        app.issuer.sign(&claims)
    };

    let mine = app.data_retention(&in_organization(&contoso)).await.expect("retention");
    assert_eq!(
        (mine.sign_in_retention_days, mine.organization_id.as_str()),
        (90, contoso.as_str())
    );
    assert!(mine.kept_after_erasure.contains("pseudonymised"), "{mine:?}");
    assert!(!mine.activity_retention.is_empty());

    let default = myaccount_audit::domain::DEFAULT_RETENTION_DAYS;
    for token in [
        app.token_for(Uuid::new_v4()),
        in_organization(&Uuid::new_v4().to_string()),
    ] {
        let r = app.data_retention(&token).await.expect("retention");
        assert_eq!((r.sign_in_retention_days, r.organization_id.as_str()), (default, ""));
        assert_eq!(r.kept_after_erasure, mine.kept_after_erasure);
    }
}
