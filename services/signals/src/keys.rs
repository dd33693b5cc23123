//! The key that signs Security Event Tokens: RS256 with a 2048-bit RSA key (the CAEP
//! interoperability profile's minimum), made once per installation and kept in the database,
//! sealed with `DATA_ENCRYPTION_KEYS`, so every replica signs with the same key; its public half
//! is the JSON Web Key Set at the discovery's `jwks_uri`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use platform::crypto::{CryptoError, Keyring};
use rsa::RsaPrivateKey;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sqlx::PgPool;

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

/// Signs SETs with the installation's key.
pub struct SetSigner {
    kid: String,
    key: EncodingKey,
    public_jwk: Value,
}

impl std::fmt::Debug for SetSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SetSigner {
    /// The installation's key, made (under a lock, so replicas agree) when there is none yet.
    pub async fn load_or_create(pool: &PgPool, keyring: &Keyring) -> Result<Self, KeyError> {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(KEY_CREATION_LOCK)
            .execute(&mut *tx)
            .await?;
        let existing: Option<(String, Vec<u8>)> =
            sqlx::query_as("SELECT kid, sealed_private_key FROM signing_keys ORDER BY created_at DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
        let signer = match existing {
            Some((kid, sealed)) => {
                let der = keyring.decrypt(&sealed, kid.as_bytes())?;
                Self::from_key(kid, &RsaPrivateKey::from_pkcs1_der(&der)?)?
            }
            None => {
                // Generating takes a moment; it happens once per installation.
                let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, KEY_BITS)?;
                let kid = uuid::Uuid::now_v7().to_string();
                let der = key.to_pkcs1_der()?;
                let sealed = keyring.encrypt(der.as_bytes(), kid.as_bytes())?;
                sqlx::query("INSERT INTO signing_keys (kid, sealed_private_key, created_at) VALUES ($1, $2, $3)")
                    .bind(&kid)
                    .bind(&sealed)
                    .bind(Utc::now())
                    .execute(&mut *tx)
                    .await?;
                tracing::info!(%kid, bits = KEY_BITS, "made the key that signs security event tokens");
                Self::from_key(kid, &key)?
            }
        };
        tx.commit().await?;
        Ok(signer)
    }

    fn from_key(kid: String, key: &RsaPrivateKey) -> Result<Self, KeyError> {
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

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A SET: `typ` `secevent+jwt`, RS256, this key's `kid`.
    pub fn sign(&self, claims: &Value) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some(SET_TYPE.to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key)
    }

    /// The JSON Web Key Set receivers verify SETs with.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.public_jwk] })
    }
}
