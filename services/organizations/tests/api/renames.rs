//! Identity's `identifiers_changed`: a person's new user principal name reaches organizations'
//! who-is-who, and their pending invitations follow them to it; an invitation to the old name
//! no longer finds them. Handled before the person's `user_created` (separate consumers), the
//! later name still wins.

use chrono::{Duration as Age, Utc};
use myaccount_proto::events::v1::{InvitationCreated, UserCreated, UserIdentifiersChanged};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

const DURABLE: &str = "organizations_identifiers_changed";

fn at(time: chrono::DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(myaccount_proto::timestamp(time))
}

impl TestApp {
    async fn renamed(&self, user_id: Uuid, old: &str, new: &str, time: chrono::DateTime<Utc>) {
        let id = self
            .publish(&UserIdentifiersChanged {
                user_id: user_id.to_string(),
                old_user_principal_name: old.into(),
                new_user_principal_name: new.into(),
                old_email: old.into(),
                new_email: new.into(),
                changed_by: "admin".into(),
                time: at(time),
                cause_id: Uuid::now_v7().to_string(),
            })
            .await;
        self.wait_until_processed(DURABLE, &id).await;
    }

    /// The invitee organizations found for an invitation to `upn` (empty: nobody known).
    async fn invitee_of(&self, organization_id: Uuid, upn: &str) -> String {
        let invitation = self.invite(organization_id, upn).await.expect("invited");
        self.outbox_events::<InvitationCreated>()
            .await
            .into_iter()
            .find(|e| e.invitation_id == invitation.id)
            .expect("its invitation_created")
            .user_id
    }
}

#[tokio::test]
async fn a_renamed_person_keeps_their_pending_invitations_and_is_found_by_the_new_name_only() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let adele = app.user_created("adele@contoso.example", Some(contoso)).await;
    let waiting = app.invite(fabrikam, "adele@contoso.example").await.expect("invited");

    app.renamed(
        adele.id,
        "adele@contoso.example",
        "adele.vance@contoso.example",
        Utc::now(),
    )
    .await;

    assert_eq!(
        app.known_user_principal_name(adele.id).await.as_deref(),
        Some("adele.vance@contoso.example")
    );
    let mine = app.my_invitations(&adele.token).await.expect("lists");
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0].id, waiting.id);
    assert_eq!(mine[0].user_principal_name, "adele.vance@contoso.example");
    app.accept(&adele.token, &waiting.id).await.expect("she answers it");

    let northwind = app.organization("Northwind").await;
    assert_eq!(
        app.invitee_of(northwind, "adele.vance@contoso.example").await,
        adele.id.to_string()
    );
    let tailspin = app.organization("Tailspin").await;
    assert_eq!(
        app.invitee_of(tailspin, "adele@contoso.example").await,
        "",
        "the old name is nobody's now"
    );
}

#[tokio::test]
async fn a_rename_handled_before_the_creation_keeps_the_new_name() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let megan = Uuid::now_v7();
    let created_at = Utc::now() - Age::seconds(60);
    // An invitation that waited for the name before the account was known here.
    let waiting = app.invite(fabrikam, "megan@contoso.example").await.expect("invited");

    app.renamed(
        megan,
        "megan@contoso.example",
        "megan.bowen@contoso.example",
        Utc::now(),
    )
    .await;
    let created = app
        .publish(&UserCreated {
            user_id: megan.to_string(),
            user_principal_name: "megan@contoso.example".into(),
            home_organization_id: contoso.to_string(),
            time: at(created_at),
            preferred_language: String::new(),
            ..Default::default()
        })
        .await;
    app.wait_until_processed("organizations_user_created", &created).await;

    assert_eq!(
        app.known_user_principal_name(megan).await.as_deref(),
        Some("megan.bowen@contoso.example"),
        "the older name does not come back"
    );
    let token = app.issuer.token_for(megan);
    let mine = app.my_invitations(&token).await.expect("lists");
    assert_eq!(
        mine.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        [waiting.id.as_str()]
    );
}
