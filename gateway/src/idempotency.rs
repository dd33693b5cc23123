//! The idempotency key of each API request (draft-ietf-httpapi-idempotency-key-header): the
//! client's `Idempotency-Key` when it sends one, so a request it sends again is answered once,
//! else one made for the request, so the gateway's own retries of its keyed calls are. The
//! keyed calls the request makes carry it (`platform::retry`, `platform::idempotency`).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use platform::idempotency::{self, IdempotencyKey};

use crate::problem::{FieldError, Problem};

pub const HEADER: &str = "idempotency-key";

/// Runs the request with its idempotency key; a malformed `Idempotency-Key` is refused (400)
/// before anything happens.
pub async fn with_request_key(request: Request, next: Next) -> Response {
    let key = match request.headers().get(HEADER) {
        None => IdempotencyKey::generate(),
        Some(raw) => match raw.to_str().ok().map(IdempotencyKey::parse) {
            Some(Ok(key)) => key,
            Some(Err(e)) => return invalid(e.to_string()),
            None => return invalid(idempotency::InvalidKey.to_string()),
        },
    };
    idempotency::with_request_key(key, next.run(request)).await
}

fn invalid(message: String) -> Response {
    Problem::validation(vec![FieldError {
        field: "Idempotency-Key".to_owned(),
        message,
        code: String::new(),
    }])
    .into_response()
}
