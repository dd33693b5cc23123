//! The first admin of a new installation, created at start-up when missing (later admins are
//! created by admins).

use platform::config::{ConfigError, Env};
use platform::service::StartError;

use crate::domain::{self, NewUserInput};
use crate::error::IdentityError;
use crate::service::Identity;
use crate::store::StoreError;

/// An admin account created at start-up when it does not exist yet.
#[derive(Clone)]
pub struct BootstrapAdmin {
    pub user_principal_name: String,
    pub password: String,
}

/// Never shows the password (settings may be logged with `?`).
impl std::fmt::Debug for BootstrapAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapAdmin")
            .field("user_principal_name", &self.user_principal_name)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl BootstrapAdmin {
    /// `IDENTITY_BOOTSTRAP_ADMIN_UPN` and `IDENTITY_BOOTSTRAP_ADMIN_PASSWORD`: both or neither.
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let upn: Option<String> = env.optional("IDENTITY_BOOTSTRAP_ADMIN_UPN")?;
        let password: Option<String> = env.optional("IDENTITY_BOOTSTRAP_ADMIN_PASSWORD")?;
        match (upn, password) {
            (Some(user_principal_name), Some(password)) => Ok(Some(BootstrapAdmin {
                user_principal_name,
                password,
            })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(ConfigError::new(
                "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD",
                "must be set with IDENTITY_BOOTSTRAP_ADMIN_UPN",
            )),
            (None, Some(_)) => Err(ConfigError::new(
                "IDENTITY_BOOTSTRAP_ADMIN_UPN",
                "must be set with IDENTITY_BOOTSTRAP_ADMIN_PASSWORD",
            )),
        }
    }

    /// Creates the admin unless an account of that name exists.
    pub async fn ensure(&self, identity: &Identity) -> Result<(), StartError> {
        let input = NewUserInput {
            user_principal_name: self.user_principal_name.clone(),
            password: self.password.clone(),
            display_name: "Administrator".into(),
            roles: vec![domain::ADMIN_ROLE.into()],
            ..Default::default()
        };
        match identity.create_user(input).await {
            Ok(p) => {
                tracing::info!(user_principal_name = %p.user_principal_name, "bootstrap admin created");
                Ok(())
            }
            Err(IdentityError::Store(StoreError::DuplicateUser(_))) => Ok(()),
            Err(e) => Err(StartError::service("bootstrap admin", e)),
        }
    }
}
