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

use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use myaccount_proto::identity::v1 as pb;
use serde::Serialize;

use crate::cookies::{
    BrowserSession, SESSION_COOKIE, SessionMode, clear_cookies, cookie, csrf_cookie, csrf_valid, is_state_changing,
    needs_refresh, random_token, session_cookie, unverified_claims,
};
use crate::extract::{Bearer, Client};
use crate::json::{SignedIn, Tokens};
use crate::problem::Problem;
use crate::state::AppState;

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
    /// The organization the session is in (the home one, or the guest one signed in to), so
    /// a page can say so; absent when signed out or when the token names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
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
    match state
        .sessions
        .refresh(state.identity(), &session.refresh_token, client)
        .await
    {
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
    // Read from the token only once identity has accepted it, and so named by identity.
    let answer = |live_token: Option<&str>| {
        Json(SessionStatus {
            signed_in: live_token.is_some(),
            organization_id: live_token
                .and_then(unverified_claims)
                .and_then(|claims| claims.org)
                .filter(|org| !org.is_empty()),
        })
        .into_response()
    };
    if let Some(authorization) = parts.headers.get(header::AUTHORIZATION) {
        let token = platform::auth::bearer_token(Some(authorization))
            .map(str::to_owned)
            .map_err(|e| Problem::unauthenticated(e.to_string()))?;
        let live = alive(state, &token).await?;
        return Ok(answer(live.then_some(token.as_str())));
    }
    let Some(value) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(answer(None));
    };
    let signed_out = || {
        let mut response = answer(None);
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
    let mut response = answer(Some(&session.access_token));
    if let Some(sealed) = refreshed {
        response
            .headers_mut()
            .append(header::SET_COOKIE, session_cookie(&sealed)?);
    }
    Ok(response)
}

/// Identity checks the session of every call; reading the profile is the cheapest.
async fn alive(state: &AppState, access_token: &str) -> Result<bool, Problem> {
    let request = Bearer(access_token.to_owned()).request(pb::GetMyProfileRequest {})?;
    match state.identity().get_my_profile(request).await {
        Ok(_) => Ok(true),
        Err(status) if status.code() == tonic::Code::Unauthenticated => Ok(false),
        Err(status) => Err(status.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ending_requests() {
        assert!(ends_session(&Method::POST, "/auth/sign-out"));
        assert!(ends_session(&Method::POST, "/api/v1/me/sessions/revoke-all"));
        assert!(ends_session(&Method::DELETE, "/me"));
        assert!(!ends_session(&Method::GET, "/me"));
        assert!(!ends_session(&Method::POST, "/me/sessions/revoke-others"));
    }
}
