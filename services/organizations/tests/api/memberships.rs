use myaccount_proto::events::v1::{MemberJoined, OrganizationMembershipKind, UserCreated};
use myaccount_proto::organizations::v1 as pb;
use uuid::Uuid;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_new_user_is_a_member_of_their_home_organization() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;

    let adele = app.user_created("Adele.Vance@contoso.example", Some(contoso)).await;

    let mine = app.my_organizations(&adele.token).await.expect("lists");
    assert_eq!(mine.organizations.len(), 1);
    let home = &mine.organizations[0];
    assert_eq!(home.organization_id, contoso.to_string());
    assert_eq!(home.kind, pb::MembershipKind::Home as i32);
    assert!(home.joined_at.is_some());
    assert_eq!(home.invited_by, "");
    let organization = home.organization.as_ref().expect("the organization is known");
    assert_eq!(organization.display_name, "Contoso");
    assert_eq!(organization.privacy_statement_url, "https://contoso.example/privacy");
    assert_eq!(organization.privacy_contact_email, "privacy@contoso.example");
    assert!(!home.can_leave);
    assert_eq!(
        home.cannot_leave_reason,
        "this is your home organization: your account belongs to it, so you cannot leave it"
    );
    assert_eq!(mine.pending_invitation_count, 0);
    assert_eq!(
        app.known_user_principal_name(adele.id).await.as_deref(),
        Some("adele.vance@contoso.example"),
        "remembered lower-case, as identity keeps it"
    );

    let joined = app.outbox_events::<MemberJoined>().await;
    assert_eq!(joined.len(), 1);
    assert_eq!(joined[0].user_id, adele.id.to_string());
    assert_eq!(joined[0].organization_id, contoso.to_string());
    assert_eq!(joined[0].kind, OrganizationMembershipKind::Home as i32);
    assert_eq!(joined[0].invitation_id, "");
}

#[tokio::test]
async fn a_home_organization_not_created_yet_shows_as_unknown_until_it_is() {
    let app = spawn_app().await;
    let not_yet = Uuid::new_v4();
    let adele = app.user_created("adele.vance@contoso.example", Some(not_yet)).await;

    let mine = app.my_organizations(&adele.token).await.expect("lists");
    assert_eq!(
        mine.organizations.len(),
        1,
        "the membership exists: identity's word is authoritative"
    );
    assert_eq!(mine.organizations[0].organization_id, not_yet.to_string());
    assert_eq!(mine.organizations[0].organization, None, "not known yet");

    app.create_organization_as(
        &app.admin_token(),
        &not_yet.to_string(),
        crate::helpers::settings("Contoso"),
    )
    .await
    .expect("the admin creates it with identity's id");

    let mine = app.my_organizations(&adele.token).await.expect("lists");
    let organization = mine.organizations[0].organization.as_ref().expect("known now");
    assert_eq!(organization.display_name, "Contoso");
}

#[tokio::test]
async fn user_created_is_applied_once_however_often_it_arrives() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    let event = UserCreated {
        user_id: adele.id.to_string(),
        user_principal_name: adele.upn.clone(),
        home_organization_id: contoso.to_string(),
        time: None,
        preferred_language: String::new(),
        ..Default::default()
    };

    // Identity replays the event (under another id, so JetStream does not drop it as a duplicate).
    let again = app.publish(&event).await;
    app.wait_until_processed("organizations_user_created", &again).await;

    assert_eq!(app.my_organization_ids(&adele).await, [contoso.to_string()]);
    assert_eq!(app.outbox_events::<MemberJoined>().await.len(), 1, "joined once");
}

#[tokio::test]
async fn my_organizations_list_home_first_then_guests_in_the_order_i_joined() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let northwind = app.organization("Northwind").await;
    let tailspin = app.organization("Tailspin").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;

    app.guest_of(&adele, northwind).await;
    app.guest_of(&adele, fabrikam).await;
    app.invite(tailspin, &adele.upn)
        .await
        .expect("invited, not yet answered");

    let mine = app.my_organizations(&adele.token).await.expect("lists");
    let ids: Vec<&str> = mine.organizations.iter().map(|o| o.organization_id.as_str()).collect();
    assert_eq!(ids, [contoso.to_string(), northwind.to_string(), fabrikam.to_string()]);
    let guest = &mine.organizations[1];
    assert_eq!(guest.kind, pb::MembershipKind::Guest as i32);
    assert!(guest.can_leave);
    assert_eq!(guest.cannot_leave_reason, "");
    assert!(!guest.invited_by.is_empty(), "the inviting admin");
    assert_eq!(mine.pending_invitation_count, 1, "tailspin waits for an answer");
}

#[tokio::test]
async fn an_account_without_a_home_organization_lists_nothing() {
    let app = spawn_app().await;
    let admin = app.user_created("admin@contoso.example", None).await;

    let mine = app.my_organizations(&admin.token).await.expect("lists");

    assert!(mine.organizations.is_empty());
    assert!(app.outbox_events::<MemberJoined>().await.is_empty());
}
