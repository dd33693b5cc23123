//! Encryption at rest: an AES-256-GCM keyring from configuration. The first key encrypts, every
//! key decrypts, and each ciphertext names the key that sealed it, so keys can be rotated by
//! putting a new key first and re-encrypting at leisure.
//!
//! `DATA_ENCRYPTION_KEYS=k2:<base64 of 32 bytes>,k1:<base64 of 32 bytes>`
//!
//! Each key also yields a keyed-hash (HMAC-SHA256) key, derived from it for that use alone, for
//! secrets stored only as a digest to look up (recovery codes): a leaked table cannot be
//! guessed offline without the keyring.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::config::{ConfigError, Env};

pub const KEYS_VARIABLE: &str = "DATA_ENCRYPTION_KEYS";
const NONCE_LEN: usize = 12;
const VERSION: u8 = 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("ciphertext is malformed")]
    Malformed,
    #[error("ciphertext was sealed with key {0:?}, which is not in the keyring")]
    UnknownKey(String),
    #[error("ciphertext does not decrypt (wrong key, or tampered with)")]
    Undecryptable,
    #[error("encryption failed")]
    Encrypt,
    #[error("key {0:?} is not in the keyring")]
    NoSuchKey(String),
}

#[derive(Clone)]
struct Key {
    id: String,
    cipher: Aes256Gcm,
    /// HMAC-SHA256(key material, [`MAC_KEY_LABEL`]): never the encryption key itself.
    mac_key: Vec<u8>,
}

/// What the keyed-hash key of each key is derived with.
const MAC_KEY_LABEL: &[u8] = b"myaccount keyed hash key v1";

/// AES-256-GCM keys by id; the first one encrypts.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<Key>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("Keyring").field("key_ids", &ids).finish_non_exhaustive()
    }
}

impl Keyring {
    /// `DATA_ENCRYPTION_KEYS`, required.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        match env.raw(KEYS_VARIABLE) {
            Some(value) => Self::parse(value).map_err(|reason| ConfigError::new(KEYS_VARIABLE, reason)),
            None => Err(ConfigError::new(
                KEYS_VARIABLE,
                "is required: id:<base64 of 32 random bytes>[,id:...], e.g. k1:$(openssl rand -base64 32)",
            )),
        }
    }

    /// Parses `id:base64,id:base64`; the reason names the bad entry without echoing key material.
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut keys: Vec<Key> = Vec::new();
        for (index, entry) in value.split(',').map(str::trim).enumerate() {
            let position = index + 1;
            let (id, material) = entry
                .split_once(':')
                .ok_or_else(|| format!("entry {position} must be id:<base64 key>"))?;
            let id = id.trim();
            if id.is_empty() || id.len() > 32 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(format!("entry {position}: key id must be 1-32 letters, digits, - or _"));
            }
            if keys.iter().any(|k| k.id == id) {
                return Err(format!("key id {id:?} appears twice"));
            }
            let bytes = STANDARD
                .decode(material.trim())
                .map_err(|_| format!("key {id:?} is not valid base64"))?;
            let cipher = Aes256Gcm::new_from_slice(&bytes)
                .map_err(|_| format!("key {id:?} must be 32 bytes (AES-256), got {}", bytes.len()))?;
            let mac_key =
                hmac_sha256(&bytes, &[MAC_KEY_LABEL]).ok_or_else(|| format!("key {id:?} cannot key a hash"))?;
            keys.push(Key {
                id: id.to_owned(),
                cipher,
                mac_key,
            });
        }
        if keys.is_empty() {
            return Err("no keys given".into());
        }
        Ok(Self { keys })
    }

    /// A keyring of one given key (a key derived for one purpose, not configured).
    pub fn single(id: &str, key: &[u8; 32]) -> Self {
        Self {
            keys: vec![Key {
                id: id.to_owned(),
                cipher: Aes256Gcm::new(key.into()),
                mac_key: hmac_sha256(key, &[MAC_KEY_LABEL]).unwrap_or_default(),
            }],
        }
    }

    /// A keyring with one fresh random key (tests, and development defaults).
    pub fn generate(id: &str) -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let encoded = format!("{id}:{}", STANDARD.encode(bytes));
        // A freshly generated 32-byte key with a valid id always parses.
        Self::parse(&encoded).unwrap_or_else(|_| Self { keys: Vec::new() })
    }

    /// The id of the key that encrypts.
    pub fn current_key_id(&self) -> &str {
        self.keys.first().map(|k| k.id.as_str()).unwrap_or_default()
    }

    /// Seals `plaintext`, bound to `context` (e.g. the row id) so a ciphertext copied to another
    /// row does not decrypt. Layout: version, key id length, key id, nonce, ciphertext+tag.
    pub fn encrypt(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = self.keys.first().ok_or(CryptoError::Encrypt)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let id = key.id.as_bytes();
        let mut out = Vec::with_capacity(2 + id.len() + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.push(u8::try_from(id.len()).map_err(|_| CryptoError::Encrypt)?);
        out.extend_from_slice(id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// A keyed digest (HMAC-SHA256) of `message` for `purpose` (e.g. "recovery code"), under the
    /// current key; returns that key's id, to be stored with the digest so it can be checked
    /// again after the key is no longer first.
    pub fn keyed_hash(&self, purpose: &str, message: &[u8]) -> Result<(String, Vec<u8>), CryptoError> {
        let key = self.keys.first().ok_or(CryptoError::Encrypt)?;
        let digest = hmac_sha256(&key.mac_key, &[purpose.as_bytes(), &[0], message]).ok_or(CryptoError::Encrypt)?;
        Ok((key.id.clone(), digest))
    }

    /// [`Keyring::keyed_hash`] under the key `key_id`.
    pub fn keyed_hash_with(&self, key_id: &str, purpose: &str, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = self
            .keys
            .iter()
            .find(|k| k.id == key_id)
            .ok_or_else(|| CryptoError::NoSuchKey(key_id.to_owned()))?;
        hmac_sha256(&key.mac_key, &[purpose.as_bytes(), &[0], message]).ok_or(CryptoError::Encrypt)
    }

    pub fn decrypt(&self, ciphertext: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let id = key_id_of(ciphertext)?;
        let rest = &ciphertext[2 + id.len()..];
        if rest.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Malformed);
        }
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))?;
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Malformed)?;
        key.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Undecryptable)
    }
}

