use std::collections::HashSet;

use myaccount_proto::audit::v1 as pb;
use myaccount_proto::events::v1::{SignInFailureReason, SignInRecorded, SignInStatus};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{TestApp, at, failure, spawn_app, success};

/// What ListMySignIns shows for an event.
fn listed(e: &SignInRecorded) -> pb::SignIn {
    pb::SignIn {
        id: e.sign_in_id.clone(),
        time: e.time,
        user_principal_name: e.user_principal_name.clone(),
        app_id: e.app_id.clone(),
        ip_address: e.ip_address.clone(),
        user_agent: e.user_agent.clone(),
        device_id: e.device_id.clone(),
        status: e.status,
        failure_reason: e.failure_reason,
        authentication_methods: e.authentication_methods.clone(),
        session_id: e.session_id.clone(),
        correlation_id: e.correlation_id.clone(),
        user_id: e.user_id.clone(),
        organization_id: e.organization_id.clone(),
        ..Default::default()
    }
}

/// The fields of a listed sign-in that come straight from the event (audit adds the rest:
/// location, browser, risk, review state; other tests cover those).
fn carried(s: &pb::SignIn) -> pb::SignIn {
    pb::SignIn {
        id: s.id.clone(),
        time: s.time,
        user_principal_name: s.user_principal_name.clone(),
        app_id: s.app_id.clone(),
        ip_address: s.ip_address.clone(),
        user_agent: s.user_agent.clone(),
        device_id: s.device_id.clone(),
        status: s.status,
        failure_reason: s.failure_reason,
        authentication_methods: s.authentication_methods.clone(),
        session_id: s.session_id.clone(),
        correlation_id: s.correlation_id.clone(),
        user_id: s.user_id.clone(),
        organization_id: s.organization_id.clone(),
        ..Default::default()
    }
}

/// Ids newest first, as the log orders them: by time, then by id.
fn newest_first(events: &[&SignInRecorded]) -> Vec<String> {
    let mut keyed: Vec<((i64, i32), Uuid)> = events
        .iter()
        .map(|e| {
            let t = e.time.expect("a time");
            ((t.seconds, t.nanos), Uuid::parse_str(&e.sign_in_id).expect("a uuid"))
        })
        .collect();
    keyed.sort();
    keyed.reverse();
    keyed.into_iter().map(|(_, id)| id.to_string()).collect()
}

/// Walks every page of `user_id`'s sign-ins; returns the page sizes and the ids in order.
async fn walk_pages(app: &TestApp, user_id: Uuid, page_size: i32, status: SignInStatus) -> (Vec<usize>, Vec<String>) {
    let mut sizes = Vec::new();
    let mut ids = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = app
            .list_my_sign_ins(
                user_id,
                pb::ListMySignInsRequest {
                    page_size,
                    page_token: page_token.clone(),
                    status: status.into(),
                    ..Default::default()
                },
            )
            .await
            .expect("a page");
        sizes.push(page.sign_ins.len());
        ids.extend(page.sign_ins.into_iter().map(|s| s.id));
        if page.next_page_token.is_empty() {
            return (sizes, ids);
        }
        assert!(sizes.len() < 20, "pagination does not end");
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn users_see_only_their_own_sign_ins_newest_first() {
    let app = spawn_app().await;
    let (adele, megan) = (Uuid::new_v4(), Uuid::new_v4());
    let first = success(adele, at(0));
    let wrong_password = failure(Some(adele), at(10), SignInFailureReason::InvalidPassword);
    let latest = SignInRecorded {
        ip_address: "2001:db8::7".into(),
        user_agent: "MyAccount/2.1 (iOS 18)".into(),
        device_id: "iphone-15".into(),
        app_id: "myaccount-ios".into(),
        ..success(adele, at(20))
    };
    let megans = success(megan, at(15));
    let nobody = failure(None, at(5), SignInFailureReason::UnknownUser);

    // Delivered out of order: the log orders by when sign-ins happened, not by arrival.
    app.publish(&[
        latest.clone(),
        megans.clone(),
        first.clone(),
        nobody,
        wrong_password.clone(),
    ])
    .await;

    let page = app
        .list_my_sign_ins(adele, pb::ListMySignInsRequest::default())
        .await
        .expect("adele's sign-ins");
    assert_eq!(
        page.sign_ins.iter().map(carried).collect::<Vec<_>>(),
        [listed(&latest), listed(&wrong_password), listed(&first)]
    );
    assert_eq!(page.next_page_token, "", "a single page");

    assert_eq!(
        app.all_sign_ins_of(megan).await.iter().map(carried).collect::<Vec<_>>(),
        [listed(&megans)]
    );
    assert!(
        app.all_sign_ins_of(Uuid::new_v4()).await.is_empty(),
        "a user with no sign-ins sees none"
    );
}

#[tokio::test]
async fn pages_of_two_cover_five_sign_ins_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let (adele, megan) = (Uuid::new_v4(), Uuid::new_v4());
    let adeles = [
        success(adele, at(0)),
        failure(Some(adele), at(10), SignInFailureReason::InvalidPassword),
        // Same instant as the one before: the id breaks the tie, so the page boundary is exact.
        success(adele, at(10)),
        failure(Some(adele), at(20), SignInFailureReason::Throttled),
        success(adele, at(30)),
    ];
    let megans = [success(megan, at(5)), success(megan, at(25))];
    let mut all = adeles.to_vec();
    all.extend(megans.iter().cloned());
    app.publish(&all).await;

    let (sizes, ids) = walk_pages(&app, adele, 2, SignInStatus::Unspecified).await;

    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(ids, newest_first(&adeles.iter().collect::<Vec<_>>()));
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 5, "no repeats");
}

