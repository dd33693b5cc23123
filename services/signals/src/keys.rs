//! The keys that sign Security Event Tokens: RS256 with 2048-bit RSA keys (the CAEP
//! interoperability profile's minimum), kept in the database sealed with `DATA_ENCRYPTION_KEYS`
//! so every replica signs with the same key; their public halves are the JSON Web Key Set at the
//! discovery's `jwks_uri`.
//!
//! Keys rotate without a gap, on the schedule identity's token keys follow
//! ([`platform::key_schedule`]): a new key is published at once and signs only after every
//! replica has reloaded the keys twice and every receiver's cached copy of the key set has
//! expired. A SET is signed when it is queued and may wait in the queue for hours (a receiver
//! down, a paused stream), so a key that stopped signing stays published for as long as a SET it
//! signed is still queued, and two reload periods more.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use platform::config::{ConfigError, Env};
use platform::crypto::{CryptoError, Keyring};
use platform::key_schedule::{KeySchedule, ScheduledKey, publication_lead};
use rsa::RsaPrivateKey;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

/// RFC 8417 section 2.3: the explicit type of a SET.
pub const SET_TYPE: &str = "secevent+jwt";
/// Bits of a new key.
pub const KEY_BITS: usize = 2048;
/// Serialises key creation across replicas starting together (an arbitrary, fixed number).
const KEY_CREATION_LOCK: i64 = 0x5347_4e4c_4b45_5931;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("generating an RSA key: {0}")]
    Generate(#[from] rsa::Error),
    #[error("encoding or decoding the RSA key: {0}")]
    Encoding(#[from] rsa::pkcs1::Error),
    #[error("sealing or opening the signing key: {0}")]
    Sealing(#[from] CryptoError),
    #[error("loading the signing key into the JWT signer: {0}")]
    Signer(#[from] jsonwebtoken::errors::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// When keys are reloaded and how long receivers may cache the key set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySettings {
    /// How often every replica reloads the keys (`SIGNALS_SIGNING_KEYS_RELOAD_INTERVAL`).
    pub reload: Duration,
    /// The key set's `Cache-Control: max-age` at the gateway (`SIGNALS_JWKS_MAX_AGE`).
    pub jwks_max_age: Duration,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            reload: Duration::from_secs(60),
            jwks_max_age: Duration::from_secs(300),
        }
    }
}

impl KeySettings {
    /// `SIGNALS_SIGNING_KEYS_RELOAD_INTERVAL` (1s..10m, 1m by default) and
    /// `SIGNALS_JWKS_MAX_AGE` (whole seconds, 1s..24h, 5m by default).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let keys = Self {
            reload: env.duration("SIGNALS_SIGNING_KEYS_RELOAD_INTERVAL", defaults.reload)?,
            jwks_max_age: env.duration("SIGNALS_JWKS_MAX_AGE", defaults.jwks_max_age)?,
        };
        if !(Duration::from_secs(1)..=Duration::from_secs(600)).contains(&keys.reload) {
            return Err(ConfigError::new(
                "SIGNALS_SIGNING_KEYS_RELOAD_INTERVAL",
                "must be between 1s and 10m",
            ));
        }
        // Whole seconds: it is the key set's Cache-Control max-age.
        if !(Duration::from_secs(1)..=Duration::from_secs(86_400)).contains(&keys.jwks_max_age)
            || keys.jwks_max_age.subsec_nanos() != 0
        {
            return Err(ConfigError::new(
                "SIGNALS_JWKS_MAX_AGE",
                "must be whole seconds between 1s and 24h",
            ));
        }
        Ok(keys)
    }

    /// How long before it signs a new key is published: every replica has it and every
    /// receiver's cached key set has expired by then.
    pub fn publication_lead(&self) -> chrono::Duration {
        publication_lead(self.reload, self.jwks_max_age)
    }

    /// How long a key stays published after it stopped signing and its last queued SET left
    /// the queue: a SET it signed just before, whose transaction had not committed when a
    /// replica looked, is queued by then.
    pub fn publication_tail(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.reload.saturating_mul(2)).unwrap_or(chrono::Duration::MAX)
    }
}

