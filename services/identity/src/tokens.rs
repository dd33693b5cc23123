//! Token issuing: the signing keys (kept in identity's database so every replica signs with the
//! same key and restarts keep tokens valid), access tokens, and opaque refresh tokens.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use jsonwebtoken::jwk::JwkSet;
use platform::auth::{ADMIN_SCOPE, AuthError, Claims, JwksSource, SigningKey};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::sync::RwLock;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::ADMIN_ROLE;
use crate::store::{self, StoreError};

#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
}

impl TokenSettings {
    /// `TOKEN_ISSUER`, `TOKEN_AUDIENCE`, `ACCESS_TOKEN_TTL` (30s-1h, default 10m),
    /// `REFRESH_TOKEN_TTL` (default 14d).
    pub fn from_env(env: &platform::config::Env) -> Result<Self, platform::config::ConfigError> {
        let access_token_ttl = env.duration("ACCESS_TOKEN_TTL", Duration::from_secs(600))?;
        if access_token_ttl < Duration::from_secs(30) || access_token_ttl > Duration::from_secs(3600) {
            return Err(platform::config::ConfigError::new(
                "ACCESS_TOKEN_TTL",
                "must be between 30s and 1h",
            ));
        }
        Ok(Self {
            issuer: env.or("TOKEN_ISSUER", platform::auth::DEFAULT_ISSUER.to_owned())?,
            audience: env.or("TOKEN_AUDIENCE", platform::auth::DEFAULT_AUDIENCE.to_owned())?,
            access_token_ttl,
            refresh_token_ttl: env.duration("REFRESH_TOKEN_TTL", Duration::from_secs(14 * 24 * 3600))?,
        })
    }
}

struct Keys {
    signing: SigningKey,
    published: JwkSet,
}

/// The signing keys, loaded from the database and refreshed periodically so a key rotated by
/// another replica is picked up.
pub struct KeyStore {
    pool: PgPool,
    keys: RwLock<Keys>,
}

impl KeyStore {
    /// Loads the active keys, creating the first one if there is none.
    pub async fn load(pool: PgPool) -> Result<Arc<Self>, StoreError> {
        let keys = load_keys(&pool).await?;
        Ok(Arc::new(Self {
            pool,
            keys: RwLock::new(keys),
        }))
    }

    pub async fn reload(&self) -> Result<(), StoreError> {
        let keys = load_keys(&self.pool).await?;
        *self.keys.write().await = keys;
        Ok(())
    }

    pub async fn jwks(&self) -> JwkSet {
        self.keys.read().await.published.clone()
    }

    pub async fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        self.keys.read().await.signing.sign(claims)
    }
}

async fn load_keys(pool: &PgPool) -> Result<Keys, StoreError> {
    let mut conn = pool.acquire().await?;
    let mut stored = store::active_signing_keys(&mut conn).await?;
    if stored.is_empty() {
        let key = SigningKey::generate();
        store::insert_signing_key(&mut conn, key.kid(), &key.secret_bytes(), Utc::now()).await?;
        tracing::info!(kid = key.kid(), "created the first token-signing key");
        stored = store::active_signing_keys(&mut conn).await?;
    }
    let keys: Vec<SigningKey> = stored
        .iter()
        .filter_map(|k| match SigningKey::from_secret(k.kid.clone(), &k.secret) {
            Ok(key) => Some(key),
            Err(e) => {
                tracing::error!(kid = %k.kid, error = %e, "skipping an unreadable signing key");
                None
            }
        })
        .collect();
    let signing = keys
        .first()
        .cloned()
        .ok_or_else(|| StoreError::Database(sqlx::Error::RowNotFound))?;
    Ok(Keys {
        published: JwkSet {
            keys: keys.iter().map(SigningKey::public_jwk).collect(),
        },
        signing,
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
}

pub fn access_claims(settings: &TokenSettings, subject: &TokenSubject, now: DateTime<Utc>) -> Claims {
    let ttl = i64::try_from(settings.access_token_ttl.as_secs()).unwrap_or(600);
    Claims {
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
        sub: subject.user_id.to_string(),
        exp: now.timestamp() + ttl,
        iat: now.timestamp(),
        jti: Uuid::new_v4().to_string(),
        sid: Some(subject.session_id.to_string()),
        org: subject.organization_id.map(|o| o.to_string()),
        auth_time: subject.auth_time.timestamp(),
        amr: subject.amr.clone(),
        scope: subject
            .roles
            .iter()
            .any(|r| r == ADMIN_ROLE)
            .then(|| ADMIN_SCOPE.to_owned()),
    }
}

/// A short-lived token identity uses to call security-info's internal methods. Its subject is
/// the nil id (no person), its only scope the service scope.
pub fn service_claims(settings: &TokenSettings, now: DateTime<Utc>) -> Claims {
    Claims {
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
        sub: Uuid::nil().to_string(),
        exp: now.timestamp() + 60,
        iat: now.timestamp(),
        jti: Uuid::new_v4().to_string(),
        sid: None,
        org: None,
        auth_time: now.timestamp(),
        amr: vec![],
        scope: Some(platform::auth::SERVICE_SCOPE.to_owned()),
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

/// `/.well-known/jwks.json` on the admin port: the keys other services verify tokens with.
pub fn jwks_route(keys: Arc<KeyStore>) -> axum::Router {
    use axum::Json;
    use axum::http::header;
    use axum::response::IntoResponse;
    use axum::routing::get;
    axum::Router::new().route(
        "/.well-known/jwks.json",
        get(move || {
            let keys = keys.clone();
            async move {
                (
                    [(header::CACHE_CONTROL, "public, max-age=300")],
                    Json(keys.jwks().await),
                )
                    .into_response()
            }
        }),
    )
}

/// Picks up keys rotated by another replica.
pub async fn refresh_keys(keys: Arc<KeyStore>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(60)) => {
                if let Err(e) = keys.reload().await {
                    tracing::warn!(error = %e, "reloading signing keys failed");
                }
            }
        }
    }
}