#[tokio::test]
async fn a_new_sign_in_arriving_between_pages_does_not_shift_them() {
    let app = spawn_app().await;
    let adele = Uuid::new_v4();
    let earlier: Vec<SignInRecorded> = (0..5).map(|i| success(adele, at(i * 10))).collect();
    app.publish(&earlier).await;
    let request = |page_token: String| pb::ListMySignInsRequest {
        page_size: 2,
        page_token,
        ..Default::default()
    };

    let first_page = app
        .list_my_sign_ins(adele, request(String::new()))
        .await
        .expect("page 1");
    // Adele signs in again while she is reading.
    let newest = success(adele, at(100));
    app.publish(std::slice::from_ref(&newest)).await;
    let mut ids: Vec<String> = first_page.sign_ins.into_iter().map(|s| s.id).collect();
    let mut token = first_page.next_page_token;
    while !token.is_empty() {
        let page = app.list_my_sign_ins(adele, request(token)).await.expect("next page");
        ids.extend(page.sign_ins.into_iter().map(|s| s.id));
        token = page.next_page_token;
    }

    assert_eq!(
        ids,
        newest_first(&earlier.iter().collect::<Vec<_>>()),
        "the pages she started"
    );
    let top = app
        .list_my_sign_ins(adele, request(String::new()))
        .await
        .expect("page 1 again");
    assert_eq!(
        top.sign_ins[0].id, newest.sign_in_id,
        "a fresh first page shows the new sign-in"
    );
}

#[tokio::test]
async fn the_status_filter_returns_only_that_status() {
    let app = spawn_app().await;
    let adele = Uuid::new_v4();
    let successes = [success(adele, at(0)), success(adele, at(20)), success(adele, at(40))];
    let failures = [
        failure(Some(adele), at(10), SignInFailureReason::InvalidPassword),
        failure(Some(adele), at(30), SignInFailureReason::Throttled),
    ];
    let mut all = successes.to_vec();
    all.extend(failures.iter().cloned());
    app.publish(&all).await;

    let (_, failed) = walk_pages(&app, adele, 0, SignInStatus::Failure).await;
    assert_eq!(failed, newest_first(&failures.iter().collect::<Vec<_>>()));

    let (_, succeeded) = walk_pages(&app, adele, 0, SignInStatus::Success).await;
    assert_eq!(succeeded, newest_first(&successes.iter().collect::<Vec<_>>()));

    // Filtering and paging together.
    let (sizes, failed_one_by_one) = walk_pages(&app, adele, 1, SignInStatus::Failure).await;
    assert_eq!(sizes, [1, 1]);
    assert_eq!(failed_one_by_one, failed);

    let (_, everything) = walk_pages(&app, adele, 0, SignInStatus::Unspecified).await;
    assert_eq!(everything, newest_first(&all.iter().collect::<Vec<_>>()));
}

#[tokio::test]
async fn bad_paging_arguments_are_invalid_with_field_violations() {
    let app = spawn_app().await;
    let adele = Uuid::new_v4();
    let cases = [
        (
            "a made-up page token",
            pb::ListMySignInsRequest {
                page_token: "not-a-token".into(),
                ..Default::default()
            },
            vec![("page_token", "is not a token from a previous page")],
        ),
        (
            "a token of another format",
            pb::ListMySignInsRequest {
                // base64url of "v2:1:2".
                page_token: "djI6MToy".into(),
                ..Default::default()
            },
            vec![("page_token", "is not a token from a previous page")],
        ),
        (
            "a negative page size",
            pb::ListMySignInsRequest {
                page_size: -1,
                ..Default::default()
            },
            vec![("page_size", "must not be negative")],
        ),
        (
            "both",
            pb::ListMySignInsRequest {
                page_size: -20,
                page_token: "%%%".into(),
                ..Default::default()
            },
            vec![
                ("page_size", "must not be negative"),
                ("page_token", "is not a token from a previous page"),
            ],
        ),
        (
            "an unknown status",
            pb::ListMySignInsRequest {
                status: 42,
                ..Default::default()
            },
            vec![("status", "must be SUCCESS, FAILURE or unspecified")],
        ),
    ];

    for (case, request, expected) in cases {
        let status = app.list_my_sign_ins(adele, request).await.expect_err(case);
        assert_eq!(status.code(), Code::InvalidArgument, "{case}: {status:?}");
        let violations: Vec<(String, String)> = platform::error::field_violations(&status)
            .into_iter()
            .map(|v| (v.field, v.description))
            .collect();
        let expected: Vec<(String, String)> = expected.iter().map(|(f, d)| ((*f).into(), (*d).into())).collect();
        assert_eq!(violations, expected, "{case}");
        let message: Vec<String> = expected.iter().map(|(f, d)| format!("{f}: {d}")).collect();
        assert_eq!(status.message(), message.join("; "), "{case}");
    }
}

