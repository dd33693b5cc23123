//! Password hashing: argon2id, run off the async runtime, at most one hash per core at a time.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::IdentityError;

/// argon2id with the OWASP-recommended parameters (19 MiB, 2 iterations, 1 lane), off the
/// async runtime.
pub async fn hash_password(password: String) -> Result<String, IdentityError> {
    on_a_hashing_core(move || {
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
    on_a_hashing_core(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| IdentityError::Hashing(e.to_string()))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
}

/// Runs a password hash on a blocking thread, at most one per core at a time: each takes a core
/// and 19 MiB, so dozens at once (64 people signing in) only take turns on the same cores and
/// evict each other's memory from the caches; waiting for a core is cheaper.
async fn on_a_hashing_core<T: Send + 'static>(
    hash: impl FnOnce() -> Result<T, IdentityError> + Send + 'static,
) -> Result<T, IdentityError> {
    static CORES: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
    });
    let _core = CORES
        .acquire()
        .await
        .map_err(|e| IdentityError::Hashing(e.to_string()))?;
    tokio::task::spawn_blocking(hash)
        .await
        .map_err(|e| IdentityError::Hashing(e.to_string()))?
}
