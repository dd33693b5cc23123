//! `myaccount demo`: a realistic tenant to click through, seeded through the public gRPC API
//! with the bootstrap admin. Running it again changes nothing.

use anyhow::{Context, bail};
use myaccount_proto::identity::v1 as pb;
use myaccount_proto::identity::v1::identity_service_client::IdentityServiceClient;
use platform::config::Env;
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

pub struct DemoTarget {
    pub identity_url: String,
    pub admin_upn: String,
    pub admin_password: String,
}

impl DemoTarget {
    pub fn from_env(env: &Env) -> anyhow::Result<Self> {
        Ok(Self {
            identity_url: env.or("IDENTITY_URL", "http://127.0.0.1:50051".to_owned())?,
            admin_upn: env.or("IDENTITY_BOOTSTRAP_ADMIN_UPN", DEFAULT_ADMIN_UPN.to_owned())?,
            admin_password: env.or("IDENTITY_BOOTSTRAP_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD.to_owned())?,
        })
    }
}

pub async fn seed(target: &DemoTarget) -> anyhow::Result<()> {
    let channel = Channel::from_shared(target.identity_url.clone())?
        .connect()
        .await
        .with_context(|| format!("connecting to identity at {}", target.identity_url))?;
    let mut identity = IdentityServiceClient::new(channel);
    let admin_token = sign_in(&mut identity, &target.admin_upn, &target.admin_password)
        .await
        .context("signing in as the bootstrap admin")?
        .ok_or_else(|| anyhow::anyhow!("the bootstrap admin's password was refused"))?;

    let mut created = 0;
    for user in &USERS {
        let mut request = tonic::Request::new(pb::CreateUserRequest {
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
        });
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {admin_token}").parse()?);
        match identity.create_user(request).await {
            Ok(_) => {
                created += 1;
                // A little history so "My sign-ins" is not empty: one typo, then success.
                let _ = sign_in(&mut identity, user.upn, "not my password at all").await;
                sign_in(&mut identity, user.upn, user.password).await?;
            }
            Err(s) if s.code() == Code::AlreadyExists => {}
            Err(s) => bail!("creating {}: {}", user.upn, s.message()),
        }
    }

    println!("Demo tenant Contoso ({created} users created now; already present ones left as they were).");
    println!("Sign in at the gateway with any of these:");
    for user in &USERS {
        println!("  {:<32} {}", user.upn, user.password);
    }
    println!("  {:<32} {}  (admin)", target.admin_upn, target.admin_password);
    Ok(())
}

/// The access token, or `None` when the credentials are refused.
async fn sign_in(identity: &mut IdentityServiceClient<Channel>, upn: &str, password: &str) -> anyhow::Result<Option<String>> {
    let request = pb::SignInRequest {
        username: upn.into(),
        password: password.into(),
        client: Some(pb::ClientContext {
            user_agent: "myaccount-demo".into(),
            app_id: "myaccount-demo".into(),
            ..Default::default()
        }),
    };
    match identity.sign_in(request).await {
        Ok(r) => match r.into_inner().result {
            Some(pb::sign_in_response::Result::Tokens(t)) => Ok(Some(t.access_token)),
            None => Ok(None),
        },
        Err(s) if s.code() == Code::Unauthenticated => Ok(None),
        Err(s) => bail!("sign-in of {upn}: {}", s.message()),
    }
}
