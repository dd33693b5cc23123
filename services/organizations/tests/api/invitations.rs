use myaccount_proto::events::v1::{InvitationCreated, InvitationDeclined, MemberJoined, OrganizationMembershipKind};
use myaccount_proto::organizations::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{assert_status, spawn_app, violated_fields};

#[tokio::test]
async fn an_invited_person_sees_the_invitation_and_accepts_it() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;

    let invitation = app
        .invite(fabrikam, "  Adele.Vance@Contoso.Example ")
        .await
        .expect("invited");

    assert_eq!(invitation.user_principal_name, "adele.vance@contoso.example");
    assert_eq!(invitation.organization_id, fabrikam.to_string());
    assert_eq!(invitation.status, pb::InvitationStatus::Pending as i32);
    assert_eq!(invitation.responded_at, None);
    let created = app.outbox_events::<InvitationCreated>().await;
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0].user_id,
        adele.id.to_string(),
        "the invitee, whose account is known"
    );
    assert_eq!(created[0].invitation_id, invitation.id);

    let waiting = app.my_invitations(&adele.token).await.expect("lists my invitations");
    assert_eq!(waiting, std::slice::from_ref(&invitation));
    let organization = waiting[0].organization.as_ref().expect("with the organization");
    assert_eq!(organization.display_name, "Fabrikam");
    assert_eq!(organization.privacy_statement_url, "https://fabrikam.example/privacy");

    let joined = app.accept(&adele.token, &invitation.id).await.expect("accepted");

    assert_eq!(joined.organization_id, fabrikam.to_string());
    assert_eq!(joined.kind, pb::MembershipKind::Guest as i32);
    assert_eq!(joined.invited_by, invitation.invited_by);
    assert!(joined.can_leave);
    assert_eq!(
        app.my_organization_ids(&adele).await,
        [contoso.to_string(), fabrikam.to_string()]
    );
    assert!(
        app.my_invitations(&adele.token).await.expect("lists").is_empty(),
        "answered"
    );
    let guest_joins: Vec<MemberJoined> = app
        .outbox_events::<MemberJoined>()
        .await
        .into_iter()
        .filter(|e| e.kind == OrganizationMembershipKind::Guest as i32)
        .collect();
    assert_eq!(guest_joins.len(), 1);
    assert_eq!(guest_joins[0].organization_id, fabrikam.to_string());
    assert_eq!(guest_joins[0].invitation_id, invitation.id);

    let twice = app
        .accept(&adele.token, &invitation.id)
        .await
        .expect_err("already answered");
    assert_status(
        &twice,
        Code::FailedPrecondition,
        &format!("invitation {} was already accepted", invitation.id),
    );
}

#[tokio::test]
async fn a_declined_invitation_makes_nobody_a_member() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let northwind = app.organization("Northwind").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    let invitation = app.invite(northwind, &adele.upn).await.expect("invited");

    let declined = app.decline(&adele.token, &invitation.id).await.expect("declined");

    assert_eq!(declined.status, pb::InvitationStatus::Declined as i32);
    assert!(declined.responded_at.is_some());
    assert_eq!(app.my_organization_ids(&adele).await, [contoso.to_string()]);
    assert!(app.my_invitations(&adele.token).await.expect("lists").is_empty());
    let events = app.outbox_events::<InvitationDeclined>().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].user_id, adele.id.to_string());
    assert_eq!(events[0].invitation_id, invitation.id);

    let accept_now = app.accept(&adele.token, &invitation.id).await.expect_err("too late");
    assert_status(
        &accept_now,
        Code::FailedPrecondition,
        &format!("invitation {} was already declined", invitation.id),
    );
    assert_eq!(
        app.my_organization_ids(&adele).await,
        [contoso.to_string()],
        "still not a member"
    );

    // The admin may ask again.
    app.invite(northwind, &adele.upn).await.expect("a new invitation");
}

#[tokio::test]
async fn nobody_can_answer_an_invitation_addressed_to_someone_else() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    let megan = app.user_created("megan.bowen@contoso.example", Some(contoso)).await;
    let invitation = app.invite(fabrikam, &adele.upn).await.expect("invited");
    let before = app.row_counts().await;

    let accept = app.accept(&megan.token, &invitation.id).await.expect_err("not hers");
    let decline = app.decline(&megan.token, &invitation.id).await.expect_err("not hers");
    let unknown_id = Uuid::new_v4().to_string();
    let unknown = app
        .accept(&megan.token, &unknown_id)
        .await
        .expect_err("no such invitation");

    // Exactly the answer for an invitation that does not exist: its existence is not revealed.
    assert_status(
        &accept,
        Code::NotFound,
        &format!("invitation {} not found", invitation.id),
    );
    assert_status(
        &decline,
        Code::NotFound,
        &format!("invitation {} not found", invitation.id),
    );
    assert_status(&unknown, Code::NotFound, &format!("invitation {unknown_id} not found"));
    assert!(app.my_invitations(&megan.token).await.expect("lists").is_empty());
    assert_eq!(app.my_organization_ids(&megan).await, [contoso.to_string()]);
    assert_eq!(app.row_counts().await, before, "nothing changed");
    assert_eq!(
        app.my_invitations(&adele.token).await.expect("lists").len(),
        1,
        "still waiting for adele"
    );

    let malformed = app.accept(&megan.token, "12").await.expect_err("not an id");
    assert_eq!(violated_fields(&malformed), ["invitation_id"]);
}

#[tokio::test]
async fn a_person_can_be_invited_before_their_account_is_known_here() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;

    let invitation = app
        .invite(fabrikam, "alex.wilber@contoso.example")
        .await
        .expect("invited");
    let created = app.outbox_events::<InvitationCreated>().await;
    assert_eq!(created[0].user_id, "", "no account with that name is known yet");

    let alex = app.user_created("alex.wilber@contoso.example", Some(contoso)).await;
    let waiting = app.my_invitations(&alex.token).await.expect("lists");
    assert_eq!(
        waiting.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        [invitation.id.as_str()]
    );
    app.accept(&alex.token, &invitation.id).await.expect("accepted");
    assert_eq!(
        app.my_organization_ids(&alex).await,
        [contoso.to_string(), fabrikam.to_string()]
    );
}

#[tokio::test]
async fn invitations_that_cannot_be_made_are_refused_precisely() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    app.invite(fabrikam, &adele.upn).await.expect("the first invitation");
    let before = app.row_counts().await;

    let member = app.invite(contoso, &adele.upn).await.expect_err("already a member");
    assert_status(
        &member,
        Code::AlreadyExists,
        &format!("adele.vance@contoso.example is already a member of organization {contoso}"),
    );
    let pending = app
        .invite(fabrikam, "ADELE.VANCE@contoso.example")
        .await
        .expect_err("already invited");
    assert_status(
        &pending,
        Code::AlreadyExists,
        &format!("adele.vance@contoso.example already has a pending invitation to organization {fabrikam}"),
    );
    let missing = Uuid::new_v4();
    let unknown = app.invite(missing, &adele.upn).await.expect_err("no such organization");
    assert_status(&unknown, Code::NotFound, &format!("organization {missing} not found"));
    let invalid = app
        .invite_as(&app.admin_token(), "fabrikam", "adele at contoso")
        .await
        .expect_err("invalid");
    assert_eq!(violated_fields(&invalid), ["organization_id", "user_principal_name"]);

    assert_eq!(app.row_counts().await, before, "nothing changed");
}
