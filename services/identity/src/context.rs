//! What every use case of identity works with: the database, the signing keys, the token
//! settings and, when second factors are in use, security-info; plus the small checks they share.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use platform::auth::Caller;
use platform::config::{ConfigError, Env};
use platform::error::Violations;
use platform::geoip::GeoLocator;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{ClientInfo, RevocationReason, SecondFactor};
use crate::error::IdentityError;
use crate::passwords::hash_password;
use crate::security_info::SecurityInfoClient;
use crate::store::{self, Credentials, DeviceStanding};
use crate::tokens::{KeyStore, TokenSettings};

/// How many days an address a person signed in from stays familiar, unless configured.
pub const DEFAULT_FAMILIAR_DAYS: u32 = 30;

/// The first lock-out after the free failures, unless configured.
pub const DEFAULT_LOCKOUT_BASE: Duration = Duration::from_secs(1);

/// How sign-in tells the owner's familiar places from others (docs/OPERATIONS.md, "Sign-in
/// throttling").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInSettings {
    /// Days an address a person signed in from successfully stays familiar
    /// (`SIGN_IN_FAMILIAR_DAYS`, 1 to 365).
    pub familiar_days: u32,
    /// The first lock-out after the free failures; each further failure doubles it, up to 15
    /// minutes (`SIGN_IN_LOCKOUT_BASE`, 100 ms to 5 minutes).
    pub lockout_base: std::time::Duration,
    /// How many different registered methods a self-service password reset must prove
    /// (`PASSWORD_RESET_METHODS_REQUIRED`, 1 or 2), for every organization until organizations
    /// keep a policy of their own (Microsoft's "number of methods required to reset").
    pub reset_methods_required: u8,
}

impl Default for SignInSettings {
    fn default() -> Self {
        Self {
            familiar_days: DEFAULT_FAMILIAR_DAYS,
            lockout_base: DEFAULT_LOCKOUT_BASE,
            reset_methods_required: 1,
        }
    }
}

impl SignInSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let familiar_days = env.or("SIGN_IN_FAMILIAR_DAYS", DEFAULT_FAMILIAR_DAYS)?;
        if !(1..=365).contains(&familiar_days) {
            return Err(ConfigError::new(
                "SIGN_IN_FAMILIAR_DAYS",
                "must be between 1 and 365 days",
            ));
        }
        let lockout_base = env.duration("SIGN_IN_LOCKOUT_BASE", DEFAULT_LOCKOUT_BASE)?;
        if !(std::time::Duration::from_millis(100)..=std::time::Duration::from_secs(300)).contains(&lockout_base) {
            return Err(ConfigError::new("SIGN_IN_LOCKOUT_BASE", "must be between 100ms and 5m"));
        }
        let reset_methods_required = env.or("PASSWORD_RESET_METHODS_REQUIRED", 1u8)?;
        if !(1..=2).contains(&reset_methods_required) {
            return Err(ConfigError::new("PASSWORD_RESET_METHODS_REQUIRED", "must be 1 or 2"));
        }
        Ok(Self {
            familiar_days,
            lockout_base,
            reset_methods_required,
        })
    }
}

pub struct Context {
    pub(crate) pool: PgPool,
    pub(crate) keys: Arc<KeyStore>,
    pub(crate) tokens: TokenSettings,
    /// security-info, when second factors are in use (absent: password-only sign-in).
    pub(crate) second_factors: Option<SecurityInfoClient>,
    /// Verified against when the user name is unknown, so both paths cost one argon2 run and
    /// timing does not reveal which accounts exist.
    pub(crate) dummy_hash: String,
    /// How long an address a person signed in from stays familiar (smart lockout).
    pub(crate) familiar_for: chrono::Duration,
    /// The first lock-out of every throttle counter, in milliseconds (see `ThrottlePolicy`).
    pub(crate) lockout_base_ms: i64,
    /// Where a session's address is (`IDENTITY_GEOIP_DATABASE` or `GEOIP_DATABASE`); none:
    /// sessions show no place.
    pub(crate) places: Option<Arc<GeoLocator>>,
    /// How many different methods a password reset must prove (1 or 2).
    pub(crate) reset_methods_required: i32,
}

impl Context {
    pub async fn new(pool: PgPool, keys: Arc<KeyStore>, tokens: TokenSettings) -> Result<Self, IdentityError> {
        let dummy_hash = hash_password(Uuid::new_v4().to_string()).await?;
        Ok(Self {
            pool,
            keys,
            tokens,
            second_factors: None,
            dummy_hash,
            familiar_for: chrono::Duration::days(i64::from(DEFAULT_FAMILIAR_DAYS)),
            lockout_base_ms: millis(DEFAULT_LOCKOUT_BASE),
            places: None,
            reset_methods_required: 1,
        })
    }

    /// "Paris, Ile-de-France, FR" for an address the GeoIP database knows; empty otherwise.
    pub(crate) fn place_of(&self, ip_address: &str) -> String {
        self.places
            .as_ref()
            .and_then(|places| places.locate(ip_address))
            .map(|place| place.label())
            .unwrap_or_default()
    }

    /// security-info, for the steps that only exist with second factors.
    pub fn second_factor_client(&self) -> Result<&SecurityInfoClient, IdentityError> {
        self.second_factors.as_ref().ok_or(IdentityError::ChallengeInvalid)
    }

