//! The web UI: the files of `web/` at the repository root, embedded in the binary at build time
//! (so the binary needs nothing beside it), served at `/`. Any other path outside `/api`
//! answers `index.html`, so the single-page app's own routes survive a reload.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rust_embed::RustEmbed;

use crate::problem::Problem;

/// Test and tooling folders of the UI project are not part of the site.
#[derive(RustEmbed)]
#[folder = "../web/"]
#[exclude = "tests/*"]
#[exclude = "node_modules/*"]
#[exclude = "*/node_modules/*"]
#[exclude = "package.json"]
#[exclude = "package-lock.json"]
#[exclude = "*.md"]
struct Assets;

const INDEX: &str = "index.html";

/// The fallback of the whole router: API paths that matched nothing are problems; other GET
/// and HEAD requests get a file, or the app's `index.html`.
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") || !matches!(method, Method::GET | Method::HEAD) {
        return Problem::not_found("no such endpoint").into_response();
    }
    let wanted = path.trim_start_matches('/');
    let name = if wanted.is_empty() { INDEX } else { wanted };
    if let Some(response) = file(name, &headers) {
        return response;
    }
    // A missing file (it has an extension) is a 404; anything else is a route of the app.
    let last = wanted.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        return Problem::not_found("no such file").into_response();
    }
    file(INDEX, &headers).unwrap_or_else(|| Problem::not_found("the web UI is not built in").into_response())
}

fn file(name: &str, request: &HeaderMap) -> Option<Response> {
    let asset = Assets::get(name)?;
    let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(asset.metadata.sha256_hash()));
    let mime = asset.metadata.mimetype();
    let content_type = if mime.starts_with("text/") || mime == "application/javascript" {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    // Names carry no content hash, so browsers revalidate every file; the ETag makes that a 304.
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(asset.data.into_owned()))
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::try_from(etag) {
        headers.insert(header::ETAG, v);
    }
    if !fresh && let Ok(v) = HeaderValue::try_from(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_is_built_in() {
        assert!(Assets::get(INDEX).is_some(), "web/index.html is embedded");
        assert!(
            Assets::iter().all(|name| !name.starts_with("tests/") && !name.contains("node_modules")),
            "test tooling is not served"
        );
    }
}