#[tokio::test]
async fn another_persons_sign_in_is_not_found() {
    let app = spawn_app().await;
    let (adele, megan) = (Uuid::new_v4(), Uuid::new_v4());
    let adeles = success(adele, at(0));
    app.publish(std::slice::from_ref(&adeles)).await;

    let own = app
        .my_sign_in(&app.token_for(adele), &adeles.sign_in_id)
        .await
        .expect("adele reads her own sign-in");
    assert_eq!(own.id, adeles.sign_in_id);
    let status = app
        .my_sign_in(&app.token_for(megan), &adeles.sign_in_id)
        .await
        .expect_err("megan cannot read adele's sign-in");
    assert_eq!(status.code(), Code::NotFound, "not found, never forbidden: {status:?}");
}

#[tokio::test]
async fn an_organization_admin_sees_only_their_own_organizations_sign_ins() {
    let app = spawn_app().await;
    let (contoso, fabrikam) = (Uuid::new_v4().to_string(), Uuid::new_v4().to_string());
    let (adele, megan) = (Uuid::new_v4(), Uuid::new_v4());
    let at_contoso = SignInRecorded {
        organization_id: contoso.clone(),
        ..success(adele, at(0))
    };
    let at_fabrikam = SignInRecorded {
        organization_id: fabrikam.clone(),
        ..success(megan, at(10))
    };
    // Adele is a guest at fabrikam too: that sign-in is fabrikam's, not contoso's.
    let adele_at_fabrikam = SignInRecorded {
        organization_id: fabrikam.clone(),
        ..success(adele, at(20))
    };
    app.publish(&[at_contoso.clone(), at_fabrikam.clone(), adele_at_fabrikam.clone()])
        .await;
    let contoso_admin = app.admin_of(&contoso);
    let for_organization = |organization_id: &str, user_id: Option<Uuid>| pb::ListOrganizationSignInsRequest {
        organization_id: organization_id.into(),
        user_id: user_id.map(|u| u.to_string()).unwrap_or_default(),
        ..Default::default()
    };

    let ids = |page: pb::ListMySignInsResponse| page.sign_ins.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let own = app
        .organization_sign_ins(&contoso_admin, for_organization(&contoso, None))
        .await
        .expect("contoso's admin lists contoso's sign-ins");
    assert_eq!(ids(own), std::slice::from_ref(&at_contoso.sign_in_id));
    let adele_only = app
        .organization_sign_ins(&contoso_admin, for_organization(&contoso, Some(adele)))
        .await
        .expect("one member of contoso");
    assert_eq!(ids(adele_only), std::slice::from_ref(&at_contoso.sign_in_id));

    for user in [None, Some(megan), Some(adele)] {
        let status = app
            .organization_sign_ins(&contoso_admin, for_organization(&fabrikam, user))
            .await
            .expect_err("contoso's admin cannot read fabrikam's sign-ins");
        // Another organization is not found, as if it did not exist.
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert_eq!(status.message(), format!("organization {fabrikam} not found"));
    }
    let status = app
        .organization_sign_ins(&app.token_for(adele), for_organization(&contoso, None))
        .await
        .expect_err("a member who is not an admin");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = app
        .organization_sign_ins(&app.admin_without_mfa_of(&contoso), for_organization(&contoso, None))
        .await
        .expect_err("an admin without a recent multi-factor sign-in");
    assert!(platform::error::is_reauthentication_required(&status), "{status:?}");

    let fabrikam_admin = app.admin_of(&fabrikam);
    let theirs = app
        .organization_sign_ins(&fabrikam_admin, for_organization(&fabrikam, None))
        .await
        .expect("fabrikam's admin lists fabrikam's sign-ins");
    assert_eq!(
        ids(theirs),
        [adele_at_fabrikam.sign_in_id.clone(), at_fabrikam.sign_in_id.clone()]
    );
}
