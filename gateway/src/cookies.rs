//! The browser session cookie: sealing and opening it, the CSRF double-submit token, and one
//! shared refresh per refresh token. What requests do with it is [`crate::session`]'s.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use myaccount_proto::identity::v1 as pb;
use myaccount_proto::identity::v1::identity_service_client::IdentityServiceClient;
use platform::crypto::Keyring;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::clients::ServiceChannel;
use crate::problem::Problem;

pub const SESSION_COOKIE: &str = "myaccount_session";
pub const CSRF_COOKIE: &str = "myaccount_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const MODE_HEADER: &str = "x-myaccount-session";

/// Binds the sealed value to its purpose: nothing else sealed with the same keys opens as a
/// session.
const SEAL_CONTEXT: &[u8] = b"myaccount_session v1";

/// Refresh this long before the access token expires, so it does not expire on its way.
const REFRESH_MARGIN_SECS: i64 = 5;

/// How long the answer to one refresh is shared: requests that a page sent at once with the
/// same expired cookie all get the same new tokens instead of spending the refresh token twice
/// (which identity treats as theft and answers by ending the session).
const REFRESH_SHARED_FOR: Duration = Duration::from_secs(120);

/// What the session cookie holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BrowserSession {
    #[serde(rename = "a")]
    pub access_token: String,
    #[serde(rename = "r")]
    pub refresh_token: String,
    #[serde(rename = "c")]
    pub csrf_token: String,
}

type SharedRefresh = Arc<OnceCell<Result<pb::TokenSet, Problem>>>;

/// Seals and opens session cookies, and shares concurrent refreshes.
pub struct BrowserSessions {
    keyring: Keyring,
    refreshes: Mutex<HashMap<String, (Instant, SharedRefresh)>>,
}

impl std::fmt::Debug for BrowserSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserSessions")
            .field("keyring", &self.keyring)
            .finish_non_exhaustive()
    }
}

/// How a client wants tokens: in the body (API clients) or in cookies (the web UI), chosen by
/// `X-MyAccount-Session: cookie`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionMode {
    Tokens,
    Cookie,
}

impl<S: Send + Sync> FromRequestParts<S> for SessionMode {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get(MODE_HEADER).map(HeaderValue::to_str) {
            None => Ok(Self::Tokens),
            Some(Ok(v)) if v.trim().eq_ignore_ascii_case("cookie") => Ok(Self::Cookie),
            Some(_) => Err(Problem::bad_request(
                "X-MyAccount-Session must be \"cookie\" (or absent, for tokens in the body)",
            )),
        }
    }
}

impl BrowserSessions {
    pub fn new(keyring: Keyring) -> Self {
        Self {
            keyring,
            refreshes: Mutex::new(HashMap::new()),
        }
    }

    pub fn seal(&self, session: &BrowserSession) -> Result<String, Problem> {
        let plain = serde_json::to_vec(session).map_err(|_| internal("cannot encode the session"))?;
        let sealed = self
            .keyring
            .encrypt(&plain, SEAL_CONTEXT)
            .map_err(|_| internal("cannot seal the session"))?;
        Ok(URL_SAFE_NO_PAD.encode(sealed))
    }

    /// `None` for anything this gateway did not seal (another key, tampering, garbage).
    pub fn open(&self, value: &str) -> Option<BrowserSession> {
        let sealed = URL_SAFE_NO_PAD.decode(value).ok()?;
        let plain = self.keyring.decrypt(&sealed, SEAL_CONTEXT).ok()?;
        serde_json::from_slice(&plain).ok()
    }

    /// Refreshes with `refresh_token`; concurrent and repeated calls with the same token within
    /// [`REFRESH_SHARED_FOR`] share one call to identity. Failures on identity's side are not
    /// shared, so the next request tries again.
    pub async fn refresh(
        &self,
        mut identity: IdentityServiceClient<ServiceChannel>,
        refresh_token: &str,
        client: pb::ClientContext,
    ) -> Result<pb::TokenSet, Problem> {
        let cell = {
            let mut refreshes = self.refreshes.lock().unwrap_or_else(PoisonError::into_inner);
            refreshes.retain(|_, (at, _)| at.elapsed() < REFRESH_SHARED_FOR);
            refreshes
                .entry(refresh_token.to_owned())
                .or_insert_with(|| (Instant::now(), Arc::new(OnceCell::new())))
                .1
                .clone()
        };
        let result = cell
            .get_or_init(|| async {
                identity
                    .refresh_token(pb::RefreshTokenRequest {
                        refresh_token: refresh_token.to_owned(),
                        client: Some(client),
                    })
                    .await
                    .map(tonic::Response::into_inner)
                    .map_err(Problem::from)
            })
            .await
            .clone();
        if result.as_ref().is_err_and(|p| p.status().is_server_error()) {
            let mut refreshes = self.refreshes.lock().unwrap_or_else(PoisonError::into_inner);
            if refreshes
                .get(refresh_token)
                .is_some_and(|(_, shared)| Arc::ptr_eq(shared, &cell))
            {
                refreshes.remove(refresh_token);
            }
        }
        result
    }
}

