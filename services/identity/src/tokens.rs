//! Token issuing: the signing keys (kept in identity's database so every replica signs with the
//! same key and restarts keep tokens valid), access tokens, and opaque refresh tokens.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use jsonwebtoken::jwk::JwkSet;
use platform::auth::{
    ADMIN_SCOPE, APP_PASSWORD_AMR, AuthError, Claims, JwksSource, READ_ONLY_SCOPE, SigningKey, VERIFIER_LEEWAY,
    VERIFIER_MIN_REFETCH,
};
use platform::crypto::{CryptoError, Keyring};
use platform::key_schedule::{KeySchedule as Schedule, ScheduledKey};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::sync::RwLock;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::{ADMIN_ROLE, IssuedTokens};
use crate::store::{self, StoreError};

#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl: Duration,
    /// A session not refreshed for this long ends by itself.
    pub session_idle_timeout: Duration,
    /// A session ends this long after its sign-in, however busy.
    pub session_max_lifetime: Duration,
    /// A spent refresh token presented again this soon gets the successor it already got (two
    /// gateway replicas refreshing one browser session at once); later, it ends the session.
    pub refresh_reuse_grace: Duration,
    /// How often every replica reloads the signing keys. A new key is published two of these
    /// before it signs, so every replica serves it in its JWKS by then.
    pub signing_keys_reload: Duration,
}

impl TokenSettings {
    /// The defaults, for an issuer and audience.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            access_token_ttl: Duration::from_secs(600),
            session_idle_timeout: DEFAULT_SESSION_IDLE_TIMEOUT,
            session_max_lifetime: DEFAULT_SESSION_MAX_LIFETIME,
            refresh_reuse_grace: Duration::from_secs(30),
            signing_keys_reload: Duration::from_secs(60),
        }
    }

    /// `TOKEN_ISSUER`, `TOKEN_AUDIENCE`, `ACCESS_TOKEN_TTL` (30s-1h, default 10m),
    /// `SESSION_IDLE_TIMEOUT` (5m-90d, default 24h; `REFRESH_TOKEN_TTL`, its earlier name, is
    /// read while it is unset), `SESSION_MAX_LIFETIME` (at least the idle timeout, at most 365d,
    /// default 14d), `REFRESH_TOKEN_REUSE_GRACE` (0-2m, default 30s),
    /// `SIGNING_KEYS_RELOAD_INTERVAL` (1s-10m, default 1m).
    pub fn from_env(env: &platform::config::Env) -> Result<Self, platform::config::ConfigError> {
        use platform::config::ConfigError;
        let within = |name: &'static str, value: Duration, min: Duration, max: Duration, what: &str| {
            if value < min || value > max {
                Err(ConfigError::new(name, format!("must be between {what}")))
            } else {
                Ok(value)
            }
        };
        let defaults = Self::new(
            env.or("TOKEN_ISSUER", platform::auth::DEFAULT_ISSUER.to_owned())?,
            env.or("TOKEN_AUDIENCE", platform::auth::DEFAULT_AUDIENCE.to_owned())?,
        );
        let access_token_ttl = within(
            "ACCESS_TOKEN_TTL",
            env.duration("ACCESS_TOKEN_TTL", defaults.access_token_ttl)?,
            Duration::from_secs(30),
            Duration::from_secs(3600),
            "30s and 1h",
        )?;
        let idle_variable = if env.raw("SESSION_IDLE_TIMEOUT").is_none() && env.raw("REFRESH_TOKEN_TTL").is_some() {
            tracing::warn!(
                variable = "REFRESH_TOKEN_TTL",
                replacement = "SESSION_IDLE_TIMEOUT",
                "deprecated variable, still read for now"
            );
            "REFRESH_TOKEN_TTL"
        } else {
            "SESSION_IDLE_TIMEOUT"
        };
        let session_idle_timeout = within(
            idle_variable,
            env.duration(idle_variable, defaults.session_idle_timeout)?,
            Duration::from_secs(300),
            Duration::from_secs(90 * 24 * 3600),
            "5m and 90d",
        )?;
        let session_max_lifetime = env.duration("SESSION_MAX_LIFETIME", defaults.session_max_lifetime)?;
        if session_max_lifetime < session_idle_timeout || session_max_lifetime > Duration::from_secs(365 * 24 * 3600) {
            return Err(ConfigError::new(
                "SESSION_MAX_LIFETIME",
                format!("must be at least {idle_variable} and at most 365d"),
            ));
        }
        Ok(Self {
            access_token_ttl,
            session_idle_timeout,
            session_max_lifetime,
            refresh_reuse_grace: within(
                "REFRESH_TOKEN_REUSE_GRACE",
                env.duration("REFRESH_TOKEN_REUSE_GRACE", defaults.refresh_reuse_grace)?,
                Duration::ZERO,
                Duration::from_secs(120),
                "0s and 2m",
            )?,
            signing_keys_reload: within(
                "SIGNING_KEYS_RELOAD_INTERVAL",
                env.duration("SIGNING_KEYS_RELOAD_INTERVAL", defaults.signing_keys_reload)?,
                Duration::from_secs(1),
                Duration::from_secs(600),
                "1s and 10m",
            )?,
            ..defaults
        })
    }

    /// How long before it signs a new key is published: two reload periods, so every replica
    /// has reloaded at least once (and serves the key) before any replica signs with it, plus
    /// the verifiers' minimum interval between two fetches, so a verifier that fetched just
    /// before the key was published may fetch again by the time the key signs.
    pub fn key_publication_lead(&self) -> chrono::Duration {
        platform::key_schedule::publication_lead(self.signing_keys_reload, VERIFIER_MIN_REFETCH)
    }

    /// How long a key stays published after it stopped signing: until the last token it signed
    /// has expired, with the verifiers' clock leeway and a reload period to spare.
    pub fn key_publication_tail(&self) -> chrono::Duration {
        chrono_duration(self.access_token_ttl + self.signing_keys_reload * 2 + VERIFIER_LEEWAY)
    }
}

