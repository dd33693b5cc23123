//! Browser sessions: the token pair sealed in an `HttpOnly` cookie, so page scripts never hold a
//! token, with a double-submit CSRF token for every state-changing request.
//!
//! - `POST /auth/sign-in`, `/auth/mfa`, `/auth/reauthenticate` and `/auth/new-password` sent
//!   with `X-MyAccount-Session: cookie` answer `{"signedIn": true, "expiresIn"}` instead of
//!   tokens and set `myaccount_session` (access and refresh token and the CSRF token, sealed
//!   with AES-256-GCM under the gateway's keyring; `HttpOnly; Secure; SameSite=Strict; Path=/`)
//!   and `myaccount_csrf` (the CSRF token, readable by scripts; `Secure; SameSite=Strict;
//!   Path=/`).
//! - [`authenticate`] runs in front of every authenticated route: a request without an
//!   `Authorization` header but with the cookie is sent on with the sealed access token,
//!   refreshed first (and the cookie re-set) when it has expired. A cookie that does not open,
//!   or whose refresh is refused, is 401 and both cookies are cleared.
//! - POST, PUT, PATCH and DELETE authenticated by the cookie need `X-CSRF-Token` equal to the
//!   `myaccount_csrf` cookie (and to the token sealed with the session), else 403
//!   `csrf-token-invalid`. Bearer requests need none: a browser never adds that header itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use myaccount_proto::identity::v1 as pb;
use platform::crypto::Keyring;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::AppState;
use crate::extract::Client;
use crate::json::{SignedIn, Tokens};
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

/// What an endpoint that issues tokens answers: tokens, or (cookie mode) that the cookies are set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum TokenAnswer {
    Tokens(Tokens),
    SignedIn(SignedIn),
}

/// `GET /auth/session`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatus {
    pub signed_in: bool,
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
    async fn refresh(
        &self,
        state: &AppState,
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
                state
                    .identity()
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

/// The answer that issues tokens: in the body, or as the two cookies.
pub fn issue(state: &AppState, mode: SessionMode, tokens: pb::TokenSet) -> Result<Response, Problem> {
    match mode {
        SessionMode::Tokens => Ok(Json(TokenAnswer::Tokens(tokens.into())).into_response()),
        SessionMode::Cookie => {
            let session = BrowserSession {
                access_token: tokens.access_token,
                refresh_token: tokens.refresh_token,
                csrf_token: random_token(),
            };
            let sealed = state.sessions.seal(&session)?;
            let mut response = Json(TokenAnswer::SignedIn(SignedIn {
                signed_in: true,
                expires_in: tokens.expires_in,
            }))
            .into_response();
            let headers = response.headers_mut();
            headers.append(header::SET_COOKIE, session_cookie(&sealed)?);
            headers.append(header::SET_COOKIE, csrf_cookie(&session.csrf_token)?);
            Ok(response)
        }
    }
}

/// 256 random bits, URL-safe.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn cookie_header(value: String) -> Result<HeaderValue, Problem> {
    HeaderValue::try_from(value).map_err(|_| internal("cookie value is not a valid header"))
}

fn session_cookie(sealed: &str) -> Result<HeaderValue, Problem> {
    cookie_header(format!(
        "{SESSION_COOKIE}={sealed}; Path=/; HttpOnly; Secure; SameSite=Strict"
    ))
}

fn csrf_cookie(token: &str) -> Result<HeaderValue, Problem> {
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

/// Claims read without checking the signature: only to decide when to refresh and whose rate
/// limit a request counts against. The services verify every token themselves.
#[derive(Debug, Deserialize)]
pub struct UnverifiedClaims {
    pub exp: i64,
    #[serde(default)]
    pub sub: String,
}

pub fn unverified_claims(token: &str) -> Option<UnverifiedClaims> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn needs_refresh(access_token: &str) -> bool {
    unverified_claims(access_token).is_none_or(|c| c.exp - REFRESH_MARGIN_SECS <= chrono::Utc::now().timestamp())
}

/// Comparison in time independent of where the strings differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn csrf_valid(headers: &HeaderMap, session: &BrowserSession) -> bool {
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    let cookie = cookie(headers, CSRF_COOKIE);
    match (sent, cookie) {
        (Some(sent), Some(cookie)) => same_secret(sent, &cookie) && same_secret(sent, &session.csrf_token),
        _ => false,
    }
}

fn is_state_changing(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
}

/// Why a cookie did not give a usable session.
enum SessionError {
    /// The session is over (unreadable cookie, refresh refused): 401 and the cookies go.
    Ended,
    /// The session ended by itself (idle timeout, maximum lifetime): identity's 401
    /// `session-expired`, whose reason the portal puts in words, and the cookies go.
    Expired(Problem),
    /// Identity could not be asked; the cookie may still be good.
    Failed(Problem),
}

impl SessionError {
    fn into_response(self) -> Response {
        let problem = match self {
            SessionError::Failed(problem) => return problem.into_response(),
            SessionError::Expired(problem) => problem,
            SessionError::Ended => Problem::unauthenticated("your session has ended; sign in again"),
        };
        let mut response = problem.into_response();
        clear_cookies(response.headers_mut());
        response
    }
}

