//! `myaccount demo`: a realistic tenant to click through, seeded through the public gRPC API
//! with the bootstrap admin. Running it again changes nothing.

use anyhow::{Context, bail};
use myaccount_proto::identity::v1 as pb;
use myaccount_proto::identity::v1::identity_service_client::IdentityServiceClient;
use platform::config::Env;
use platform::tls::ClientTls;
use platform::workload::{GATEWAY, IDENTITY, SignedAsWorkload, WorkloadKey};
use tonic::Code;
use tonic::transport::Channel;

/// Development credentials of the bootstrap admin that `myaccount up` creates; override with
/// IDENTITY_BOOTSTRAP_ADMIN_UPN / IDENTITY_BOOTSTRAP_ADMIN_PASSWORD.
pub const DEFAULT_ADMIN_UPN: &str = "admin@contoso.example";
pub const DEFAULT_ADMIN_PASSWORD: &str = "demo admin harbour lantern";

/// The demo tenant, Contoso.
pub const CONTOSO_ORGANIZATION_ID: &str = "5f0c1a7e-3b6d-4c8e-9a21-7d4e2b9c0f11";

struct DemoUser {
    upn: &'static str,
    password: &'static str,
    display_name: &'static str,
    given_name: &'static str,
    surname: &'static str,
    job_title: &'static str,
    department: &'static str,
    office: &'static str,
    mobile: &'static str,
}

const USERS: [DemoUser; 3] = [
    DemoUser {
        upn: "adele.vance@contoso.example",
        password: "velvet orbit canyon 42",
        display_name: "Adele Vance",
        given_name: "Adele",
        surname: "Vance",
        job_title: "Retail Manager",
        department: "Retail",
        office: "18/2111",
        mobile: "+1 425 555 0109",
    },
    DemoUser {
        upn: "megan.bowen@contoso.example",
        password: "quiet maple rocket 17",
        display_name: "Megan Bowen",
        given_name: "Megan",
        surname: "Bowen",
        job_title: "Marketing Manager",
        department: "Marketing",
        office: "12/1110",
        mobile: "+1 412 555 0109",
    },
    DemoUser {
        upn: "alex.wilber@contoso.example",
        password: "copper tundra violin 88",
        display_name: "Alex Wilber",
        given_name: "Alex",
        surname: "Wilber",
        job_title: "Marketing Assistant",
        department: "Marketing",
        office: "131/1104",
        mobile: "+1 858 555 0110",
    },
];

/// The demo person whose pages `myaccount bench pages` reads: one password, no second factor.
pub const PAGES_BENCH_USER: (&str, &str) = (USERS[0].upn, USERS[0].password);

pub struct DemoTarget {
    pub identity_url: String,
    pub devices_url: String,
    pub organizations_url: String,
    pub security_info_url: String,
    pub admin_upn: String,
    pub admin_password: String,
    /// What `https://` addresses are verified with (`GRPC_TLS_CA_FILE`).
    pub tls: ClientTls,
    /// The gateway's workload key: every service takes a person's calls from the gateway
    /// alone, and the demo calls them as the gateway would (`GATEWAY_WORKLOAD_KEY_FILE`).
    pub gateway_key: Option<WorkloadKey>,
}

