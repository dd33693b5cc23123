//! The demo's security info: Megan Bowen has an authenticator app (so her sign-in asks for a
//! code; the secret is printed so a person can add it to an app), Alex Wilber and Adele Vance
//! have no second factor. Registered through the public APIs, as a person would.

use anyhow::{Context, bail};
use myaccount_proto::identity::v1 as identity;
use myaccount_proto::identity::v1::identity_service_client::IdentityServiceClient;
use myaccount_proto::securityinfo::v1 as pb;
use myaccount_proto::securityinfo::v1::security_info_service_client::SecurityInfoServiceClient;
use myaccount_security_info::domain::totp_code;
use platform::workload::{SECURITY_INFO, SignedAsWorkload};
use tonic::transport::Channel;

use super::{DemoTarget, USERS};

/// The person who gets an authenticator app.
const WITH_TOTP: &str = "megan.bowen@contoso.example";
/// The person without any second factor.
pub const WITHOUT_SECOND_FACTOR: &str = "alex.wilber@contoso.example";

/// What was registered now (nothing when it already was).
pub struct SeededApp {
    pub upn: &'static str,
    pub secret: String,
    pub otpauth_uri: String,
}

pub async fn seed(
    target: &DemoTarget,
    identity: &mut IdentityServiceClient<SignedAsWorkload<Channel>>,
) -> anyhow::Result<Option<SeededApp>> {
    let Some(user) = USERS.iter().find(|u| u.upn == WITH_TOTP) else {
        bail!("{WITH_TOTP} is not a demo user");
    };
    let request = identity::SignInRequest {
        username: user.upn.into(),
        password: user.password.into(),
        client: Some(identity::ClientContext {
            user_agent: "myaccount-demo".into(),
            app_id: "myaccount-demo".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let token = match identity.sign_in(request).await?.into_inner().result {
        Some(identity::sign_in_response::Result::Tokens(t)) => t.access_token,
        // Already asks for a second factor: seeded before.
        Some(identity::sign_in_response::Result::MfaRequired(_)) => return Ok(None),
        Some(identity::sign_in_response::Result::MfaRegistrationRequired(_)) => {
            bail!(
                "{}'s organization requires a second factor: sign in to the portal to register one",
                user.upn
            )
        }
        Some(identity::sign_in_response::Result::PasswordChangeRequired(_)) => {
            bail!("{} must choose a new password first (reported \"not me\")", user.upn)
        }
        None => bail!("signing in {} gave no answer", user.upn),
    };
    let channel = target
        .connect_as_gateway(&target.security_info_url, "SECURITYINFO_URL", SECURITY_INFO)
        .await?;
    let mut client = SecurityInfoServiceClient::new(channel);
    let started = client
        .start_authenticator_app_registration(bearer(
            pb::StartAuthenticatorAppRegistrationRequest {
                name: "Demo authenticator".into(),
            },
            &token,
        )?)
        .await?
        .into_inner();
    let secret = data_encoding::BASE32_NOPAD
        .decode(started.secret.as_bytes())
        .context("the secret is base32")?;
    // The demo plays the authenticator app once, to prove the current code.
    let code = totp_code(&secret, chrono::Utc::now().timestamp());
    client
        .verify_method(bearer(
            pb::VerifyMethodRequest {
                method_id: started.method_id,
                code,
            },
            &token,
        )?)
        .await?;
    Ok(Some(SeededApp {
        upn: user.upn,
        secret: started.secret,
        otpauth_uri: started.otpauth_uri,
    }))
}

/// The bootstrap admin's token from a multi-factor sign-in, as every admin action needs: on the
/// first run the admin (who has no second factor yet) registers an authenticator app, whose
/// secret is returned to print. `None` when the admin already has a second factor the demo does
/// not hold (seeded before).
pub async fn admin_token(
    target: &DemoTarget,
    identity: &mut IdentityServiceClient<SignedAsWorkload<Channel>>,
) -> anyhow::Result<Option<(String, Option<SeededApp>)>> {
    let sign_in = |identity: &mut IdentityServiceClient<SignedAsWorkload<Channel>>| {
        let request = identity::SignInRequest {
            username: target.admin_upn.clone(),
            password: target.admin_password.clone(),
            client: Some(identity::ClientContext {
                user_agent: "myaccount-demo".into(),
                app_id: "myaccount-demo".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut identity = identity.clone();
        async move { identity.sign_in(request).await }
    };
    let password_only = match sign_in(identity).await?.into_inner().result {
        Some(identity::sign_in_response::Result::Tokens(t)) => t.access_token,
        Some(identity::sign_in_response::Result::MfaRequired(_)) => return Ok(None),
        _ => bail!("the bootstrap admin cannot sign in with the password"),
    };
    let channel = target
        .connect_as_gateway(&target.security_info_url, "SECURITYINFO_URL", SECURITY_INFO)
        .await?;
    let mut client = SecurityInfoServiceClient::new(channel);
    let started = client
        .start_authenticator_app_registration(bearer(
            pb::StartAuthenticatorAppRegistrationRequest {
                name: "Admin authenticator".into(),
            },
            &password_only,
        )?)
        .await?
        .into_inner();
    let secret = data_encoding::BASE32_NOPAD
        .decode(started.secret.as_bytes())
        .context("the secret is base32")?;
    let now = chrono::Utc::now().timestamp();
    let method_id = started.method_id.clone();
    client
        .verify_method(bearer(
            pb::VerifyMethodRequest {
                method_id: method_id.clone(),
                code: totp_code(&secret, now),
            },
            &password_only,
        )?)
        .await?;
    let Some(identity::sign_in_response::Result::MfaRequired(challenge)) = sign_in(identity).await?.into_inner().result
    else {
        bail!("the bootstrap admin's sign-in did not ask for the new authenticator app");
    };
    // The next time step: the one just used is accepted once.
    let answer = identity
        .complete_mfa(identity::CompleteMfaRequest {
            challenge_id: challenge.challenge_id,
            method_id,
            proof: Some(identity::complete_mfa_request::Proof::Code(totp_code(
                &secret,
                now + 30,
            ))),
            client: None,
        })
        .await?
        .into_inner();
    let Some(identity::sign_in_response::Result::Tokens(tokens)) = answer.result else {
        bail!("the bootstrap admin's multi-factor sign-in gave no tokens");
    };
    let app = SeededApp {
        upn: "the bootstrap admin",
        secret: started.secret,
        otpauth_uri: started.otpauth_uri,
    };
    Ok(Some((tokens.access_token, Some(app))))
}

pub fn print(app: &Option<SeededApp>) {
    match app {
        Some(app) => {
            println!(
                "{} signs in with a second factor: add this key to an authenticator app",
                app.upn
            );
            println!("  secret {}", app.secret);
            println!("  {}", app.otpauth_uri);
        }
        None => println!("{WITH_TOTP} already has an authenticator app (its secret was printed when it was seeded)."),
    }
    println!("{WITHOUT_SECOND_FACTOR} has no second factor: password only.");
}

use platform::auth::bearer_request as bearer;
