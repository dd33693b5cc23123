//! Rate limits of the sign-in endpoints, per client IP and per account, in memory (per gateway
//! replica). Identity's own throttle (exponential backoff after failed passwords) stays the
//! real guard against guessing; these limits stop floods before they reach it.
//!
//! Keyed token buckets (GCRA, the `governor` crate) checked in the handlers, not a tower layer:
//! the account is named in the JSON body (or the token), which a layer does not see.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::problem::Problem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Requests per `period` from one IP to one endpoint; 0 turns the limit off.
    pub per_ip: u32,
    /// Requests per `period` naming one account at one endpoint; 0 turns the limit off.
    pub per_account: u32,
    pub period: Duration,
}

impl RateLimitSettings {
    /// No limits (tests that sign in many times from one address).
    pub const OFF: Self = Self {
        per_ip: 0,
        per_account: 0,
        period: Duration::from_secs(60),
    };
}

/// The limited endpoints; each has its own buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthEndpoint {
    SignIn,
    /// A passwordless sign-in's start and its assertion: no account is named, only the address.
    Passkey,
    StartMfa,
    CompleteMfa,
    Reauthenticate,
    Refresh,
    NewPassword,
    /// Every step of a password reset: the start names the account, the later steps the flow.
    PasswordReset,
}

type Limiter = DefaultKeyedRateLimiter<(AuthEndpoint, String)>;

/// Buckets are forgotten once full again; this many keys trigger a sweep.
const SWEEP_AT: usize = 10_000;

/// Longest key kept: names longer than any valid account name are cut, so a flood of huge
/// names cannot grow memory.
const MAX_KEY_CHARS: usize = 320;

pub struct AuthLimits {
    per_ip: Option<Limiter>,
    per_account: Option<Limiter>,
}

impl std::fmt::Debug for AuthLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLimits")
            .field("per_ip", &self.per_ip.is_some())
            .field("per_account", &self.per_account.is_some())
            .finish()
    }
}

fn limiter(count: u32, period: Duration) -> Option<Limiter> {
    let burst = NonZeroU32::new(count)?;
    let quota = Quota::with_period(period / count)?.allow_burst(burst);
    Some(Limiter::keyed(quota))
}

impl AuthLimits {
    pub fn new(settings: &RateLimitSettings) -> Self {
        Self {
            per_ip: limiter(settings.per_ip, settings.period),
            per_account: limiter(settings.per_account, settings.period),
        }
    }

    /// Takes one request from the IP's bucket and (when the request names one) the account's;
    /// 429 with the wait when either is empty. Account names are compared case-insensitively.
    pub fn check(&self, endpoint: AuthEndpoint, ip: &str, account: Option<&str>) -> Result<(), Problem> {
        if let (Some(limiter), Some(account)) = (&self.per_account, account) {
            let key: String = account.trim().to_lowercase().chars().take(MAX_KEY_CHARS).collect();
            take(
                limiter,
                (endpoint, key),
                "too many attempts for this account; wait and try again",
            )?;
        }
        if let Some(limiter) = &self.per_ip {
            take(
                limiter,
                (endpoint, ip.to_owned()),
                "too many requests from your address; wait and try again",
            )?;
        }
        Ok(())
    }
}

fn take(limiter: &Limiter, key: (AuthEndpoint, String), detail: &str) -> Result<(), Problem> {
    if limiter.len() > SWEEP_AT {
        limiter.retain_recent();
    }
    limiter.check_key(&key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        Problem::too_many_requests(detail, wait)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_ip: u32, per_account: u32) -> AuthLimits {
        AuthLimits::new(&RateLimitSettings {
            per_ip,
            per_account,
            period: Duration::from_secs(60),
        })
    }

    #[test]
    fn an_account_runs_out_whatever_the_address_and_others_do_not() {
        let limits = limits(100, 2);
        for ip in ["192.0.2.1", "192.0.2.2"] {
            limits
                .check(AuthEndpoint::SignIn, ip, Some("Adele@Contoso.example"))
                .expect("within the limit");
        }
        let refused = limits
            .check(AuthEndpoint::SignIn, "192.0.2.3", Some("adele@contoso.example "))
            .expect_err("the third attempt");
        assert_eq!(refused.status, 429);
        limits
            .check(AuthEndpoint::SignIn, "192.0.2.3", Some("megan@contoso.example"))
            .expect("another account");
        limits
            .check(AuthEndpoint::Refresh, "192.0.2.3", Some("adele@contoso.example"))
            .expect("another endpoint");
    }

    #[test]
    fn an_address_runs_out_and_others_do_not() {
        let limits = limits(2, 0);
        for n in 0..2 {
            limits
                .check(AuthEndpoint::Refresh, "198.51.100.7", Some(&format!("user{n}")))
                .expect("within the limit");
        }
        assert!(limits.check(AuthEndpoint::Refresh, "198.51.100.7", None).is_err());
        assert!(limits.check(AuthEndpoint::Refresh, "198.51.100.8", None).is_ok());
    }

    #[test]
    fn zero_means_off() {
        let limits = limits(0, 0);
        for _ in 0..1000 {
            limits
                .check(AuthEndpoint::SignIn, "192.0.2.1", Some("a"))
                .expect("no limit");
        }
    }
}
