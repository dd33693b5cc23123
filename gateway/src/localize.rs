//! Problems in the person's language: the layer that writes a problem answered below it in the
//! language of the person it answers (`crate::problem::localize` with `crate::i18n`'s choice).

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::i18n;
use crate::problem::{Problem, localize};

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
    parts
        .headers
        .insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(catalog.language()));
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-language"));
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
