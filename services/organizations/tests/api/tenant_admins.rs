//! Tenant-bound administrators: an admin of one organization reads and changes that
//! organization only; another organization answers NOT_FOUND, exactly as an unknown one does,
//! and nothing changes. Every admin action needs a recent multi-factor sign-in.

use myaccount_proto::organizations::v1 as pb;
use tonic::{Code, Status};
use uuid::Uuid;

use crate::helpers::{TestApp, bearer, settings, spawn_app};

impl TestApp {
    /// Every admin operation on `organization_id` with `token`: each one's answer.
    async fn every_admin_operation(
        &self,
        token: &str,
        organization_id: &str,
        member: &str,
    ) -> Vec<(&'static str, Status)> {
        let mut c = self.client();
        let mut refusals = Vec::new();
        if let Err(s) = c
            .get_organization(bearer(
                pb::GetOrganizationRequest {
                    organization_id: organization_id.into(),
                },
                token,
            ))
            .await
        {
            refusals.push(("GetOrganization", s));
        }
        if let Err(s) = c
            .update_organization(bearer(
                pb::UpdateOrganizationRequest {
                    organization_id: organization_id.into(),
                    settings: Some(pb::OrganizationSettings {
                        mfa_required: false,
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["mfa_required".into()],
                    }),
                },
                token,
            ))
            .await
        {
            refusals.push(("UpdateOrganization", s));
        }
        if let Err(s) = self.invite_as(token, organization_id, "mallory@contoso.example").await {
            refusals.push(("InviteUser", s));
        }
        if let Err(s) = self.remove_member(token, organization_id, member).await {
            refusals.push(("RemoveMember", s));
        }
        if let Err(s) = self
            .create_organization_as(token, &Uuid::new_v4().to_string(), settings("Elsewhere"))
            .await
        {
            refusals.push(("CreateOrganization", s));
        }
        refusals
    }
}

#[tokio::test]
async fn an_admin_of_one_organization_finds_no_other() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let mut strict = settings("Fabrikam");
    strict.mfa_required = true;
    let fabrikam: Uuid = app
        .create_organization(strict)
        .await
        .expect("created")
        .id
        .parse()
        .expect("uuid");
    let lee = app.user_created("lee@fabrikam.example", Some(fabrikam)).await;
    app.wait_until_known(lee.id).await;
    let contoso_admin = app.issuer.admin_token_in(&contoso.to_string());

    let refusals = app
        .every_admin_operation(&contoso_admin, &fabrikam.to_string(), &lee.id.to_string())
        .await;
    let names: Vec<&str> = refusals.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        [
            "GetOrganization",
            "UpdateOrganization",
            "InviteUser",
            "RemoveMember",
            "CreateOrganization"
        ]
    );
    for (name, status) in &refusals {
        assert_eq!(status.code(), Code::NotFound, "{name}: {status:?}");
    }
    // The same answer as for an organization that does not exist.
    let unknown = Uuid::new_v4().to_string();
    let get = |s: &Status| s.message().replace(&fabrikam.to_string(), "X").replace(&unknown, "X");
    let for_unknown = app
        .every_admin_operation(&contoso_admin, &unknown, &lee.id.to_string())
        .await;
    assert_eq!(get(&refusals[0].1), get(&for_unknown[0].1));
    // Nothing changed: Fabrikam still requires MFA and Lee is still its member.
    let fabrikam_now = app
        .get_organization(&fabrikam.to_string())
        .await
        .expect("read by the operator");
    assert!(fabrikam_now.mfa_required);
    assert_eq!(app.my_organization_ids(&lee).await, [fabrikam.to_string()]);

    // In their own organization, the admin acts.
    app.invite_as(&contoso_admin, &contoso.to_string(), "lee@fabrikam.example")
        .await
        .expect("Contoso's admin invites to Contoso");
}

#[tokio::test]
async fn every_admin_action_needs_a_recent_multi_factor_sign_in() {
    let app = spawn_app().await;
    let contoso = app.organization("Contoso").await;
    let adele = app.user_created("adele@contoso.example", Some(contoso)).await;
    app.wait_until_known(adele.id).await;
    let password_only = app.issuer.admin_token_without_mfa_in(&contoso.to_string());
    let refusals = app
        .every_admin_operation(&password_only, &contoso.to_string(), &adele.id.to_string())
        .await;
    // Creating another organization is refused before the step-up (its own organization only);
    // the rest ask for a multi-factor sign-in.
    assert_eq!(refusals.len(), 5);
    for (name, status) in refusals.iter().filter(|(name, _)| *name != "CreateOrganization") {
        assert_eq!(status.code(), Code::PermissionDenied, "{name}: {status:?}");
        assert!(
            platform::error::is_reauthentication_required(status),
            "{name}: {status:?}"
        );
    }
}
