//! Changing a person's sign-in identifiers (ChangeUserIdentifiers): an administrator of their
//! organization, after a recent multi-factor sign-in, gives them a new user principal name or
//! email address, or both. The new name signs in and the old one does not; sessions go on and
//! the profile shows the new values; `identifiers_changed` reaches NATS. A name another account
//! has, bad input and other organizations change nothing and publish nothing.

use std::time::Duration;

use myaccount_identity::domain::identifier_violation;
use myaccount_proto::events::v1::UserIdentifiersChanged;
use myaccount_proto::identity::v1 as pb;
use platform::events::{Stream, headers};
use platform::testing::eventually;
use prost::Message;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{STRONG_PASSWORD, TestApp, TestUser, bearer, spawn_app, user_request};

const IDENTIFIERS_CHANGED: &str = "myaccount.identity.v1.identifiers_changed";

impl TestApp {
    async fn change_identifiers(
        &self,
        token: &str,
        user_id: &str,
        new_user_principal_name: &str,
        new_email: &str,
    ) -> Result<pb::UserIdentifiers, tonic::Status> {
        let request = pb::ChangeUserIdentifiersRequest {
            user_id: user_id.into(),
            new_user_principal_name: new_user_principal_name.into(),
            new_email: new_email.into(),
        };
        Ok(self
            .client()
            .change_user_identifiers(bearer(request, token))
            .await?
            .into_inner())
    }

    async fn identifiers_events(&self) -> Vec<UserIdentifiersChanged> {
        self.outbox_payloads(IDENTIFIERS_CHANGED)
            .await
            .iter()
            .map(|p| UserIdentifiersChanged::decode(p.as_slice()).expect("a UserIdentifiersChanged payload"))
            .collect()
    }

    /// Both identifiers still what they were, and the person still signs in with the old name.
    async fn assert_unchanged(&self, user: &TestUser) {
        let tokens = self
            .sign_in(&user.upn, &user.password)
            .await
            .expect("the name still signs in");
        let profile = self.get_my_profile(&tokens.access_token).await.expect("the profile");
        assert_eq!(profile.user_principal_name, user.upn);
        assert_eq!(profile.mail, user.upn, "user_request sets the mail to the name");
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}.{}@contoso.example", &Uuid::new_v4().simple().to_string()[..8])
}

#[tokio::test]
async fn an_admin_renames_a_person_who_then_signs_in_with_the_new_name_only() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (user, session) = app.signed_in_user(&unique("before")).await;
    let new_name = unique("after");
    let new_mail = unique("mail");

    let changed = app
        .change_identifiers(&admin, &user.id.to_string(), &new_name.to_uppercase(), &new_mail)
        .await
        .expect("changed");
    assert_eq!(changed.user_id, user.id.to_string());
    assert_eq!(
        (changed.user_principal_name.as_str(), changed.email.as_str()),
        (new_name.as_str(), new_mail.as_str())
    );
    assert_eq!(changed.previous_user_principal_name, user.upn);
    assert_eq!(changed.previous_email, user.upn);
    assert!(changed.changed);

    // The old name no longer signs in; the new one does, and the session goes on.
    let old = app.sign_in(&user.upn, &user.password).await.unwrap_err();
    assert_eq!(old.code(), Code::Unauthenticated, "{old:?}");
    app.sign_in(&new_name, &user.password)
        .await
        .expect("the new name signs in");
    let profile = app
        .get_my_profile(&session.access_token)
        .await
        .expect("the same session");
    assert_eq!(profile.user_principal_name, new_name);
    assert_eq!(profile.mail, new_mail);
    app.refresh(&session.refresh_token)
        .await
        .expect("the session was not ended");

    // One event, in the outbox and then on NATS, about the person.
    let events = app.identifiers_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.user_id, user.id.to_string());
    assert_eq!(
        (
            event.old_user_principal_name.as_str(),
            event.new_user_principal_name.as_str()
        ),
        (user.upn.as_str(), new_name.as_str())
    );
    assert_eq!(
        (event.old_email.as_str(), event.new_email.as_str()),
        (user.upn.as_str(), new_mail.as_str())
    );
    assert_eq!(event.changed_by, "admin");
    assert!(Uuid::parse_str(&event.cause_id).is_ok(), "{event:?}");
    assert!(event.time.is_some());
    let wire_subject = app.naming.subject(IDENTIFIERS_CHANGED);
    eventually(Duration::from_secs(10), || async {
        app.stream_messages(Stream::Identity)
            .await
            .iter()
            .any(|m| m.subject.as_str() == wire_subject)
    })
    .await;
    let published: Vec<_> = app
        .stream_messages(Stream::Identity)
        .await
        .into_iter()
        .filter(|m| m.subject.as_str() == wire_subject)
        .collect();
    assert_eq!(published.len(), 1);
    let header = |name: &str| published[0].headers.get(name).map(|v| v.as_str().to_owned());
    assert_eq!(header(headers::TYPE).as_deref(), Some(IDENTIFIERS_CHANGED));
    assert_eq!(header(headers::SUBJECT), Some(user.id.to_string()));
    let on_the_wire = UserIdentifiersChanged::decode(published[0].payload.clone()).expect("the payload");
    assert_eq!(&on_the_wire, event);

    // The values it already has: nothing changes, nothing is published.
    let again = app
        .change_identifiers(&admin, &user.id.to_string(), &new_name, &new_mail)
        .await
        .expect("answered");
    assert!(!again.changed);
    assert_eq!(again.previous_user_principal_name, new_name);
    assert_eq!(app.identifiers_events().await.len(), 1);

    // The email alone: the name stays.
    let third_mail = unique("third");
    let email_only = app
        .change_identifiers(&admin, &user.id.to_string(), "", &third_mail)
        .await
        .expect("changed");
    assert_eq!(
        (email_only.user_principal_name.as_str(), email_only.email.as_str()),
        (new_name.as_str(), third_mail.as_str())
    );
    let events = app.identifiers_events().await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].old_user_principal_name, events[1].new_user_principal_name);
    assert_eq!(
        (events[1].old_email.as_str(), events[1].new_email.as_str()),
        (new_mail.as_str(), third_mail.as_str())
    );
    assert_ne!(events[0].cause_id, events[1].cause_id, "two acts");
}