/// HMAC-SHA256 of the concatenated `parts` under `key`; `None` only if the key is unusable (HMAC
/// takes keys of any length).
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Option<Vec<u8>> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac.finalize().into_bytes().to_vec())
}

/// The id of the key that sealed `ciphertext`.
pub fn key_id_of(ciphertext: &[u8]) -> Result<&str, CryptoError> {
    let (&version, rest) = ciphertext.split_first().ok_or(CryptoError::Malformed)?;
    if version != VERSION {
        return Err(CryptoError::Malformed);
    }
    let (&len, rest) = rest.split_first().ok_or(CryptoError::Malformed)?;
    let id = rest.get(..usize::from(len)).ok_or(CryptoError::Malformed)?;
    std::str::from_utf8(id).map_err(|_| CryptoError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> String {
        STANDARD.encode([byte; 32])
    }

    #[test]
    fn the_first_key_encrypts_and_every_key_decrypts() {
        let old = Keyring::parse(&format!("k1:{}", key(1))).unwrap();
        let sealed_by_old = old.encrypt(b"JBSWY3DPEHPK3PXP", b"row-1").unwrap();
        assert_eq!(key_id_of(&sealed_by_old), Ok("k1"));

        let rotated = Keyring::parse(&format!("k2:{}, k1:{}", key(2), key(1))).unwrap();
        assert_eq!(rotated.current_key_id(), "k2");
        assert_eq!(rotated.decrypt(&sealed_by_old, b"row-1").unwrap(), b"JBSWY3DPEHPK3PXP");
        let sealed_by_new = rotated.encrypt(b"secret", b"row-2").unwrap();
        assert_eq!(key_id_of(&sealed_by_new), Ok("k2"));
        assert_eq!(
            old.decrypt(&sealed_by_new, b"row-2"),
            Err(CryptoError::UnknownKey("k2".into()))
        );
    }

    #[test]
    fn keyed_hashes_name_their_key_and_check_again_after_rotation() {
        let old = Keyring::parse(&format!("k1:{}", key(1))).unwrap();
        let (id, digest) = old.keyed_hash("recovery code", b"abcd-efgh").unwrap();
        assert_eq!(id, "k1");
        assert_eq!(digest.len(), 32);
        // Not a plain digest: another keyring (the same secret, another key) hashes differently.
        let other = Keyring::parse(&format!("k1:{}", key(3))).unwrap();
        assert_ne!(other.keyed_hash("recovery code", b"abcd-efgh").unwrap().1, digest);
        // Purposes are kept apart.
        assert_ne!(old.keyed_hash("app password", b"abcd-efgh").unwrap().1, digest);

        let rotated = Keyring::parse(&format!("k2:{}, k1:{}", key(2), key(1))).unwrap();
        assert_eq!(
            rotated.keyed_hash_with("k1", "recovery code", b"abcd-efgh").unwrap(),
            digest
        );
        assert_eq!(rotated.keyed_hash("recovery code", b"abcd-efgh").unwrap().0, "k2");
        assert_eq!(
            old.keyed_hash_with("k2", "recovery code", b"x"),
            Err(CryptoError::NoSuchKey("k2".into()))
        );
    }

    #[test]
    fn a_ciphertext_moved_to_another_row_or_tampered_with_does_not_decrypt() {
        let ring = Keyring::generate("k1");
        let mut sealed = ring.encrypt(b"secret", b"row-1").unwrap();
        assert_eq!(ring.decrypt(&sealed, b"row-2"), Err(CryptoError::Undecryptable));
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(ring.decrypt(&sealed, b"row-1"), Err(CryptoError::Undecryptable));
        assert_eq!(ring.decrypt(b"", b"row-1"), Err(CryptoError::Malformed));
    }

    #[test]
    fn bad_configuration_is_named_without_echoing_keys() {
        let missing = Keyring::from_env(&Env::default()).unwrap_err();
        assert_eq!(missing.variable, KEYS_VARIABLE);
        assert!(missing.to_string().contains("is required"), "{missing}");
        let short = Keyring::from_env(&Env::from_pairs([(
            KEYS_VARIABLE,
            format!("k1:{}", STANDARD.encode([7u8; 16])),
        )]))
        .unwrap_err();
        assert_eq!(short.reason, "key \"k1\" must be 32 bytes (AES-256), got 16");
        assert_eq!(Keyring::parse("k1").unwrap_err(), "entry 1 must be id:<base64 key>");
        assert_eq!(
            Keyring::parse(&format!("k1:{},k1:{}", key(1), key(2))).unwrap_err(),
            "key id \"k1\" appears twice"
        );
        assert_eq!(Keyring::parse("k1:%%%").unwrap_err(), "key \"k1\" is not valid base64");
    }
}