/// A day without activity ends a session; a fortnight ends it however busy. Keycloak's defaults
/// are stricter (SSO Session Idle 30 min, Max 10 h), Entra's laxer (refresh tokens live 90 days
/// of inactivity; sign-in frequency is unbounded unless Conditional Access sets it).
pub const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
pub const DEFAULT_SESSION_MAX_LIFETIME: Duration = Duration::from_secs(14 * 24 * 3600);

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

struct Keys {
    scheduled: Schedule<SigningKey>,
    published: JwkSet,
}

/// The signing keys, loaded from the database and reloaded every
/// [`TokenSettings::signing_keys_reload`], so a key added by a rotation on any replica is
/// published everywhere before it signs anywhere.
pub struct KeyStore {
    pool: PgPool,
    schedule: KeySchedule,
    keys: RwLock<Keys>,
}

/// When keys are published around the time they sign.
#[derive(Debug, Clone, Copy)]
pub struct KeySchedule {
    pub reload: Duration,
    pub lead: chrono::Duration,
    pub tail: chrono::Duration,
}

impl KeySchedule {
    pub fn of(settings: &TokenSettings) -> Self {
        Self {
            reload: settings.signing_keys_reload,
            lead: settings.key_publication_lead(),
            tail: settings.key_publication_tail(),
        }
    }
}

impl KeyStore {
    /// Loads the published keys, creating the first one if none signs yet.
    pub async fn load(pool: PgPool, schedule: KeySchedule) -> Result<Arc<Self>, StoreError> {
        let keys = load_keys(&pool, schedule, Utc::now()).await?;
        Ok(Arc::new(Self {
            pool,
            schedule,
            keys: RwLock::new(keys),
        }))
    }

    pub async fn reload(&self) -> Result<(), StoreError> {
        let keys = load_keys(&self.pool, self.schedule, Utc::now()).await?;
        *self.keys.write().await = keys;
        Ok(())
    }

    pub async fn jwks(&self) -> JwkSet {
        self.keys.read().await.published.clone()
    }

