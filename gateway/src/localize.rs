//! Answers in the person's language: the layer that writes a problem answered below it in the
//! language of the person it answers (`crate::problem::localize` with `crate::i18n`'s choice),
//! and, for the sentences a route words itself, the language `Accept-Language` asks for
//! ([`AcceptLanguage`]) and the headers that say it ([`InLanguage`]).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::i18n::{self, Catalog};
use crate::problem::{Problem, localize};

/// The catalog `Accept-Language` chooses (English when it asks for none we have), for the
/// sentences a route words itself. Only the header decides: asking identity for the profile's
/// language would cost a call on every request of benchmarked paths, and the portal sends the
/// language the person chose.
pub struct AcceptLanguage(pub &'static Catalog);

impl<S: Send + Sync> FromRequestParts<S> for AcceptLanguage {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let accept_language = parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        Ok(Self(i18n::catalogs().choose(None, accept_language)))
    }
}

/// An answer written in a catalog's language: `Content-Language` names it, and `Vary` tells
/// caches that `Accept-Language` chose it.
pub struct InLanguage<T>(pub &'static Catalog, pub T);

impl<T: IntoResponse> IntoResponse for InLanguage<T> {
    fn into_response(self) -> Response {
        let InLanguage(catalog, answer) = self;
        let mut response = answer.into_response();
        say_language(response.headers_mut(), catalog);
        response
    }
}

/// `Content-Language: <the catalog's>` and `Vary: accept-language` (beside any other `Vary`).
fn say_language(headers: &mut HeaderMap, catalog: &Catalog) {
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(catalog.language()));
    headers.append(header::VARY, HeaderValue::from_static("accept-language"));
}

/// Writes a problem answered below this layer in the language of the person it answers: the
/// profile's `preferredLanguage` when the request carries an access token that identity
/// accepts (asked only when there is a problem to answer), else `Accept-Language`, else
/// English. Placed inside the session layer, it sees the token a cookie carries.
pub async fn localize_problems(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let accept_language = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let authorization = request.headers().get(header::AUTHORIZATION).cloned();
    let mut response = next.run(request).await;
    let Some(problem) = response.extensions_mut().remove::<Problem>() else {
        return response;
    };
    let preferred_language = match authorization {
        Some(token) if problem.status != StatusCode::UNAUTHORIZED.as_u16() => preferred_language(&state, token).await,
        _ => None,
    };
    let catalog = i18n::catalogs().choose(preferred_language.as_deref(), accept_language.as_deref());
    // Only the body changes: status and headers (Retry-After, cookies being cleared) stay.
    let (mut parts, body) = response.into_parts();
    let body = if catalog.is_fallback() {
        body
    } else {
        match serde_json::to_vec(&localize(problem, catalog)) {
            Ok(json) => {
                parts.headers.remove(header::CONTENT_LENGTH);
                axum::body::Body::from(json)
            }
            Err(_) => body,
        }
    };
    say_language(&mut parts.headers, catalog);
    Response::from_parts(parts, body)
}

/// How long a problem waits for the person's language before it is answered without it.
const LANGUAGE_LOOKUP_DEADLINE: Duration = Duration::from_millis(500);

async fn preferred_language(state: &crate::state::AppState, authorization: HeaderValue) -> Option<String> {
    let mut request = tonic::Request::new(myaccount_proto::identity::v1::GetMyProfileRequest {});
    let value = authorization.to_str().ok()?.parse().ok()?;
    request.metadata_mut().insert("authorization", value);
    request.set_timeout(LANGUAGE_LOOKUP_DEADLINE);
    let mut identity = state.identity();
    let call = identity.get_my_profile(request);
    match tokio::time::timeout(LANGUAGE_LOOKUP_DEADLINE, call).await {
        Ok(Ok(profile)) => Some(profile.into_inner().preferred_language).filter(|l| !l.is_empty()),
        _ => None,
    }
}
