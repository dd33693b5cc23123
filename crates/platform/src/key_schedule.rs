//! Signing keys rotated without a gap, whatever they sign (identity's access tokens, signals'
//! security event tokens): each key has a schedule, signing from `activates_at` until
//! `retires_at`, and a rotation publishes the new key a lead time before it signs, so every
//! replica (which reloads the keys periodically) and every verifier (which caches the published
//! keys) knows it by then. The keys before it stop signing at that moment and stay published
//! for a tail the caller sizes to what they signed.

use chrono::{DateTime, Utc};

/// One signing key and when it signs: from `activates_at` until `retires_at`.
#[derive(Debug, Clone)]
pub struct ScheduledKey<K> {
    pub key: K,
    pub activates_at: DateTime<Utc>,
    pub retires_at: Option<DateTime<Utc>>,
}

impl<K> ScheduledKey<K> {
    pub fn signs_at(&self, now: DateTime<Utc>) -> bool {
        self.activates_at <= now && self.retires_at.is_none_or(|r| r > now)
    }
}

/// The keys of one signer, newest activation first.
#[derive(Debug, Clone)]
pub struct KeySchedule<K> {
    keys: Vec<ScheduledKey<K>>,
}

impl<K> KeySchedule<K> {
    pub fn new(mut keys: Vec<ScheduledKey<K>>) -> Self {
        keys.sort_by_key(|k| std::cmp::Reverse(k.activates_at));
        Self { keys }
    }

    /// The key that signs at `now`: the newest one whose time has come and not passed. Should an
    /// operator have retired every key, the newest that has begun keeps signing rather than
    /// nothing being signed at all.
    pub fn signing(&self, now: DateTime<Utc>) -> Option<&K> {
        self.keys
            .iter()
            .find(|k| k.signs_at(now))
            .or_else(|| self.keys.iter().find(|k| k.activates_at <= now))
            .map(|k| &k.key)
    }

    /// Whether some key has begun signing (otherwise the first one is still to be made).
    pub fn has_begun(&self, now: DateTime<Utc>) -> bool {
        self.keys.iter().any(|k| k.activates_at <= now)
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.keys.iter().map(|k| &k.key)
    }
}

/// How long before it signs a new key is published: two reload periods, so every replica has
/// reloaded at least once (and publishes and knows the key) before any replica signs with it,
/// plus how long a verifier may keep the published keys before it fetches them again.
pub fn publication_lead(reload: std::time::Duration, verifier_cache: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(reload.saturating_mul(2).saturating_add(verifier_cache)).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn the_new_key_signs_from_its_activation_and_the_old_one_until_then() {
        let schedule = KeySchedule::new(vec![
            ScheduledKey {
                key: "old",
                activates_at: at(0),
                retires_at: Some(at(100)),
            },
            ScheduledKey {
                key: "new",
                activates_at: at(100),
                retires_at: None,
            },
        ]);
        assert_eq!(schedule.signing(at(50)), Some(&"old"));
        assert_eq!(schedule.signing(at(99)), Some(&"old"));
        assert_eq!(schedule.signing(at(100)), Some(&"new"));
        assert_eq!(schedule.keys().count(), 2);
        assert!(schedule.has_begun(at(0)));
        assert!(!schedule.has_begun(at(-1)));
        assert_eq!(schedule.signing(at(-1)), None);
    }

    #[test]
    fn a_retired_last_key_keeps_signing_rather_than_none() {
        let schedule = KeySchedule::new(vec![ScheduledKey {
            key: "only",
            activates_at: at(0),
            retires_at: Some(at(10)),
        }]);
        assert_eq!(schedule.signing(at(20)), Some(&"only"));
    }

    #[test]
    fn the_lead_covers_two_reloads_and_the_verifiers_cache() {
        assert_eq!(
            publication_lead(std::time::Duration::from_secs(60), std::time::Duration::from_secs(5)),
            chrono::Duration::seconds(125)
        );
    }
}
