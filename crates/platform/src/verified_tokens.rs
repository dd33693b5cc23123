//! Tokens whose signature this process has already checked, remembered until they expire.
//!
//! Every page of the portal presents the same access token to several services, and each
//! service sees it again on the next page: the Ed25519 check (curve arithmetic and SHA-512) was
//! the largest single cost of a service call. A token is remembered under its exact text, with
//! what its claims said, until its `exp`; a remembered answer is only given while the key that
//! signed it is still published, which the verifier checks before it asks here. Nothing that
//! changes per call is remembered: revocation is still checked on every call.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::Utc;

/// How many tokens a process remembers. Past this, expired ones are dropped, and if the
/// remembered ones are all still live the memory starts over: a flood of distinct valid tokens
/// costs signature checks, never unbounded memory.
pub const REMEMBERED_TOKENS: usize = 16_384;

/// What a verifier concluded from a token's claims, per token, until the token expires.
pub struct VerifiedTokens<T> {
    capacity: usize,
    remembered: Mutex<HashMap<Box<str>, Verified<T>>>,
}

struct Verified<T> {
    value: T,
    /// The token's `exp`, in seconds since the epoch.
    expires_at: i64,
}

impl<T> std::fmt::Debug for VerifiedTokens<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let remembered = self.remembered.lock().map(|r| r.len()).unwrap_or(0);
        f.debug_struct("VerifiedTokens")
            .field("remembered", &remembered)
            .finish()
    }
}

impl<T: Clone> Default for VerifiedTokens<T> {
    fn default() -> Self {
        Self::with_capacity(REMEMBERED_TOKENS)
    }
}

impl<T: Clone> VerifiedTokens<T> {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            remembered: Mutex::new(HashMap::new()),
        }
    }

    /// What `token` was verified as, while it has not expired.
    pub fn get(&self, token: &str) -> Option<T> {
        let remembered = self.remembered.lock().ok()?;
        let verified = remembered.get(token)?;
        (Utc::now().timestamp() < verified.expires_at).then(|| verified.value.clone())
    }

    /// Remembers that `token`, valid until `expires_at` (seconds since the epoch), is `value`.
    pub fn remember(&self, token: &str, expires_at: i64, value: T) {
        let now = Utc::now().timestamp();
        if expires_at <= now {
            return;
        }
        let Ok(mut remembered) = self.remembered.lock() else {
            return;
        };
        if remembered.len() >= self.capacity {
            remembered.retain(|_, v| v.expires_at > now);
            if remembered.len() >= self.capacity {
                remembered.clear();
            }
        }
        remembered.insert(token.into(), Verified { value, expires_at });
    }

    /// Forgets every token: the keys they were checked with changed.
    pub fn forget_all(&self) {
        if let Ok(mut remembered) = self.remembered.lock() {
            remembered.clear();
        }
    }

    pub fn len(&self) -> usize {
        self.remembered.lock().map(|r| r.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_remembered_until_it_expires_and_only_under_its_exact_text() {
        let tokens = VerifiedTokens::default();
        let now = Utc::now().timestamp();
        tokens.remember("a.b.c", now + 60, 7);
        tokens.remember("expired", now - 1, 8);
        assert_eq!(tokens.get("a.b.c"), Some(7));
        assert_eq!(tokens.get("a.b.c "), None);
        assert_eq!(tokens.get("a.b"), None);
        assert_eq!(tokens.get("expired"), None, "an expired token is not even kept");
        assert_eq!(tokens.len(), 1);
    }

    #[test]
    fn a_token_past_its_expiry_is_not_answered_for() {
        let tokens = VerifiedTokens::default();
        let now = Utc::now().timestamp();
        tokens.remember("soon", now + 1, 1);
        let remembered = tokens.remembered.lock().map(|mut r| {
            if let Some(v) = r.get_mut("soon") {
                v.expires_at = now;
            }
        });
        assert!(remembered.is_ok());
        assert_eq!(tokens.get("soon"), None);
    }

    #[test]
    fn memory_is_bounded_dropping_expired_tokens_first() {
        let tokens = VerifiedTokens::with_capacity(3);
        let now = Utc::now().timestamp();
        tokens.remember("one", now + 60, 1);
        tokens.remember("two", now + 60, 2);
        tokens.remember("three", now + 60, 3);
        if let Ok(mut r) = tokens.remembered.lock()
            && let Some(v) = r.get_mut("one")
        {
            v.expires_at = now;
        }
        tokens.remember("four", now + 60, 4);
        assert_eq!(tokens.len(), 3, "the expired one made room");
        assert_eq!(tokens.get("two"), Some(2));
        tokens.remember("five", now + 60, 5);
        assert_eq!(tokens.len(), 1, "all live and full: the memory starts over");
        assert_eq!(tokens.get("five"), Some(5));
        tokens.forget_all();
        assert!(tokens.is_empty());
    }
}