#[tokio::test]
async fn a_name_another_account_has_is_already_exists_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let user = app.create_test_user(&unique("keeps")).await;
    let other = app.create_test_user(&unique("taken")).await;

    let taken = app
        .change_identifiers(
            &admin,
            &user.id.to_string(),
            &other.upn.to_uppercase(),
            &unique("new.mail"),
        )
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists, "{taken:?}");
    assert!(taken.message().contains(&other.upn), "{taken:?}");

    app.assert_unchanged(&user).await;
    app.assert_unchanged(&other).await;
    assert!(app.identifiers_events().await.is_empty());
}

#[tokio::test]
async fn bad_input_unknown_people_other_organizations_and_stale_sign_ins_change_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let user = app.create_test_user(&unique("untouched")).await;
    let id = user.id.to_string();

    // Every problem at once, each with its reason.
    let malformed = app
        .change_identifiers(
            &admin,
            "not-a-uuid",
            "no-at-sign",
            &format!("{}@contoso.example", "a".repeat(300)),
        )
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument, "{malformed:?}");
    let reasons: Vec<(String, String)> = platform::error::field_violations(&malformed)
        .into_iter()
        .map(|v| (v.field, v.reason))
        .collect();
    let pair = |field: &str, reason: &str| (field.to_owned(), reason.to_owned());
    assert_eq!(
        reasons,
        [
            pair("user_id", platform::error::violation_reason::INVALID_ID),
            pair("new_user_principal_name", identifier_violation::NOT_AN_ADDRESS),
            pair("new_email", platform::error::violation_reason::TOO_LONG),
        ]
    );
    let nothing = app.change_identifiers(&admin, &id, " ", "").await.unwrap_err();
    assert_eq!(nothing.code(), Code::InvalidArgument, "{nothing:?}");
    assert!(
        platform::error::field_violations(&nothing)
            .iter()
            .all(|v| v.reason == identifier_violation::NOTHING_TO_CHANGE),
        "{nothing:?}"
    );
    let unknown = app
        .change_identifiers(&admin, &Uuid::new_v4().to_string(), &unique("x"), "")
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");

    // A person without the admin scope.
    let (_, person) = app.signed_in_user(&unique("person")).await;
    let person_token = app.with_second_factor(&person.access_token).await;
    let not_admin = app
        .change_identifiers(&person_token, &id, &unique("x"), "")
        .await
        .unwrap_err();
    assert_eq!(not_admin.code(), Code::PermissionDenied, "{not_admin:?}");

    // An admin of another organization: as for nobody at all; a password-only sign-in is not
    // enough in their own.
    let mut request = user_request(&unique("admin.fabrikam"));
    request.roles = vec!["admin".into()];
    let other_admin = app.create_user(request).await.expect("another organization's admin");
    let password_only = app
        .sign_in(&other_admin.user_principal_name, STRONG_PASSWORD)
        .await
        .expect("signs in")
        .access_token;
    let other = app.with_second_factor(&password_only).await;
    let elsewhere = app.change_identifiers(&other, &id, &unique("x"), "").await.unwrap_err();
    assert_eq!(elsewhere.code(), Code::NotFound, "{elsewhere:?}");
    let member = {
        let mut r = user_request(&unique("member.fabrikam"));
        r.home_organization_id = other_admin.home_organization_id.clone();
        app.create_user(r).await.expect("a member")
    };
    let stale = app
        .change_identifiers(&password_only, &member.id, &unique("x"), "")
        .await
        .unwrap_err();
    assert!(platform::error::is_reauthentication_required(&stale), "{stale:?}");

    app.assert_unchanged(&user).await;
    app.sign_in(&member.user_principal_name, STRONG_PASSWORD)
        .await
        .expect("untouched");
    assert!(app.identifiers_events().await.is_empty());
}