fn internal(what: &str) -> Problem {
    tracing::error!(what, "browser session");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "something went wrong on our side",
    )
}

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn cookie_header(value: String) -> Result<HeaderValue, Problem> {
    HeaderValue::try_from(value).map_err(|_| internal("cookie value is not a valid header"))
}

pub fn session_cookie(sealed: &str) -> Result<HeaderValue, Problem> {
    cookie_header(format!(
        "{SESSION_COOKIE}={sealed}; Path=/; HttpOnly; Secure; SameSite=Strict"
    ))
}

pub fn csrf_cookie(token: &str) -> Result<HeaderValue, Problem> {
    cookie_header(format!("{CSRF_COOKIE}={token}; Path=/; Secure; SameSite=Strict"))
}

/// Appends the two `Set-Cookie` headers that delete both cookies.
pub fn clear_cookies(headers: &mut HeaderMap) {
    headers.append(
        header::SET_COOKIE,
        HeaderValue::from_static("myaccount_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"),
    );
    headers.append(
        header::SET_COOKIE,
        HeaderValue::from_static("myaccount_csrf=; Path=/; Max-Age=0; Secure; SameSite=Strict"),
    );
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
}

/// Claims read without checking the signature: only to decide when to refresh, whose rate
/// limit a request counts against and (once identity has accepted the token) which
/// organization a session is in. The services verify every token themselves.
#[derive(Debug, Deserialize)]
pub struct UnverifiedClaims {
    pub exp: i64,
    #[serde(default)]
    pub sub: String,
    /// The organization the session acts in: the home one, or a guest one signed in to.
    #[serde(default)]
    pub org: Option<String>,
}

pub fn unverified_claims(token: &str) -> Option<UnverifiedClaims> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub fn needs_refresh(access_token: &str) -> bool {
    unverified_claims(access_token).is_none_or(|c| c.exp - REFRESH_MARGIN_SECS <= chrono::Utc::now().timestamp())
}

/// Comparison in time independent of where the strings differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn csrf_valid(headers: &HeaderMap, session: &BrowserSession) -> bool {
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    let cookie = cookie(headers, CSRF_COOKIE);
    match (sent, cookie) {
        (Some(sent), Some(cookie)) => same_secret(sent, &cookie) && same_secret(sent, &session.csrf_token),
        _ => false,
    }
}

pub fn is_state_changing(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions() -> BrowserSessions {
        BrowserSessions::new(Keyring::generate("test"))
    }

    fn session() -> BrowserSession {
        BrowserSession {
            access_token: "a.b.c".into(),
            refresh_token: "refresh".into(),
            csrf_token: random_token(),
        }
    }

    #[test]
    fn a_sealed_session_opens_only_with_the_same_keys_and_untouched() {
        let sessions = sessions();
        let sealed = sessions.seal(&session()).expect("sealed");
        assert_eq!(sessions.open(&sealed).map(|s| s.refresh_token), Some("refresh".into()));
        assert!(!sealed.contains("refresh"), "the tokens are not readable in the cookie");
        assert!(self::sessions().open(&sealed).is_none(), "another gateway key");
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(sessions.open(&String::from_utf8(tampered).expect("ascii")).is_none());
        assert!(sessions.open("not a cookie").is_none());
    }

    #[test]
    fn cookies_are_read_from_every_cookie_header() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; myaccount_csrf=abc"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("myaccount_session=xyz"));
        assert_eq!(cookie(&headers, CSRF_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&headers, "myaccount"), None);
    }

    #[test]
    fn the_csrf_header_must_match_the_cookie_and_the_session() {
        let session = session();
        let mut headers = HeaderMap::new();
        assert!(!csrf_valid(&headers, &session));
        let cookie = HeaderValue::try_from(format!("myaccount_csrf={}", session.csrf_token)).expect("header");
        headers.insert(header::COOKIE, cookie);
        assert!(
            !csrf_valid(&headers, &session),
            "the cookie alone is what a forged request has"
        );
        headers.insert(CSRF_HEADER, HeaderValue::from_static("guess"));
        assert!(!csrf_valid(&headers, &session));
        headers.insert(
            CSRF_HEADER,
            HeaderValue::try_from(session.csrf_token.clone()).expect("header"),
        );
        assert!(csrf_valid(&headers, &session));
        // A cookie and header pair planted by someone else does not match the sealed token.
        let planted = "myaccount_csrf=planted";
        headers.insert(header::COOKIE, HeaderValue::from_static(planted));
        headers.insert(CSRF_HEADER, HeaderValue::from_static("planted"));
        assert!(!csrf_valid(&headers, &session));
    }

    #[test]
    fn an_access_token_is_refreshed_shortly_before_it_expires() {
        let token = |exp: i64| {
            format!(
                "h.{}.s",
                URL_SAFE_NO_PAD.encode(format!("{{\"exp\":{exp},\"sub\":\"u\"}}"))
            )
        };
        let now = chrono::Utc::now().timestamp();
        assert!(!needs_refresh(&token(now + 60)));
        assert!(needs_refresh(&token(now + 2)));
        assert!(needs_refresh(&token(now - 60)));
        assert!(needs_refresh("garbage"));
        assert_eq!(unverified_claims(&token(now)).map(|c| c.sub), Some("u".into()));
    }
}
