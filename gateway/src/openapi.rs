//! The OpenAPI 3.1 document of the gateway, served at `GET /openapi.json`. Paths come from the
//! `#[utoipa::path]` of the handlers that the router registers (`routes!` in `lib.rs`), so the
//! document and the router are one list. The problem answers every operation shares are added
//! here by rule (a body can be malformed, an authenticated route can be refused, ...) rather than
//! repeated on each handler; handlers name the answers particular to them.

use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::response::{Response as ApiResponse, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, OpenApi, Ref, Required};

use crate::cookies::SESSION_COOKIE;
use crate::problem::{FieldError, Problem};

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "MyAccount",
        description = "The HTTP API of the MyAccount self-service account portal. JSON is lowerCamelCase, timestamps RFC 3339 UTC, unknown fields are refused, errors are RFC 9457 problem details (`application/problem+json`). Authenticate with `Authorization: Bearer <access token>`, or in a browser with the session cookie that `X-MyAccount-Session: cookie` sign-ins set (state-changing requests then need `X-CSRF-Token` = the `myaccount_csrf` cookie).",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "auth", description = "Sign-in, its second step, step-up, refresh, sign-out and self-service password reset"),
        (name = "me", description = "The overview and my profile"),
        (name = "security-info", description = "My sign-in methods"),
        (name = "sign-ins", description = "My sign-ins and account activity"),
        (name = "devices", description = "My devices and their recovery keys"),
        (name = "sessions", description = "My sessions and my password"),
        (name = "organizations", description = "My organizations and invitations"),
        (name = "privacy", description = "What is kept about me, the export and deleting my account"),
        (name = "service", description = "Probes, token keys and this document")
    )
)]
pub struct ApiDoc;

pub const BEARER: &str = "bearer";
pub const SESSION: &str = "session_cookie";
pub const CSRF: &str = "csrf_token";

fn problem(description: &str) -> ApiResponse {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, Content::new(Some(Ref::from_schema_name("Problem"))))
        .build()
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("GET", item.get.as_mut()),
        ("PUT", item.put.as_mut()),
        ("POST", item.post.as_mut()),
        ("DELETE", item.delete.as_mut()),
        ("PATCH", item.patch.as_mut()),
        ("HEAD", item.head.as_mut()),
        ("OPTIONS", item.options.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|o| (method, o)))
}

fn add(operation: &mut Operation, status: &str, response: ApiResponse) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| response.into());
}

/// The routes behind the session middleware (`session::authenticate`): a bearer token or the session cookie,
/// the CSRF header with the cookie on state-changing methods; 401 and 403 `csrf-token-invalid`.
pub fn document_authentication(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for (method, operation) in operations(item) {
            let state_changing = matches!(method, "POST" | "PUT" | "PATCH" | "DELETE");
            let cookie = if state_changing {
                SecurityRequirement::new(SESSION, Vec::<String>::new()).add(CSRF, Vec::<String>::new())
            } else {
                SecurityRequirement::new(SESSION, Vec::<String>::new())
            };
            operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new()), cookie]);
            add(
                operation,
                "401",
                problem(
                    "`unauthenticated`: no, an invalid or an expired access token, or a session cookie that has ended (the cookies are then cleared)",
                ),
            );
            if state_changing {
                add(
                    operation,
                    "403",
                    problem("`csrf-token-invalid`: a cookie-authenticated request without the right `X-CSRF-Token`"),
                );
            }
        }
    }
}

/// The operations a client may send again with the same `Idempotency-Key` and have done once
/// (the services record those keys: `platform::idempotency`).
const KEYED_OPERATIONS: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/sign-in"),
    ("POST", "/api/v1/auth/passkey"),
    ("POST", "/api/v1/auth/mfa"),
    ("POST", "/api/v1/me/devices"),
];

fn idempotency_key() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "draft-ietf-httpapi-idempotency-key-header: the same request sent again with the same key within 24 hours gets the first answer and is done once. 16 to 255 visible ASCII characters (a UUID, say).",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(16))
                .max_length(Some(255)),
        ))
        .build()
}

/// Security schemes and the problem answers every operation may give.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    components.add_security_scheme(
        SESSION,
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            SESSION_COOKIE,
            "The browser session set by a sign-in with `X-MyAccount-Session: cookie` (HttpOnly).",
        ))),
    );
    components.add_security_scheme(
        CSRF,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-CSRF-Token",
            "The value of the `myaccount_csrf` cookie; needed with the session cookie on POST, PUT, PATCH and DELETE.",
        ))),
    );
    for (path, item) in &mut doc.paths.paths {
        let api = path.starts_with("/api/");
        for (method, operation) in operations(item) {
            name_uniquely(operation);
            if KEYED_OPERATIONS.iter().any(|(m, p)| *m == method && p == path) {
                operation
                    .parameters
                    .get_or_insert_with(Vec::new)
                    .push(idempotency_key().into());
                add(
                    operation,
                    "422",
                    problem("`idempotency-key-reused`: the key was used for another request or by someone else"),
                );
            }
            if operation.request_body.is_some() {
                add(
                    operation,
                    "400",
                    problem(
                        "`bad-request` (malformed JSON, a wrong type, an unknown field) or `validation-error` with `errors` naming every invalid field",
                    ),
                );
                add(operation, "413", problem("`payload-too-large`"));
                add(
                    operation,
                    "415",
                    problem("`unsupported-media-type`: the body must be `application/json`"),
                );
            } else if operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                add(operation, "400", problem("`bad-request`: an invalid parameter"));
            }
            if api {
                add(
                    operation,
                    "5XX",
                    problem("`internal`, `unavailable` (503) or `timeout` (504): try again"),
                );
            }
        }
    }
    doc
}

/// Handler names repeat across modules (`get`, `list`); the operation id is the tag and the
/// handler, `securityInfoGet`, `signInsList`, so generated clients get unique, readable names.
fn name_uniquely(operation: &mut Operation) {
    let tag = operation
        .tags
        .as_ref()
        .and_then(|t| t.first())
        .cloned()
        .unwrap_or_default();
    let handler = operation.operation_id.clone().unwrap_or_default();
    let mut id = String::new();
    for (i, word) in tag
        .split('-')
        .chain(handler.split('_'))
        .filter(|w| !w.is_empty())
        .enumerate()
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            if i == 0 {
                id.extend(first.to_lowercase());
            } else {
                id.extend(first.to_uppercase());
            }
            id.push_str(chars.as_str());
        }
    }
    operation.operation_id = Some(id);
}

/// The finished document as JSON, computed once when the router is built and handed to the
/// `GET /openapi.json` handler as a request extension.
#[derive(Debug, Clone)]
pub struct PublishedDocument(pub std::sync::Arc<str>);