/// The session in the cookie with a usable access token, and the cookie value to set when it
/// had to be refreshed.
async fn usable(
    state: &AppState,
    parts: &mut Parts,
    mut session: BrowserSession,
) -> Result<(BrowserSession, Option<String>), SessionError> {
    if !needs_refresh(&session.access_token) {
        return Ok((session, None));
    }
    let Client(client) = Client::from_request_parts(parts, state)
        .await
        .map_err(SessionError::Failed)?;
    match state.sessions.refresh(state, &session.refresh_token, client).await {
        Ok(tokens) => {
            session.access_token = tokens.access_token;
            session.refresh_token = tokens.refresh_token;
            let sealed = state.sessions.seal(&session).map_err(SessionError::Failed)?;
            Ok((session, Some(sealed)))
        }
        Err(problem) if problem.status().is_server_error() => Err(SessionError::Failed(problem)),
        Err(problem) if problem.kind.ends_with(":session-expired") => Err(SessionError::Expired(problem)),
        Err(_) => Err(SessionError::Ended),
    }
}

/// Requests after which this session no longer exists, so its cookies are cleared.
fn ends_session(method: &Method, path: &str) -> bool {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    matches!(
        (method.as_str(), path),
        ("POST", "/auth/sign-out") | ("POST", "/me/sessions/revoke-all") | ("DELETE", "/me")
    )
}

fn sets_session_cookie(response: &Response) -> bool {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(SESSION_COOKIE.as_bytes()))
}

/// Middleware of the authenticated routes: a request that carries the session cookie instead
/// of an `Authorization` header is sent on with the sealed access token.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.headers().contains_key(header::AUTHORIZATION) {
        return next.run(request).await;
    }
    let Some(value) = cookie(request.headers(), SESSION_COOKIE) else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    let Some(session) = state.sessions.open(&value) else {
        return SessionError::Ended.into_response();
    };
    // Checked before any refresh: a forged request gets nothing done, not even that.
    if is_state_changing(&parts.method) && !csrf_valid(&parts.headers, &session) {
        return Problem::new(
            StatusCode::FORBIDDEN,
            "csrf-token-invalid",
            "send the X-CSRF-Token header with the value of the myaccount_csrf cookie",
        )
        .into_response();
    }
    let (session, refreshed) = match usable(&state, &mut parts, session).await {
        Ok(usable) => usable,
        Err(e) => return e.into_response(),
    };
    let bearer = match HeaderValue::try_from(format!("Bearer {}", session.access_token)) {
        Ok(v) => v,
        Err(_) => return SessionError::Ended.into_response(),
    };
    parts.headers.insert(header::AUTHORIZATION, bearer);
    let method = parts.method.clone();
    let path = parts.uri.path().to_owned();
    let mut response = next.run(Request::from_parts(parts, body)).await;

    let status = response.status();
    let ended = ends_session(&method, &path)
        && (status.is_success() || (status == StatusCode::UNAUTHORIZED && path.ends_with("/auth/sign-out")));
    if ended {
        clear_cookies(response.headers_mut());
    } else if let Some(sealed) = refreshed {
        // A handler that issued a new session (step-up) has set its own cookie already.
        if !sets_session_cookie(&response) {
            match session_cookie(&sealed) {
                Ok(v) => {
                    response.headers_mut().append(header::SET_COOKIE, v);
                }
                Err(problem) => return problem.into_response(),
            }
        }
    }
    response
}

/// Whether this request has a live session: its bearer token, or the session cookie (refreshed
/// when due), checked with identity, which knows about sessions ended elsewhere.
pub async fn status(state: &AppState, mut parts: Parts) -> Result<Response, Problem> {
    let answer = |signed_in: bool| Json(SessionStatus { signed_in }).into_response();
    if let Some(authorization) = parts.headers.get(header::AUTHORIZATION) {
        let token = platform::auth::bearer_token(Some(authorization))
            .map(str::to_owned)
            .map_err(|e| Problem::unauthenticated(e.to_string()))?;
        return Ok(answer(alive(state, &token).await?));
    }
    let Some(value) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(answer(false));
    };
    let signed_out = || {
        let mut response = answer(false);
        clear_cookies(response.headers_mut());
        response
    };
    let Some(session) = state.sessions.open(&value) else {
        return Ok(signed_out());
    };
    let (session, refreshed) = match usable(state, &mut parts, session).await {
        Ok(usable) => usable,
        Err(SessionError::Ended | SessionError::Expired(_)) => return Ok(signed_out()),
        Err(SessionError::Failed(problem)) => return Err(problem),
    };
    if !alive(state, &session.access_token).await? {
        return Ok(signed_out());
    }
    let mut response = answer(true);
    if let Some(sealed) = refreshed {
        response
            .headers_mut()
            .append(header::SET_COOKIE, session_cookie(&sealed)?);
    }
    Ok(response)
}

/// Identity checks the session of every call; reading the profile is the cheapest.
async fn alive(state: &AppState, access_token: &str) -> Result<bool, Problem> {
    let request = crate::extract::Bearer(access_token.to_owned()).request(pb::GetMyProfileRequest {})?;
    match state.identity().get_my_profile(request).await {
        Ok(_) => Ok(true),
        Err(status) if status.code() == tonic::Code::Unauthenticated => Ok(false),
        Err(status) => Err(status.into()),
    }
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

    #[test]
    fn session_ending_requests() {
        assert!(ends_session(&Method::POST, "/auth/sign-out"));
        assert!(ends_session(&Method::POST, "/api/v1/me/sessions/revoke-all"));
        assert!(ends_session(&Method::DELETE, "/me"));
        assert!(!ends_session(&Method::GET, "/me"));
        assert!(!ends_session(&Method::POST, "/me/sessions/revoke-others"));
    }
}