    /// The person's second factors; empty when second factors are not in use. Fails closed:
    /// without an answer from security-info nobody gets by on a password alone, since we cannot
    /// tell who has a second factor.
    pub async fn second_factors_of(&self, user_id: Uuid) -> Result<Vec<SecondFactor>, IdentityError> {
        let Some(si) = &self.second_factors else {
            return Ok(Vec::new());
        };
        si.second_factors(user_id).await.map_err(|e| {
            tracing::error!(error = %e, "cannot list second factors");
            IdentityError::SecondFactorsUnavailable
        })
    }

    /// Whether `user_id` comes from a familiar place (see `store::is_familiar_place`).
    pub async fn is_familiar_place(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
        ip_address: &str,
        device_id: &str,
    ) -> Result<bool, IdentityError> {
        let since = Utc::now() - self.familiar_for;
        let device = Uuid::parse_str(device_id.trim()).ok();
        Ok(store::is_familiar_place(conn, user_id, ip_address, device, since).await?)
    }

    /// Who a first step from `client` is for, if the account exists, and whether it comes from
    /// one of the person's familiar places; the same query whether or not it exists.
    pub async fn sign_in_subject(
        &self,
        upn: &str,
        client: &ClientInfo,
    ) -> Result<Option<(Credentials, bool)>, IdentityError> {
        let since = Utc::now() - self.familiar_for;
        let device = Uuid::parse_str(client.device_id.trim()).ok();
        let mut conn = self.pool.acquire().await?;
        Ok(store::sign_in_subject(&mut conn, upn, &client.ip_address, device, since).await?)
    }

    /// Refuses callers whose session has been revoked (signed out, reuse detected), so an
    /// access token stops working here as soon as its session ends.
    pub async fn require_active_session(&self, caller: &Caller) -> Result<(), IdentityError> {
        let Some(session_id) = caller.session_id else {
            return Ok(());
        };
        match store::session(&mut *self.pool.acquire().await?, session_id).await? {
            Some(s) if s.revoked_at.is_none() && s.user_id == caller.user_id => Ok(()),
            // Said as every other service says it once the revocation feed has it.
            Some(s) if s.user_id == caller.user_id => Err(IdentityError::SessionRevoked(
                s.revoked_reason
                    .as_deref()
                    .and_then(RevocationReason::from_code)
                    .unwrap_or(RevocationReason::SignedOut),
            )),
            _ => Err(IdentityError::SessionEnded),
        }
    }

    /// How long a session may go without a refresh: each refresh token lives this long.
    pub fn idle_timeout(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.tokens.session_idle_timeout).unwrap_or(chrono::Duration::days(1))
    }

    /// When a session that began at `created_at` ends, however busy.
    pub fn session_ends_at(&self, created_at: DateTime<Utc>) -> DateTime<Utc> {
        created_at + chrono::Duration::from_std(self.tokens.session_max_lifetime).unwrap_or(chrono::Duration::days(14))
    }

    /// How long a spent refresh token gets its successor again.
    pub fn reuse_grace(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.tokens.refresh_reuse_grace).unwrap_or(chrono::Duration::zero())
    }
}

/// Who a session is for: what the access token needs to say.
pub struct Account {
    pub id: Uuid,
    /// The organization the session acts in: the home organization unless the person signed in
    /// to a guest organization.
    pub organization_id: Option<Uuid>,
    pub roles: Vec<String>,
}

impl Account {
    pub fn in_organization(c: &Credentials, organization_id: Option<Uuid>) -> Self {
        let organization_id = organization_id.or(c.home_organization_id);
        // Roles are the home organization's: an admin signed in to a guest organization is a
        // guest there, so their tokens carry no admin scope.
        let at_home = organization_id == c.home_organization_id;
        Self {
            id: c.id,
            organization_id,
            roles: if at_home { c.roles.clone() } else { Vec::new() },
        }
    }
}

/// The client context as the gateway reported it: bounded, and the address an address.
pub fn validate_client(client: &ClientInfo, v: &mut Violations) {
    v.text("client.ip_address", &client.ip_address, 64);
    if !client.ip_address.is_empty() && client.ip_address.parse::<std::net::IpAddr>().is_err() {
        v.add("client.ip_address", "must be an IPv4 or IPv6 address");
    }
    v.text("client.user_agent", &client.user_agent, 1024);
    v.text("client.device_id", &client.device_id, 128);
    v.text("client.app_id", &client.app_id, 128);
    v.text("client.correlation_id", &client.correlation_id, 128);
}

/// A password as typed at sign-in or step-up: given, and not absurdly long.
pub fn validate_typed_password(password: &str, v: &mut Violations) {
    v.required("password", password);
    if password.chars().count() > 1024 {
        v.add("password", "at most 1024 characters");
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Binds a proven sign-in to the person's own registered device: another's, an unknown one or a
/// malformed id is dropped from `client` (the session is then unbound). False when the device
/// is theirs and disabled: the sign-in is refused.
pub async fn bind_device(
    conn: &mut PgConnection,
    user_id: Uuid,
    client: &mut ClientInfo,
) -> Result<bool, IdentityError> {
    match store::device_standing(conn, user_id, &client.device_id).await? {
        DeviceStanding::Registered => Ok(true),
        DeviceStanding::Disabled => Ok(false),
        DeviceStanding::NotTheirs => {
            client.device_id.clear();
            Ok(true)
        }
    }
}