/// One RSA key: what signs, and what is published.
struct SetKey {
    kid: String,
    key: EncodingKey,
    public_jwk: Value,
}

impl SetKey {
    fn new(kid: String, key: &RsaPrivateKey) -> Result<Self, KeyError> {
        let der = key.to_pkcs1_der()?;
        let public_jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        });
        Ok(Self {
            key: EncodingKey::from_rsa_der(der.as_bytes()),
            kid,
            public_jwk,
        })
    }
}

struct Loaded {
    schedule: KeySchedule<Arc<SetKey>>,
    jwks: Value,
}

/// A signed SET and the key that signed it (kept with the queued SET, so the key stays
/// published while the SET waits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedSet {
    pub token: String,
    pub kid: String,
}

/// Signs SETs with the key whose time it is, and publishes the keys receivers need.
pub struct SetSigner {
    pool: PgPool,
    keyring: Keyring,
    settings: KeySettings,
    loaded: RwLock<Loaded>,
}

impl std::fmt::Debug for SetSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetSigner")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl SetSigner {
    /// The published keys, the first one made (under a lock, so replicas agree) when none
    /// signs yet.
    pub async fn load_or_create(pool: PgPool, keyring: Keyring, settings: KeySettings) -> Result<Arc<Self>, KeyError> {
        let loaded = load(&pool, &keyring, &settings, &HashMap::new(), Utc::now()).await?;
        Ok(Arc::new(Self {
            pool,
            keyring,
            settings,
            loaded: RwLock::new(loaded),
        }))
    }

    /// Picks up keys rotated on any replica, and lets keys no SET needs leave the key set.
    pub async fn reload(&self) -> Result<(), KeyError> {
        let known: HashMap<String, Arc<SetKey>> = {
            let loaded = self.read();
            loaded.schedule.keys().map(|k| (k.kid.clone(), k.clone())).collect()
        };
        let fresh = load(&self.pool, &self.keyring, &self.settings, &known, Utc::now()).await?;
        *self.loaded.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// Reloads every [`KeySettings::reload`] until `shutdown`.
    pub async fn refresh(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.settings.reload) => {
                    if let Err(e) = self.reload().await {
                        tracing::warn!(error = %e, "reloading the SET signing keys failed");
                    }
                }
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        // A panic elsewhere while writing left a whole value behind: the keys are still usable.
        self.loaded.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A SET: `typ` `secevent+jwt`, RS256, the `kid` of the key signing now. `None` only if
    /// no key has begun signing, which loading prevents.
    pub fn sign(&self, claims: &Value) -> Option<Result<SignedSet, jsonwebtoken::errors::Error>> {
        let key = self.read().schedule.signing(Utc::now())?.clone();
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some(SET_TYPE.to_owned());
        header.kid = Some(key.kid.clone());
        Some(jsonwebtoken::encode(&header, claims, &key.key).map(|token| SignedSet {
            token,
            kid: key.kid.clone(),
        }))
    }

    /// The id of the key signing now.
    pub fn signing_kid(&self) -> Option<String> {
        self.read().schedule.signing(Utc::now()).map(|k| k.kid.clone())
    }

    /// The JSON Web Key Set receivers verify SETs with.
    pub fn jwks(&self) -> Value {
        self.read().jwks.clone()
    }

    /// How long receivers may cache [`Self::jwks`].
    pub fn jwks_max_age(&self) -> Duration {
        self.settings.jwks_max_age
    }
}