impl DemoTarget {
    pub fn from_env(env: &Env) -> anyhow::Result<Self> {
        Ok(Self {
            identity_url: env.or("IDENTITY_URL", "http://127.0.0.1:50051".to_owned())?,
            devices_url: env.or("DEVICES_URL", "http://127.0.0.1:50053".to_owned())?,
            organizations_url: env.or("ORGANIZATIONS_URL", "http://127.0.0.1:50054".to_owned())?,
            security_info_url: env.or("SECURITYINFO_URL", "http://127.0.0.1:50052".to_owned())?,
            admin_upn: env.or("IDENTITY_BOOTSTRAP_ADMIN_UPN", DEFAULT_ADMIN_UPN.to_owned())?,
            admin_password: env.or("IDENTITY_BOOTSTRAP_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD.to_owned())?,
            tls: ClientTls::from_env(env)?,
            gateway_key: WorkloadKey::from_env(env, "GATEWAY", GATEWAY)?,
        })
    }

    /// A channel to the service `audience` at `url` whose calls carry the gateway's workload
    /// token, as the gateway's do.
    pub async fn connect_as_gateway(
        &self,
        url: &str,
        variable: &str,
        audience: &str,
    ) -> anyhow::Result<SignedAsWorkload<Channel>> {
        let Some(gateway_key) = self.gateway_key.clone() else {
            bail!(
                "GATEWAY_WORKLOAD_KEY_FILE is not set: the services take a person's calls from the gateway alone, and the demo makes them with the gateway's key (`myaccount workload-keys` writes it)"
            );
        };
        let channel = self
            .tls
            .endpoint(url, variable)?
            .connect()
            .await
            .with_context(|| format!("connecting to {audience} at {url}"))?;
        Ok(SignedAsWorkload::new(
            channel,
            std::sync::Arc::new(gateway_key),
            audience,
        ))
    }
}

pub async fn seed(target: &DemoTarget) -> anyhow::Result<()> {
    let mut identity = IdentityServiceClient::new(
        target
            .connect_as_gateway(&target.identity_url, "IDENTITY_URL", IDENTITY)
            .await?,
    );
    // Admin actions need a recent multi-factor sign-in: the first run gives the admin an
    // authenticator app; later runs find the demo seeded.
    let Some((admin_token, admin_app)) = security_info::admin_token(target, &mut identity)
        .await
        .context("signing in as the bootstrap admin")?
    else {
        println!("The demo was seeded before (the bootstrap admin has a second factor): nothing to do.");
        return Ok(());
    };
    let organizations = organizations::connect(target).await?;
    organizations::seed_tenants(&organizations, &admin_token).await?;

    let mut created = 0;
    for user in &USERS {
        let request = pb::CreateUserRequest {
            user_principal_name: user.upn.into(),
            password: user.password.into(),
            display_name: user.display_name.into(),
            given_name: user.given_name.into(),
            surname: user.surname.into(),
            job_title: user.job_title.into(),
            department: user.department.into(),
            office_location: user.office.into(),
            mobile_phone: user.mobile.into(),
            business_phone: String::new(),
            mail: user.upn.into(),
            preferred_language: "en-US".into(),
            home_organization_id: CONTOSO_ORGANIZATION_ID.into(),
            roles: vec![],
        };
        match identity
            .create_user(platform::auth::bearer_request(request, &admin_token)?)
            .await
        {
            Ok(_) => {
                created += 1;
                // A little history so "My sign-ins" is not empty: one typo, then success, from
                // home.
                let _ = sign_in(&mut identity, user.upn, "not my password at all", HOME_ADDRESS).await;
                sign_in(&mut identity, user.upn, user.password, HOME_ADDRESS).await?;
                if user.upn == USERS[0].upn {
                    // Someone abroad with Adele's password, moments after she signed in at home:
                    // a new country and impossible travel for the risky view; and a guess from a
                    // third country that failed.
                    let _ = sign_in(&mut identity, user.upn, "Summer2026!", FAILED_GUESS_ADDRESS).await;
                    let _ = sign_in(&mut identity, user.upn, user.password, FAR_AWAY_ADDRESS).await;
                }
            }
            Err(s) if s.code() == Code::AlreadyExists => {}
            Err(s) => bail!("creating {}: {}", user.upn, s.message()),
        }
    }

    organizations::seed_guest_memberships(&organizations, &mut identity, &admin_token).await?;
    devices::seed(target, &mut identity).await?;
    let totp = security_info::seed(target, &mut identity).await?;
    println!("Demo tenant Contoso ({created} users created now; already present ones left as they were).");
    println!("Sign in at the gateway with any of these:");
    for user in &USERS {
        println!("  {:<32} {}", user.upn, user.password);
    }
    println!("  {:<32} {}  (admin)", target.admin_upn, target.admin_password);
    security_info::print(&totp);
    if let Some(app) = admin_app {
        println!(
            "The bootstrap admin signs in with a second factor too (admin actions need one): add this key to an authenticator app"
        );
        println!("  secret {}", app.secret);
        println!("  {}", app.otpauth_uri);
    }
    Ok(())
}

mod security_info;

/// Where the demo's people sign in from: public addresses that DB-IP's City Lite (what
/// `run.sh` downloads) places in Mountain View, São Paulo and Lagos. Without a GeoIP database
/// they show as addresses only.
const HOME_ADDRESS: &str = "8.8.8.8";
const FAR_AWAY_ADDRESS: &str = "177.55.160.1";
const FAILED_GUESS_ADDRESS: &str = "41.203.64.1";

/// The access token, or `None` when the credentials are refused.
async fn sign_in(
    identity: &mut IdentityServiceClient<SignedAsWorkload<Channel>>,
    upn: &str,
    password: &str,
    ip_address: &str,
) -> anyhow::Result<Option<String>> {
    let request = pb::SignInRequest {
        username: upn.into(),
        password: password.into(),
        client: Some(pb::ClientContext {
            ip_address: ip_address.into(),
            user_agent: "myaccount-demo".into(),
            app_id: "myaccount-demo".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    match identity.sign_in(request).await {
        Ok(r) => match r.into_inner().result {
            Some(pb::sign_in_response::Result::Tokens(t)) => Ok(Some(t.access_token)),
            // A second factor or a new password is due: not a token this seeding can use.
            Some(
                pb::sign_in_response::Result::MfaRequired(_)
                | pb::sign_in_response::Result::PasswordChangeRequired(_)
                | pb::sign_in_response::Result::MfaRegistrationRequired(_),
            )
            | None => Ok(None),
        },
        Err(s) if s.code() == Code::Unauthenticated => Ok(None),
        Err(s) => bail!("sign-in of {upn}: {}", s.message()),
    }
}

/// The demo's organizations: Contoso (everyone's home) and two partners of Contoso that have
/// invited Adele: she is a guest of Fabrikam and has yet to answer Northwind.
mod organizations {
    use std::time::Duration;

    use anyhow::{Context, bail};
    use myaccount_proto::identity::v1::identity_service_client::IdentityServiceClient;
    use myaccount_proto::organizations::v1 as pb;
    use myaccount_proto::organizations::v1::organizations_service_client::OrganizationsServiceClient;
    use platform::workload::{ORGANIZATIONS, SignedAsWorkload};
    use tonic::Code;
    use tonic::transport::Channel;

    use super::{CONTOSO_ORGANIZATION_ID, DemoTarget, USERS};

    pub const FABRIKAM_ORGANIZATION_ID: &str = "8a3d5c21-6f4e-4b7a-b1c9-2e8f0d4a6b13";
    pub const NORTHWIND_ORGANIZATION_ID: &str = "c4e7a9b2-1d3f-4e6a-8b5c-9f0e2d7a1c35";

    type Client = OrganizationsServiceClient<SignedAsWorkload<Channel>>;

    pub async fn connect(target: &DemoTarget) -> anyhow::Result<Client> {
        let channel = target
            .connect_as_gateway(&target.organizations_url, "ORGANIZATIONS_URL", ORGANIZATIONS)
            .await?;
        Ok(OrganizationsServiceClient::new(channel))
    }

    use platform::auth::bearer_request as bearer;

    /// Each tenant's terms of use: where they are published under its domain, and the version.
    fn terms_of_use(id: &str, domain: &str) -> (String, String) {
        let (path, version) = match id {
            FABRIKAM_ORGANIZATION_ID => ("legal/terms", "4"),
            NORTHWIND_ORGANIZATION_ID => ("terms-of-use", "2026-09"),
            _ => ("legal/terms-of-use", "2026-11"),
        };
        (format!("https://www.{domain}/{path}"), version.to_owned())
    }

    /// Creates Contoso (with the id identity's users already name) and the partner organizations,
    /// each with terms of use.
    pub async fn seed_tenants(client: &Client, admin_token: &str) -> anyhow::Result<()> {
        // Contoso lets its members delete their own account, so the demo shows that page whole.
        let tenants = [
            (CONTOSO_ORGANIZATION_ID, "Contoso", "contoso.example", false, 30, true),
            (
                FABRIKAM_ORGANIZATION_ID,
                "Fabrikam",
                "fabrikam.example",
                true,
                90,
                false,
            ),
            (
                NORTHWIND_ORGANIZATION_ID,
                "Northwind Traders",
                "northwind.example",
                false,
                30,
                false,
            ),
        ];
        for (id, name, domain, mfa_required, retention, allow_self_deletion) in tenants {
            let (terms_of_use_url, terms_of_use_version) = terms_of_use(id, domain);
            let request = pb::CreateOrganizationRequest {
                organization_id: id.into(),
                settings: Some(pb::OrganizationSettings {
                    display_name: name.into(),
                    verified_domains: vec![domain.into()],
                    privacy_statement_url: format!("https://www.{domain}/privacy"),
                    privacy_contact_email: format!("privacy@{domain}"),
                    technical_contact_email: format!("it-support@{domain}"),
                    mfa_required,
                    sign_in_retention_days: Some(retention),
                    allow_self_deletion,
                    terms_of_use_url,
                    terms_of_use_version,
                }),
            };
            match client.clone().create_organization(bearer(request, admin_token)?).await {
                Ok(_) => {}
                Err(s) if s.code() == Code::AlreadyExists => {}
                Err(s) => bail!("creating organization {name}: {}", s.message()),
            }
        }
        Ok(())
    }

    /// Adele is invited to Fabrikam and Northwind; she accepts Fabrikam's invitation and leaves
    /// Northwind's pending. Invitations already made or answered are left as they are. She has
    /// accepted Fabrikam's terms of use and not yet Contoso's, so the Privacy page shows both.
    pub async fn seed_guest_memberships(
        client: &Client,
        identity: &mut IdentityServiceClient<SignedAsWorkload<Channel>>,
        admin_token: &str,
    ) -> anyhow::Result<()> {
        let adele = &USERS[0];
        for organization_id in [FABRIKAM_ORGANIZATION_ID, NORTHWIND_ORGANIZATION_ID] {
            let request = pb::InviteUserRequest {
                organization_id: organization_id.into(),
                user_principal_name: adele.upn.into(),
            };
            match client.clone().invite_user(bearer(request, admin_token)?).await {
                // Already a member, or already invited: nothing to do.
                Ok(_) => {}
                Err(s) if s.code() == Code::AlreadyExists => {}
                Err(s) => bail!("inviting {}: {}", adele.upn, s.message()),
            }
        }
        let token = super::sign_in(identity, adele.upn, adele.password, super::HOME_ADDRESS)
            .await?
            .ok_or_else(|| anyhow::anyhow!("{} could not sign in", adele.upn))?;
        // Organizations learns of new accounts from identity's events: wait for Adele's home.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        let mine = loop {
            let mine = client
                .clone()
                .list_my_organizations(bearer(pb::ListMyOrganizationsRequest {}, &token)?)
                .await?
                .into_inner();
            if !mine.organizations.is_empty() {
                break mine;
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "organizations has not heard of {} yet; run the demo again shortly",
                    adele.upn
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        if !mine
            .organizations
            .iter()
            .any(|o| o.organization_id == FABRIKAM_ORGANIZATION_ID)
        {
            accept_invitation_to(client, &token, FABRIKAM_ORGANIZATION_ID).await?;
        }
        let (_, version) = terms_of_use(FABRIKAM_ORGANIZATION_ID, "fabrikam.example");
        let request = pb::AcceptMyOrganizationTermsRequest {
            organization_id: FABRIKAM_ORGANIZATION_ID.into(),
            version,
        };
        // Accepting the version already accepted changes nothing, so a second run is harmless.
        client
            .clone()
            .accept_my_organization_terms(bearer(request, &token)?)
            .await
            .context("accepting Fabrikam's terms of use")?;
        Ok(())
    }

    async fn accept_invitation_to(client: &Client, token: &str, organization_id: &str) -> anyhow::Result<()> {
        let invitations = client
            .clone()
            .list_my_invitations(bearer(pb::ListMyInvitationsRequest {}, token)?)
            .await?
            .into_inner()
            .invitations;
        if let Some(invitation) = invitations.iter().find(|i| i.organization_id == organization_id) {
            let request = pb::AcceptInvitationRequest {
                invitation_id: invitation.id.clone(),
            };
            client.clone().accept_invitation(bearer(request, token)?).await?;
        }
        Ok(())
    }
}

/// Adele's devices: a laptop (with a BitLocker recovery key) and a phone, each with a session
/// signed in from it, so "Devices" shows both devices with their sessions. Seeded once: if Adele
/// has devices already, nothing is added.
mod devices {
    use anyhow::{Context, bail};
    use myaccount_proto::devices::v1 as pb;
    use myaccount_proto::devices::v1::devices_service_client::DevicesServiceClient;
    use myaccount_proto::identity::v1 as identity;
    use myaccount_proto::identity::v1::identity_service_client::IdentityServiceClient;
    use platform::workload::{DEVICES, SignedAsWorkload};
    use tonic::transport::Channel;

    use super::{DemoTarget, USERS};

    const EDGE_ON_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
         Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";
    const SAFARI_ON_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
         (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
    /// A made-up BitLocker recovery password (every block a multiple of 11).
    const LAPTOP_RECOVERY_KEY: &str = "428010-113674-605572-231231-019910-357412-550066-104049";

    use platform::auth::bearer_request as bearer;

    /// Signs Adele in as a browser on a device would; returns the access token.
    async fn sign_in_on(
        identity: &mut IdentityServiceClient<SignedAsWorkload<Channel>>,
        device_id: &str,
        user_agent: &str,
    ) -> anyhow::Result<String> {
        let adele = &USERS[0];
        let request = identity::SignInRequest {
            username: adele.upn.into(),
            password: adele.password.into(),
            client: Some(identity::ClientContext {
                ip_address: super::HOME_ADDRESS.into(),
                user_agent: user_agent.into(),
                device_id: device_id.into(),
                app_id: "myaccount-demo".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        match identity.sign_in(request).await?.into_inner().result {
            Some(identity::sign_in_response::Result::Tokens(t)) => Ok(t.access_token),
            _ => bail!("signing in {} gave no tokens (a second factor is due?)", adele.upn),
        }
    }

    pub async fn seed(
        target: &DemoTarget,
        identity: &mut IdentityServiceClient<SignedAsWorkload<Channel>>,
    ) -> anyhow::Result<()> {
        let channel = target
            .connect_as_gateway(&target.devices_url, "DEVICES_URL", DEVICES)
            .await?;
        let mut devices = DevicesServiceClient::new(channel);
        let token = sign_in_on(identity, "", EDGE_ON_WINDOWS).await?;
        let existing = devices
            .list_my_devices(bearer(pb::ListMyDevicesRequest {}, &token)?)
            .await
            .context("listing Adele's devices")?
            .into_inner()
            .devices;
        if !existing.is_empty() {
            return Ok(());
        }
        let laptop = devices
            .register_device(bearer(
                pb::RegisterDeviceRequest {
                    display_name: "Adele's Surface Laptop".into(),
                    manufacturer: "Microsoft".into(),
                    model: "Surface Laptop 7".into(),
                    operating_system: "Windows".into(),
                    operating_system_version: "11 24H2".into(),
                    device_type: pb::DeviceType::Laptop.into(),
                    ..Default::default()
                },
                &token,
            )?)
            .await
            .context("registering Adele's laptop")?
            .into_inner();
        let phone = devices
            .register_device(bearer(
                pb::RegisterDeviceRequest {
                    display_name: "Adele's iPhone".into(),
                    manufacturer: "Apple".into(),
                    model: "iPhone 15".into(),
                    operating_system: "iOS".into(),
                    operating_system_version: "17.1".into(),
                    device_type: pb::DeviceType::Phone.into(),
                    ..Default::default()
                },
                &token,
            )?)
            .await
            .context("registering Adele's phone")?
            .into_inner();
        devices
            .add_recovery_key(bearer(
                pb::AddRecoveryKeyRequest {
                    device_id: laptop.id.clone(),
                    volume_type: pb::VolumeType::OperatingSystem.into(),
                    key: LAPTOP_RECOVERY_KEY.into(),
                },
                &token,
            )?)
            .await
            .context("escrowing the laptop's recovery key")?;
        // Sessions on each device; their sign-ins also become the devices' last activity.
        sign_in_on(identity, &laptop.id, EDGE_ON_WINDOWS).await?;
        sign_in_on(identity, &phone.id, SAFARI_ON_IPHONE).await?;
        Ok(())
    }
}
