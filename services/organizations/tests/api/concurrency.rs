//! Every read path with more concurrent callers than pool connections: a request that held one
//! connection while it waited for another would stall until the acquire timeout and fail.

use platform::testing::{all_succeed_concurrently, contended_pool};

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn every_read_path_serves_more_callers_than_pool_connections() {
    let app = spawn_app_with(|settings| contended_pool(&mut settings.service.database)).await;
    let contoso = app.organization("Contoso").await;
    let fabrikam = app.organization("Fabrikam").await;
    let adele = app.user_created("adele.vance@contoso.example", Some(contoso)).await;
    app.invite(fabrikam, &adele.upn).await.expect("invited");
    let contoso_id = contoso.to_string();

    all_succeed_concurrently("GetOrganization", || app.get_organization(&contoso_id)).await;
    all_succeed_concurrently("ListMyOrganizations", || app.my_organizations(&adele.token)).await;
    all_succeed_concurrently("ListMyInvitations", || app.my_invitations(&adele.token)).await;
    all_succeed_concurrently("ExportMyData", || app.export(&adele.token)).await;

    // The answers are the person's, not empty ones.
    let mine = app.my_organizations(&adele.token).await.expect("my organizations");
    assert_eq!(mine.organizations.len(), 1, "{mine:?}");
    assert_eq!(mine.pending_invitation_count, 1, "{mine:?}");
}