/// The keys to publish at `now`: those signing or yet to sign, those that stopped less than the
/// tail ago, and those a queued SET was signed with. Keys already opened are reused.
async fn load(
    pool: &PgPool,
    keyring: &Keyring,
    settings: &KeySettings,
    known: &HashMap<String, Arc<SetKey>>,
    now: DateTime<Utc>,
) -> Result<Loaded, KeyError> {
    let mut conn = pool.acquire().await?;
    let published_since = now - settings.publication_tail();
    let mut stored = published_keys(&mut conn, published_since).await?;
    if !stored.iter().any(|k| k.activates_at <= now) {
        create_first_key(pool, keyring, now).await?;
        stored = published_keys(&mut conn, published_since).await?;
    }
    let mut scheduled = Vec::with_capacity(stored.len());
    for k in stored {
        let key = match known.get(&k.kid) {
            Some(key) => key.clone(),
            None => {
                let der = keyring.decrypt(&k.sealed_private_key, k.kid.as_bytes())?;
                Arc::new(SetKey::new(k.kid.clone(), &RsaPrivateKey::from_pkcs1_der(&der)?)?)
            }
        };
        scheduled.push(ScheduledKey {
            key,
            activates_at: k.activates_at,
            retires_at: k.retired_at,
        });
    }
    let schedule = KeySchedule::new(scheduled);
    let jwks = json!({ "keys": schedule.keys().map(|k| k.public_jwk.clone()).collect::<Vec<_>>() });
    Ok(Loaded { schedule, jwks })
}

#[derive(sqlx::FromRow)]
struct StoredKey {
    kid: String,
    sealed_private_key: Vec<u8>,
    activates_at: DateTime<Utc>,
    retired_at: Option<DateTime<Utc>>,
}

async fn published_keys(conn: &mut PgConnection, retired_since: DateTime<Utc>) -> Result<Vec<StoredKey>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kid, sealed_private_key, activates_at, retired_at FROM signing_keys k
         WHERE retired_at IS NULL OR retired_at > $1
            OR EXISTS (SELECT 1 FROM security_event_tokens t WHERE t.kid = k.kid AND t.settled_at IS NULL)",
    )
    .bind(retired_since)
    .fetch_all(conn)
    .await
}

/// The installation's first key, made under a lock so replicas starting together make one.
async fn create_first_key(pool: &PgPool, keyring: &Keyring, now: DateTime<Utc>) -> Result<(), KeyError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(KEY_CREATION_LOCK)
        .execute(&mut *tx)
        .await?;
    let begun: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM signing_keys WHERE activates_at <= $1)")
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    if !begun {
        // Generating takes a moment; it happens once per installation.
        let kid = insert_new_key(&mut tx, keyring, now, now).await?;
        tracing::info!(%kid, bits = KEY_BITS, "made the key that signs security event tokens");
    }
    tx.commit().await?;
    Ok(())
}

async fn insert_new_key(
    conn: &mut PgConnection,
    keyring: &Keyring,
    now: DateTime<Utc>,
    activates_at: DateTime<Utc>,
) -> Result<String, KeyError> {
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, KEY_BITS)?;
    let kid = uuid::Uuid::now_v7().to_string();
    let der = key.to_pkcs1_der()?;
    let sealed = keyring.encrypt(der.as_bytes(), kid.as_bytes())?;
    sqlx::query("INSERT INTO signing_keys (kid, sealed_private_key, created_at, activates_at) VALUES ($1, $2, $3, $4)")
        .bind(&kid)
        .bind(&sealed)
        .bind(now)
        .bind(activates_at)
        .execute(&mut *conn)
        .await?;
    Ok(kid)
}

/// What [`rotate_signing_key`] did.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub kid: String,
    /// When the new key starts signing and the keys before it stop.
    pub activates_at: DateTime<Utc>,
}

/// Rotates the SET signing key without a gap: the new key is published at once (every replica
/// serves it after its next reload) and signs from `now` + the publication lead; the keys
/// before it stop signing at that moment and stay published while SETs they signed are queued.
pub async fn rotate_signing_key(
    pool: &PgPool,
    keyring: &Keyring,
    settings: &KeySettings,
    now: DateTime<Utc>,
) -> Result<Rotation, KeyError> {
    let activates_at = now + settings.publication_lead();
    let mut tx = pool.begin().await?;
    // Two rotations at once would both retire the other's key.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(KEY_CREATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL OR retired_at > $1")
        .bind(activates_at)
        .execute(&mut *tx)
        .await?;
    let kid = insert_new_key(&mut tx, keyring, now, activates_at).await?;
    tx.commit().await?;
    tracing::info!(%kid, %activates_at, "SET signing key rotated");
    Ok(Rotation { kid, activates_at })
}