    pub async fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        let keys = self.keys.read().await;
        let key = keys
            .scheduled
            .signing(Utc::now())
            .ok_or_else(|| AuthError::KeysUnavailable("no signing key is active".into()))?;
        key.sign(claims)
    }

    /// The id of the key that signs now.
    pub async fn signing_kid(&self) -> Option<String> {
        let keys = self.keys.read().await;
        keys.scheduled.signing(Utc::now()).map(|k| k.kid().to_owned())
    }
}

async fn load_keys(pool: &PgPool, schedule: KeySchedule, now: DateTime<Utc>) -> Result<Keys, StoreError> {
    let mut conn = pool.acquire().await?;
    let published_since = now - schedule.tail;
    let mut stored = store::published_signing_keys(&mut conn, published_since).await?;
    if !stored.iter().any(|k| k.activates_at <= now) {
        let key = SigningKey::generate();
        store::insert_signing_key(&mut conn, key.kid(), &key.secret_bytes(), now, now).await?;
        tracing::info!(kid = key.kid(), "created the first token-signing key");
        stored = store::published_signing_keys(&mut conn, published_since).await?;
    }
    let scheduled: Vec<ScheduledKey<SigningKey>> = stored
        .iter()
        .filter_map(|k| match SigningKey::from_secret(k.kid.clone(), &k.secret) {
            Ok(key) => Some(ScheduledKey {
                key,
                activates_at: k.activates_at,
                retires_at: k.retired_at,
            }),
            Err(e) => {
                tracing::error!(kid = %k.kid, error = %e, "skipping an unreadable signing key");
                None
            }
        })
        .collect();
    let scheduled = Schedule::new(scheduled);
    Ok(Keys {
        published: JwkSet {
            keys: scheduled.keys().map(SigningKey::public_jwk).collect(),
        },
        scheduled,
    })
}

/// What [`rotate_signing_key`] did.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub kid: String,
    /// When the new key starts signing and the keys before it stop.
    pub activates_at: DateTime<Utc>,
}

/// Rotates the signing key without a gap: the new key is published at once (every replica
/// serves it after its next reload) and signs from `now + lead`; the keys before it stop signing
/// at that moment and stay published until the tokens they signed have expired.
pub async fn rotate_signing_key(
    pool: &PgPool,
    settings: &TokenSettings,
    now: DateTime<Utc>,
) -> Result<Rotation, StoreError> {
    let key = SigningKey::generate();
    let activates_at = now + settings.key_publication_lead();
    let mut tx = pool.begin().await?;
    store::retire_signing_keys(&mut tx, activates_at).await?;
    store::insert_signing_key(&mut tx, key.kid(), &key.secret_bytes(), now, activates_at).await?;
    tx.commit().await?;
    tracing::info!(kid = key.kid(), %activates_at, "token-signing key rotated");
    Ok(Rotation {
        kid: key.kid().to_owned(),
        activates_at,
    })
}

/// Identity verifies its own callers' tokens straight from the key store, without HTTP.
pub struct LocalJwks(pub Arc<KeyStore>);

impl JwksSource for LocalJwks {
    fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, String>> {
        Box::pin(async move {
            self.0.reload().await.map_err(|e| e.to_string())?;
            Ok(self.0.jwks().await)
        })
    }
}

/// What goes into an access token besides the standard claims.
pub struct TokenSubject {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub organization_id: Option<Uuid>,
    pub auth_time: DateTime<Utc>,
    pub amr: Vec<String>,
    pub roles: Vec<String>,
    /// When the session ends at the latest: no access token outlives it.
    pub session_ends_at: DateTime<Utc>,
}

pub fn access_claims(settings: &TokenSettings, subject: &TokenSubject, now: DateTime<Utc>) -> Claims {
    let ttl = i64::try_from(settings.access_token_ttl.as_secs()).unwrap_or(600);
    Claims {
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
        sub: subject.user_id.to_string(),
        exp: (now.timestamp() + ttl).min(subject.session_ends_at.timestamp()),
        iat: now.timestamp(),
        jti: Uuid::new_v4().to_string(),
        sid: Some(subject.session_id.to_string()),
        org: subject.organization_id.map(|o| o.to_string()),
        auth_time: subject.auth_time.timestamp(),
        amr: subject.amr.clone(),
        scope: scope_of(subject),
    }
}

