//! Tenant-bound administrators: an admin of one organization creates and deletes people of that
//! organization only (another's answer NOT_FOUND, as if they did not exist), and only after a
//! recent multi-factor sign-in.

use myaccount_proto::identity::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{STRONG_PASSWORD, TestApp, bearer, spawn_app, user_request};

impl TestApp {
    /// An admin of `organization_id`: their password-only token and one with a second factor.
    async fn admin_of(&self, organization_id: Uuid) -> (String, String) {
        let mut request = user_request(&format!(
            "admin.{}@contoso.example",
            &Uuid::new_v4().simple().to_string()[..8]
        ));
        request.home_organization_id = organization_id.to_string();
        request.roles = vec!["admin".into()];
        let admin = self.create_user(request).await.expect("an organization's admin");
        let password_only = self
            .sign_in(&admin.user_principal_name, STRONG_PASSWORD)
            .await
            .expect("the admin signs in")
            .access_token;
        let with_mfa = self.with_second_factor(&password_only).await;
        (password_only, with_mfa)
    }

    async fn delete(&self, token: &str, user_id: &str) -> Result<(), tonic::Status> {
        let request = pb::DeleteUserRequest {
            user_id: user_id.into(),
        };
        self.client().delete_user(bearer(request, token)).await.map(|_| ())
    }
}

#[tokio::test]
async fn an_admin_acts_in_their_own_organization_only() {
    let app = spawn_app().await;
    let contoso = Uuid::new_v4();
    let fabrikam = Uuid::new_v4();
    let (_, contoso_admin) = app.admin_of(contoso).await;

    // Creating a person in another organization: that organization is "not found".
    let mut in_fabrikam = user_request("lee.gu@fabrikam.example");
    in_fabrikam.home_organization_id = fabrikam.to_string();
    let refused = app.create_user_as(Some(&contoso_admin), in_fabrikam).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    assert_eq!(refused.message(), format!("organization {fabrikam} not found"));
    // Naming no organization means the admin's own.
    let mut unnamed = user_request("megan@contoso.example");
    unnamed.home_organization_id = String::new();
    let megan = app
        .create_user_as(Some(&contoso_admin), unnamed)
        .await
        .expect("created");
    assert_eq!(megan.home_organization_id, contoso.to_string());

    // Deleting another organization's person answers as for nobody at all.
    let mut request = user_request("alex@fabrikam.example");
    request.home_organization_id = fabrikam.to_string();
    let alex = app
        .create_user(request)
        .await
        .expect("created by the installation's operator");
    let refused = app.delete(&contoso_admin, &alex.id).await.unwrap_err();
    let nobody = app
        .delete(&contoso_admin, &Uuid::new_v4().to_string())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    assert_eq!(nobody.code(), Code::NotFound, "{nobody:?}");
    assert_eq!(refused.message(), format!("user {} not found", alex.id));
    app.sign_in(&alex.user_principal_name, STRONG_PASSWORD)
        .await
        .expect("Alex is untouched");

    // Their own organization's person they delete.
    app.delete(&contoso_admin, &megan.id).await.expect("deleted");
}

#[tokio::test]
async fn every_admin_action_needs_a_recent_multi_factor_sign_in() {
    let app = spawn_app().await;
    let contoso = Uuid::new_v4();
    let (password_only, _) = app.admin_of(contoso).await;
    let mut request = user_request("megan@contoso.example");
    request.home_organization_id = contoso.to_string();
    let refused = app
        .create_user_as(Some(&password_only), request.clone())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(platform::error::is_reauthentication_required(&refused), "{refused:?}");

    let megan = app.create_user(request).await.expect("created by the operator");
    let refused = app.delete(&password_only, &megan.id).await.unwrap_err();
    assert!(platform::error::is_reauthentication_required(&refused), "{refused:?}");
    app.sign_in(&megan.user_principal_name, STRONG_PASSWORD)
        .await
        .expect("Megan is still here");
}
