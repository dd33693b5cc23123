//! Password hashing: argon2id, run off the async runtime, at most one hash per core at a time,
//! each core's 19 MiB of argon2 memory kept from one verification to the next.

use std::sync::{Mutex, PoisonError};

use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::IdentityError;

/// argon2id with the OWASP-recommended parameters (19 MiB, 2 iterations, 1 lane), off the
/// async runtime.
pub async fn hash_password(password: String) -> Result<String, IdentityError> {
    on_a_hashing_core(move |_| {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| IdentityError::Hashing(e.to_string()))
    })
    .await
}

/// Whether `password` matches the stored argon2 `hash`.
pub async fn verify_password(password: String, hash: String) -> Result<bool, IdentityError> {
    on_a_hashing_core(move |verifier| {
        let parsed = PasswordHash::new(&hash).map_err(|e| IdentityError::Hashing(e.to_string()))?;
        Ok(verifier.verify(password.as_bytes(), &parsed))
    })
    .await
}

/// Verifies passwords against argon2 hashes in memory it keeps: every sign-in verifies one,
/// and allocating (and zeroing) 19 MiB for each cost 6-8% of the verification
/// (`myaccount bench passwords`) and streamed those 19 MiB through the shared cache once more.
#[derive(Default)]
pub struct Verifier {
    memory: Vec<Block>,
}

impl Verifier {
    /// Whether `password` matches `hash`, computed with the hash's own algorithm, version and
    /// parameters, as `argon2::PasswordVerifier` does: a hash it cannot recompute (no salt or
    /// output, unknown algorithm, parameters out of range) matches nothing.
    pub fn verify(&mut self, password: &[u8], hash: &PasswordHash<'_>) -> bool {
        self.matches(password, hash).unwrap_or(false)
    }

    fn matches(&mut self, password: &[u8], hash: &PasswordHash<'_>) -> argon2::password_hash::Result<bool> {
        let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
            return Err(argon2::password_hash::Error::Password);
        };
        let algorithm = Algorithm::try_from(hash.algorithm)?;
        let version = hash.version.map(Version::try_from).transpose()?.unwrap_or_default();
        let argon2 = Argon2::new(algorithm, version, Params::try_from(hash)?);
        let mut salt_bytes = [0u8; 64];
        let salt = salt.decode_b64(&mut salt_bytes)?;
        let blocks = argon2.params().block_count();
        if self.memory.len() < blocks {
            self.memory.resize(blocks, Block::default());
        }
        // Every block is written before it is read, so what the last verification left in
        // the memory does not matter.
        let computed = Output::init_with(expected.len(), |out| {
            argon2
                .hash_password_into_with_memory(password, salt, out, &mut self.memory[..blocks])
                .map_err(Into::into)
        })?;
        // `Output`'s equality is constant-time.
        Ok(computed == expected)
    }

    /// Whether the memory is no larger than identity's own parameters need: a stored hash of
    /// larger parameters gets its memory for one verification only.
    fn worth_keeping(&self) -> bool {
        self.memory.len() <= Params::default().block_count()
    }
}

/// Runs a password hash on a blocking thread, at most one per core at a time: each takes a core
/// and 19 MiB, so dozens at once (64 people signing in) only take turns on the same cores and
/// evict each other's memory from the caches; waiting for a core is cheaper. Each core's turn
/// comes with a verifier, so there are never more verifiers (and their memory) than cores.
async fn on_a_hashing_core<T: Send + 'static>(
    hash: impl FnOnce(&mut Verifier) -> Result<T, IdentityError> + Send + 'static,
) -> Result<T, IdentityError> {
    static CORES: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
    });
    static VERIFIERS: Mutex<Vec<Verifier>> = Mutex::new(Vec::new());
    let _core = CORES
        .acquire()
        .await
        .map_err(|e| IdentityError::Hashing(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let mut verifier = VERIFIERS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        let result = hash(&mut verifier);
        if verifier.worth_keeping() {
            VERIFIERS.lock().unwrap_or_else(PoisonError::into_inner).push(verifier);
        }
        result
    })
    .await
    .map_err(|e| IdentityError::Hashing(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::PasswordVerifier;

    use super::*;

    fn hashed(argon2: &Argon2<'_>, password: &str) -> String {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        argon2.hash_password(password.as_bytes(), &salt).unwrap().to_string()
    }

    /// The verifier and the crate's own verification agree, for identity's parameters and for
    /// hashes stored with others (an older algorithm, version or cost), right and wrong
    /// passwords, with one verifier's memory reused across all of them.
    #[test]
    fn agrees_with_argon2s_own_verification() {
        let stored = [
            hashed(&Argon2::default(), "correct horse"),
            hashed(
                &Argon2::new(
                    Algorithm::Argon2i,
                    Version::V0x10,
                    Params::new(8 * 1024, 3, 1, None).unwrap(),
                ),
                "correct horse",
            ),
            hashed(
                &Argon2::new(
                    Algorithm::Argon2id,
                    Version::V0x13,
                    Params::new(64, 1, 2, Some(16)).unwrap(),
                ),
                "correct horse",
            ),
        ];
        let mut verifier = Verifier::default();
        for hash in &stored {
            let parsed = PasswordHash::new(hash).unwrap();
            for password in ["correct horse", "correct horsE", ""] {
                let by_the_crate = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
                assert_eq!(
                    verifier.verify(password.as_bytes(), &parsed),
                    by_the_crate,
                    "{hash} / {password:?}"
                );
                assert_eq!(by_the_crate, password == "correct horse");
            }
        }
    }

    #[test]
    fn a_hash_without_output_or_with_an_unknown_algorithm_matches_nothing() {
        let mut verifier = Verifier::default();
        let no_output = PasswordHash::new("$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA").unwrap();
        assert!(!verifier.verify(b"anything", &no_output));
        let stored = hashed(&Argon2::default(), "pw");
        let other_algorithm = stored.replacen("$argon2id$", "$scrypt$", 1);
        assert!(!verifier.verify(b"pw", &PasswordHash::new(&other_algorithm).unwrap()));
    }

    #[test]
    fn memory_for_larger_parameters_than_identitys_is_not_kept() {
        let mut verifier = Verifier::default();
        let default_hash = hashed(&Argon2::default(), "pw");
        assert!(verifier.verify(b"pw", &PasswordHash::new(&default_hash).unwrap()));
        assert!(verifier.worth_keeping());
        let larger = Params::new(Params::DEFAULT_M_COST * 2, 1, 1, None).unwrap();
        let larger_hash = hashed(&Argon2::new(Algorithm::Argon2id, Version::V0x13, larger), "pw");
        assert!(verifier.verify(b"pw", &PasswordHash::new(&larger_hash).unwrap()));
        assert!(!verifier.worth_keeping());
    }

    #[tokio::test]
    async fn hashes_verify_through_the_hashing_cores() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        let checks = (0..8).map(|i| {
            let hash = hash.clone();
            let password = if i % 2 == 0 { "correct horse" } else { "wrong" };
            async move { (password, verify_password(password.into(), hash).await.unwrap()) }
        });
        for (password, ok) in futures::future::join_all(checks).await {
            assert_eq!(ok, password == "correct horse");
        }
        assert!(matches!(
            verify_password("pw".into(), "not a hash".into()).await,
            Err(IdentityError::Hashing(_))
        ));
    }
}