/// An app password's session reads only, whoever the person is; an admin's interactive session
/// carries the admin scope.
fn scope_of(subject: &TokenSubject) -> Option<String> {
    if subject.amr.iter().any(|m| m == APP_PASSWORD_AMR) {
        Some(READ_ONLY_SCOPE.to_owned())
    } else {
        subject
            .roles
            .iter()
            .any(|r| r == ADMIN_ROLE)
            .then(|| ADMIN_SCOPE.to_owned())
    }
}

/// A new opaque refresh token and the digest that is stored instead of it.
pub fn new_refresh_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("mart_{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = refresh_token_hash(&token);
    (token, hash)
}

pub fn refresh_token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Binds a sealed successor to its purpose.
const SUCCESSOR_CONTEXT: &[u8] = b"myaccount refresh successor v1";

/// The key that seals a refresh token's successor: derived from the spent token itself, which
/// the database never holds (it holds a digest under another label), so only whoever presents
/// the spent token again can open what it was exchanged for.
fn successor_keyring(spent: &str) -> Keyring {
    let key: [u8; 32] = Sha256::new()
        .chain_update(b"myaccount refresh successor key\0")
        .chain_update(spent.as_bytes())
        .finalize()
        .into();
    Keyring::single("successor", &key)
}

/// The pair a refresh token was exchanged for, sealed for a repeat within the grace window.
pub fn seal_successor(spent: &str, tokens: &IssuedTokens, access_expires_at: i64) -> Result<Vec<u8>, CryptoError> {
    let plain = format!("{access_expires_at}\n{}\n{}", tokens.access_token, tokens.refresh_token);
    successor_keyring(spent).encrypt(plain.as_bytes(), SUCCESSOR_CONTEXT)
}

/// Opens what [`seal_successor`] sealed: the same pair, its access token's remaining life
/// counted from `now` (none left: the client refreshes again, with the successor). `None` when
/// it does not open.
pub fn open_successor(spent: &str, sealed: &[u8], now: DateTime<Utc>) -> Option<IssuedTokens> {
    let plain = successor_keyring(spent).decrypt(sealed, SUCCESSOR_CONTEXT).ok()?;
    let plain = String::from_utf8(plain).ok()?;
    let mut parts = plain.splitn(3, '\n');
    let expires_at: i64 = parts.next()?.parse().ok()?;
    let access_token = parts.next()?.to_owned();
    let refresh_token = parts.next()?.to_owned();
    let remaining = u64::try_from(expires_at - now.timestamp()).unwrap_or(0);
    Some(IssuedTokens {
        access_token,
        refresh_token,
        expires_in: Duration::from_secs(remaining),
    })
}

/// `/.well-known/jwks.json` on the admin port: the keys other services verify tokens with. Caches
/// may keep it for one reload period: a new key is published two before it signs.
pub fn jwks_route(keys: Arc<KeyStore>) -> axum::Router {
    use axum::Json;
    use axum::http::header;
    use axum::response::IntoResponse;
    use axum::routing::get;
    let cache_control = format!("public, max-age={}", keys.schedule.reload.as_secs());
    axum::Router::new().route(
        "/.well-known/jwks.json",
        get(move || {
            let keys = keys.clone();
            let cache_control = cache_control.clone();
            async move { ([(header::CACHE_CONTROL, cache_control)], Json(keys.jwks().await)).into_response() }
        }),
    )
}

/// Picks up keys rotated by another replica, and lets retired keys leave the JWKS.
pub async fn refresh_keys(keys: Arc<KeyStore>, shutdown: CancellationToken) {
    let period = keys.schedule.reload;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(period) => {
                if let Err(e) = keys.reload().await {
                    tracing::warn!(error = %e, "reloading signing keys failed");
                }
            }
        }
    }
}
