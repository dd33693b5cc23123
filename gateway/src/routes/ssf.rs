//! The OpenID Shared Signals surface of the signals service: discovery
//! (`/.well-known/ssf-configuration`), the key set SETs are verified with, the OAuth 2.0 token
//! endpoint for receivers (client credentials, RFC 6749 section 4.4), stream management and
//! poll delivery (RFC 8936). Field names are the specifications' (snake_case for SSF, RFC
//! 8936's camelCase for polls), not the `/api/v1` convention. A receiver's access token is
//! taken from the `Authorization` header only and passed to signals in its own metadata entry.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use myaccount_proto::signals::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{ApiJson, ApiPath, ApiQuery, Bearer};
use crate::problem::Problem;
use crate::state::AppState;

/// The metadata entry signals reads a receiver's access token from.
const ACCESS_TOKEN_METADATA: &str = "ssf-access-token";
const PUSH_URN: &str = "urn:ietf:rfc:8935";
const POLL_URN: &str = "urn:ietf:rfc:8936";
const ALL: &str = "ALL";
const NONE: &str = "NONE";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(configuration))
        .routes(routes!(jwks))
        .routes(routes!(token))
        .routes(routes!(
            create_stream,
            read_streams,
            delete_stream,
            update_stream,
            replace_stream
        ))
        .routes(routes!(read_status, update_status))
        .routes(routes!(add_subject))
        .routes(routes!(remove_subject))
        .routes(routes!(verify))
        .routes(routes!(poll))
}

fn url(state: &AppState, path: &str) -> String {
    format!("{}{path}", state.settings.signals_issuer)
}

/// A message for signals carrying the receiver's access token.
fn as_receiver<T>(bearer: &Bearer, message: T) -> Result<tonic::Request<T>, Problem> {
    let mut request = tonic::Request::new(message);
    let value = bearer
        .0
        .parse()
        .map_err(|_| Problem::unauthenticated("the access token contains invalid characters"))?;
    request.metadata_mut().insert(ACCESS_TOKEN_METADATA, value);
    Ok(request)
}

/// Transmitter configuration metadata (SSF 1.0 section 7.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct TransmitterConfiguration {
    pub spec_version: &'static str,
    pub issuer: String,
    pub jwks_uri: String,
    pub delivery_methods_supported: Vec<&'static str>,
    pub configuration_endpoint: String,
    pub status_endpoint: String,
    pub add_subject_endpoint: String,
    pub remove_subject_endpoint: String,
    pub verification_endpoint: String,
    pub authorization_schemes: Vec<AuthorizationScheme>,
    pub default_subjects: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationScheme {
    pub spec_urn: &'static str,
}

/// The transmitter's configuration: where its keys, streams and token endpoint are.
#[utoipa::path(
    get,
    path = "/.well-known/ssf-configuration",
    tag = "shared-signals",
    responses((status = 200, description = "SSF 1.0 transmitter configuration metadata", body = TransmitterConfiguration))
)]
pub async fn configuration(State(state): State<AppState>) -> Json<TransmitterConfiguration> {
    Json(TransmitterConfiguration {
        spec_version: "1_0",
        issuer: state.settings.signals_issuer.clone(),
        jwks_uri: url(&state, "/ssf/jwks.json"),
        delivery_methods_supported: vec![PUSH_URN, POLL_URN],
        configuration_endpoint: url(&state, "/ssf/streams"),
        status_endpoint: url(&state, "/ssf/status"),
        add_subject_endpoint: url(&state, "/ssf/subjects/add"),
        remove_subject_endpoint: url(&state, "/ssf/subjects/remove"),
        verification_endpoint: url(&state, "/ssf/verify"),
        // OAuth 2.0: an access token from POST /oauth2/token.
        authorization_schemes: vec![AuthorizationScheme {
            spec_urn: "urn:ietf:rfc:6749",
        }],
        // A new stream gets only the events of the subjects added to it, unless it asks for
        // every person's with `"default_subjects": "ALL"` (where the transmitter allows it).
        default_subjects: NONE,
    })
}

/// The keys that sign Security Event Tokens (the discovery's `jwks_uri`).
#[utoipa::path(
    get,
    path = "/ssf/jwks.json",
    tag = "shared-signals",
    responses((status = 200, description = "The JSON Web Key Set of the SET signing keys (RS256): the key signing now, a rotated key from before it signs, and an old key while SETs it signed wait. Cache-Control max-age is SIGNALS_JWKS_MAX_AGE", body = Object, content_type = "application/jwk-set+json"))
)]
pub async fn jwks(State(state): State<AppState>) -> Result<Response, Problem> {
    let keys = state
        .signals()
        .get_signing_keys(pb::GetSigningKeysRequest {})
        .await?
        .into_inner();
    // Signals publishes a new key longer than this before it signs (SIGNALS_JWKS_MAX_AGE).
    let cache_control = format!("public, max-age={}", keys.max_age_seconds);
    Ok((
        [
            (header::CONTENT_TYPE, "application/jwk-set+json".to_owned()),
            (header::CACHE_CONTROL, cache_control),
        ],
        keys.jwks_json,
    )
        .into_response())
}

/// An RFC 6749 section 5.2 error.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    pub error: &'static str,
    pub error_description: String,
}

fn oauth_error(status: StatusCode, error: &'static str, description: impl Into<String>) -> Response {
    let mut response = (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(OAuthError {
            error,
            error_description: description.into(),
        }),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"ssf\""),
        );
    }
    response
}

/// RFC 6749 section 5.1's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}

/// The client's id and secret from HTTP Basic (RFC 6749 section 2.3.1: each form-urlencoded).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .map(|(_, v)| v.into_owned())
            .collect()
    };
    Some((unescape(id), unescape(secret)))
}

/// Client credentials grant (RFC 6749 section 4.4) for receivers: HTTP Basic client
/// authentication, a form body with `grant_type=client_credentials`; a short-lived access token
/// with the scopes `ssf.manage ssf.read`.
#[utoipa::path(
    post,
    path = "/oauth2/token",
    tag = "shared-signals",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "`grant_type=client_credentials`"),
    responses(
        (status = 200, description = "An access token for the SSF endpoints", body = TokenResponse),
        (status = 400, description = "`invalid_request` or `unsupported_grant_type`", body = OAuthError),
        (status = 401, description = "`invalid_client`: unknown client or wrong secret", body = OAuthError),
        (status = 413, description = "`payload-too-large`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<bytes::Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "the body is too large",
            )
            .into_response();
        }
        Err(rejection) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", rejection.body_text()),
    };
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send the body as application/x-www-form-urlencoded",
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only grant_type=client_credentials is supported",
            );
        }
        None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is required"),
    }
    let Some((client_id, client_secret)) = basic_credentials(&headers) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "authenticate the client with HTTP Basic (client_id:client_secret)",
        );
    };
    let answer = state
        .signals()
        .issue_receiver_token(pb::IssueReceiverTokenRequest {
            client_id,
            client_secret,
        })
        .await;
    match answer {
        Ok(token) => {
            let token = token.into_inner();
            (
                [(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")],
                Json(TokenResponse {
                    access_token: token.access_token,
                    token_type: "Bearer",
                    expires_in: token.expires_in,
                    scope: token.scope,
                }),
            )
                .into_response()
        }
        Err(status) if status.code() == tonic::Code::Unauthenticated => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        ),
        Err(status) => Problem::from(status).into_response(),
    }
}

/// How a stream's SETs are delivered (SSF 1.0 section 8.1.1).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// `urn:ietf:rfc:8935` (push) or `urn:ietf:rfc:8936` (poll).
    pub method: String,
    /// Push: the receiver's URL; poll: the transmitter's URL to poll (set by MyAccount).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub endpoint_url: String,
    /// Push: the `Authorization` header value sent with each SET (never echoed back).
    #[serde(default, skip_serializing)]
    pub authorization_header: String,
}

/// A receiver's request for a stream.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamRequest {
    pub delivery: Option<DeliveryConfig>,
    #[serde(default)]
    pub events_requested: Vec<String>,
    #[serde(default)]
    pub description: String,
    /// `ALL`: every person's events (where the transmitter allows it); `NONE` (the default):
    /// only the subjects added to the stream. MyAccount's, named after the discovery's.
    pub default_subjects: Option<String>,
}

/// A stream's configuration (SSF 1.0 section 8.1.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamConfiguration {
    pub stream_id: String,
    pub iss: String,
    pub aud: String,
    pub events_supported: Vec<String>,
    pub events_requested: Vec<String>,
    pub events_delivered: Vec<String>,
    pub delivery: DeliveryConfig,
    pub min_verification_interval: i32,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// `ALL` or `NONE`: whether the stream takes every person's events or its subjects' only.
    pub default_subjects: &'static str,
}

fn configuration_of(state: &AppState, stream: pb::Stream) -> StreamConfiguration {
    let push = stream.delivery_method == pb::DeliveryMethod::Push as i32;
    let delivery = DeliveryConfig {
        method: if push { PUSH_URN } else { POLL_URN }.to_owned(),
        endpoint_url: if push {
            stream.endpoint_url
        } else {
            url(state, &format!("/ssf/poll/{}", stream.stream_id))
        },
        authorization_header: String::new(),
    };
    StreamConfiguration {
        stream_id: stream.stream_id,
        iss: stream.issuer,
        aud: stream.audience,
        events_supported: stream.events_supported,
        events_requested: stream.events_requested,
        events_delivered: stream.events_delivered,
        delivery,
        min_verification_interval: stream.min_verification_interval,
        description: stream.description,
        default_subjects: if stream.all_subjects { ALL } else { NONE },
    }
}

fn field_error(field: &str, message: impl Into<String>) -> Problem {
    Problem::validation(vec![crate::problem::FieldError {
        field: field.into(),
        message: message.into(),
        code: String::new(),
    }])
}

/// A delivery object's method, endpoint and Authorization header.
fn delivery_of(delivery: DeliveryConfig) -> Result<(pb::DeliveryMethod, String, String), Problem> {
    let method = match delivery.method.as_str() {
        PUSH_URN => pb::DeliveryMethod::Push,
        POLL_URN => pb::DeliveryMethod::Poll,
        _ => {
            return Err(field_error(
                "delivery.method",
                format!("one of {PUSH_URN} (push) or {POLL_URN} (poll)"),
            ));
        }
    };
    Ok((method, delivery.endpoint_url, delivery.authorization_header))
}

/// `default_subjects`: whether the stream asks for every person's events.
fn all_subjects_of(default_subjects: Option<&str>) -> Result<Option<bool>, Problem> {
    match default_subjects {
        None => Ok(None),
        Some(ALL) => Ok(Some(true)),
        Some(NONE) => Ok(Some(false)),
        Some(_) => Err(field_error("default_subjects", "ALL or NONE")),
    }
}

/// Creates a stream of the receiver's (SSF 1.0 section 8.1.1.1); poll delivery when the
/// request names no method.
#[utoipa::path(
    post,
    path = "/ssf/streams",
    tag = "shared-signals",
    request_body = StreamRequest,
    responses(
        (status = 201, description = "The new stream's configuration", body = StreamConfiguration),
        (status = 400, description = "`validation-error`: an unknown delivery method, a push stream without an http(s) endpoint, ...", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthenticated`: no, an unknown or an expired access token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_stream(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<StreamRequest>,
) -> Result<(StatusCode, Json<StreamConfiguration>), Problem> {
    let (method, endpoint_url, authorization_header) = match body.delivery {
        None => (pb::DeliveryMethod::Poll, String::new(), String::new()),
        Some(d) => delivery_of(d)?,
    };
    let all_subjects = all_subjects_of(body.default_subjects.as_deref())?.unwrap_or(false);
    let stream = state
        .signals()
        .create_stream(as_receiver(
            &bearer,
            pb::CreateStreamRequest {
                delivery_method: method as i32,
                endpoint_url,
                authorization_header,
                events_requested: body.events_requested,
                description: body.description,
                all_subjects,
            },
        )?)
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(configuration_of(&state, stream))))
}

/// One stream's configuration (with `stream_id`), or every stream's.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum StreamsAnswer {
    One(Box<StreamConfiguration>),
    All(Vec<StreamConfiguration>),
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// One stream; without it, every stream of the receiver.
    pub stream_id: Option<String>,
}

/// A stream's configuration, or (without `stream_id`) every stream of the receiver as a list.
#[utoipa::path(
    get,
    path = "/ssf/streams",
    tag = "shared-signals",
    params(StreamQuery),
    responses(
        (status = 200, description = "The stream's configuration, or a JSON array of every stream's", body = StreamsAnswer),
        (status = 401, description = "`unauthenticated`: no, an unknown or an expired access token (in the `Authorization` header only)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such stream of this receiver's (another receiver's is the same)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn read_streams(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiQuery(query): ApiQuery<StreamQuery>,
) -> Result<Response, Problem> {
    match query.stream_id {
        Some(stream_id) => {
            let stream = state
                .signals()
                .get_stream(as_receiver(&bearer, pb::GetStreamRequest { stream_id })?)
                .await?
                .into_inner();
            Ok(Json(StreamsAnswer::One(Box::new(configuration_of(&state, stream)))).into_response())
        }
        None => {
            let streams = state
                .signals()
                .list_streams(as_receiver(&bearer, pb::ListStreamsRequest {})?)
                .await?
                .into_inner()
                .streams;
            let all: Vec<StreamConfiguration> = streams.into_iter().map(|s| configuration_of(&state, s)).collect();
            Ok(Json(StreamsAnswer::All(all)).into_response())
        }
    }
}

/// The stream a delete or a status read is about.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StreamIdQuery {
    pub stream_id: String,
}

/// Deletes a stream with the SETs not yet delivered on it.
#[utoipa::path(
    delete,
    path = "/ssf/streams",
    tag = "shared-signals",
    params(StreamIdQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`unauthenticated`: no, an unknown or an expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such stream of this receiver's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_stream(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiQuery(query): ApiQuery<StreamIdQuery>,
) -> Result<StatusCode, Problem> {
    state
        .signals()
        .delete_stream(as_receiver(
            &bearer,
            pb::DeleteStreamRequest {
                stream_id: query.stream_id,
            },
        )?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A receiver's PATCH or PUT of a stream: its receiver-supplied properties, and any
/// transmitter-supplied ones it read before (each must match what the transmitter says).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamUpdateBody {
    pub stream_id: String,
    pub delivery: Option<DeliveryConfig>,
    pub events_requested: Option<Vec<String>>,
    pub description: Option<String>,
    /// `ALL` or `NONE` (see the create request).
    pub default_subjects: Option<String>,
    pub iss: Option<String>,
    pub aud: Option<String>,
    pub events_supported: Option<Vec<String>>,
    pub events_delivered: Option<Vec<String>>,
    pub min_verification_interval: Option<i32>,
}

async fn change_stream(
    state: &AppState,
    bearer: &Bearer,
    body: StreamUpdateBody,
    replace: bool,
) -> Result<Json<StreamConfiguration>, Problem> {
    let delivery = body
        .delivery
        .map(delivery_of)
        .transpose()?
        .map(|(method, endpoint_url, authorization_header)| pb::DeliveryUpdate {
            delivery_method: method as i32,
            endpoint_url,
            authorization_header,
        });
    let event_types = |uris: Option<Vec<String>>| uris.map(|uris| pb::EventTypes { uris });
    let stream = state
        .signals()
        .update_stream(as_receiver(
            bearer,
            pb::UpdateStreamRequest {
                stream_id: body.stream_id,
                replace,
                delivery,
                events_requested: event_types(body.events_requested),
                description: body.description,
                all_subjects: all_subjects_of(body.default_subjects.as_deref())?,
                iss: body.iss,
                aud: body.aud,
                events_supported: event_types(body.events_supported),
                events_delivered: event_types(body.events_delivered),
                min_verification_interval: body.min_verification_interval,
            },
        )?)
        .await?
        .into_inner();
    Ok(Json(configuration_of(state, stream)))
}

/// Updates a stream (SSF 1.0 section 8.1.1.3): the properties in the body change, the others
/// stay. SETs already queued stay queued.
#[utoipa::path(
    patch,
    path = "/ssf/streams",
    tag = "shared-signals",
    request_body = StreamUpdateBody,
    responses(
        (status = 200, description = "The whole updated configuration", body = StreamConfiguration),
        (status = 400, description = "`validation-error`: a transmitter-supplied property that does not match, a push stream without an http(s) endpoint, ...", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthenticated`: no, an unknown or an expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: `default_subjects` ALL where the transmitter does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such stream of this receiver's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_stream(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<StreamUpdateBody>,
) -> Result<Json<StreamConfiguration>, Problem> {
    change_stream(&state, &bearer, body, false).await
}

/// Replaces a stream's configuration (SSF 1.0 section 8.1.1.4): a receiver-supplied property
/// left out is cleared to what a new stream gets without it (no delivery: poll).
#[utoipa::path(
    put,
    path = "/ssf/streams",
    tag = "shared-signals",
    request_body = StreamUpdateBody,
    responses(
        (status = 200, description = "The new configuration", body = StreamConfiguration),
        (status = 400, description = "`validation-error`: a transmitter-supplied property that does not match, a push stream without an http(s) endpoint, ...", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthenticated`: no, an unknown or an expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: `default_subjects` ALL where the transmitter does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such stream of this receiver's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn replace_stream(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<StreamUpdateBody>,
) -> Result<Json<StreamConfiguration>, Problem> {
    change_stream(&state, &bearer, body, true).await
}

/// A stream's status (SSF 1.0 section 8.1.2).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamStatusBody {
    pub stream_id: String,
    /// `enabled`, `paused` (SETs held, up to a bound) or `disabled` (SETs dropped).
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

fn status_body(status: pb::StreamStatus) -> Json<StreamStatusBody> {
    Json(StreamStatusBody {
        stream_id: status.stream_id,
        status: status.status,
        reason: status.reason,
    })
}

/// A stream's status and why it has it.
#[utoipa::path(
    get,
    path = "/ssf/status",
    tag = "shared-signals",
    params(StreamIdQuery),
    responses(
        (status = 200, description = "The stream's status", body = StreamStatusBody),
        (status = 401, description = "`unauthenticated`: no, an unknown or an expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such stream of this receiver's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn read_status(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiQuery(query): ApiQuery<StreamIdQuery>,
) -> Result<Json<StreamStatusBody>, Problem> {
    let status = state
        .signals()
        .get_stream_status(as_receiver(
            &bearer,
            pb::GetStreamStatusRequest {
                stream_id: query.stream_id,
            },
        )?)
        .await?
        .into_inner();
    Ok(status_body(status))
}

/// The receiver enables, pauses (its SETs are held, up to a bound, until it enables the stream
/// again) or disables (its SETs are dropped) its stream.
#[utoipa::path(
    post,
    path = "/ssf/status",
    tag = "shared-signals",
    request_body = StreamStatusBody,
    responses(
        (status = 200, description = "The new status", body = StreamStatusBody),
        (status = 400, description = "`validation-error`: an unknown status, a reason too long", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthenticated`: no, an unknown or an expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such stream of this receiver's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_status(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<StreamStatusBody>,
) -> Result<Json<StreamStatusBody>, Problem> {
    let status = state
        .signals()
        .update_stream_status(as_receiver(
            &bearer,
            pb::UpdateStreamStatusRequest {
                stream_id: body.stream_id,
                status: body.status,
                reason: body.reason,
            },
        )?)
        .await?
        .into_inner();
    Ok(status_body(status))
}

/// A subject to add to or remove from a stream (SSF 1.0 section 8.1.3).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectBody {
    pub stream_id: String,
    /// `{"format": "iss_sub", "iss": <issuer>, "sub": <user id>}`, alone or as a complex
    /// subject's `user`.
    #[schema(value_type = Object)]
    pub subject: serde_json::Value,
    pub verified: Option<bool>,
}

async fn change_subject(
    state: &AppState,
    bearer: &Bearer,
    body: SubjectBody,
    add: bool,
) -> Result<StatusCode, Problem> {
    let request = as_receiver(
        bearer,
        pb::StreamSubjectRequest {
            stream_id: body.stream_id,
            subject_json: body.subject.to_string(),
            verified: body.verified,
        },
    )?;
    if add {
        state.signals().add_subject(request).await?;
    } else {
        state.signals().remove_subject(request).await?;
    }
    Ok(StatusCode::OK)
}

/// Adds a person to a stream: a stream that does not take every person's events gets theirs.
#[utoipa::path(
    post,
    path = "/ssf/subjects/add",
    tag = "shared-signals",
    request_body = SubjectBody,
    responses(
        (status = 200, description = "Added"),
        (status = 400, description = "`validation-error`: a subject MyAccount cannot match (only its own iss_sub)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthenticated`: no, an unknown or an expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such stream of this receiver's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_subject(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<SubjectBody>,
) -> Result<StatusCode, Problem> {
    change_subject(&state, &bearer, body, true).await
}

/// Removes a person from a stream: their events no longer reach it, even where it takes every
/// person's.
#[utoipa::path(
    post,
    path = "/ssf/subjects/remove",
    tag = "shared-signals",
    request_body = SubjectBody,
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "`validation-error`: a subject MyAccount cannot match (only its own iss_sub)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthenticated`: no, an unknown or an expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such stream of this receiver's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn remove_subject(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<SubjectBody>,
) -> Result<StatusCode, Problem> {
    change_subject(&state, &bearer, body, false).await?;
    // SSF 1.0 section 8.1.3.3: an empty 204.
    Ok(StatusCode::NO_CONTENT)
}

/// A verification request (SSF 1.0 section 8.1.4.2).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationBody {
    pub stream_id: String,
    /// Echoed in the verification SET.
    #[serde(default)]
    pub state: String,
}

/// Asks for a verification SET on the stream, echoing `state`; at most once per the stream's
/// `min_verification_interval`.
#[utoipa::path(
    post,
    path = "/ssf/verify",
    tag = "shared-signals",
    request_body = VerificationBody,
    responses(
        (status = 204, description = "A verification SET is queued"),
        (status = 400, description = "`validation-error`: a `state` too long", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthenticated`: no, an unknown or an expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such stream of this receiver's", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too-many-requests`: inside `min_verification_interval`; `Retry-After` says when", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<VerificationBody>,
) -> Result<StatusCode, Problem> {
    state
        .signals()
        .verify_stream(as_receiver(
            &bearer,
            pb::VerifyStreamRequest {
                stream_id: body.stream_id,
                state: body.state,
            },
        )?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One SET a receiver refused (RFC 8936 section 2.4.2).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetErrorBody {
    pub err: String,
    #[serde(default)]
    pub description: String,
}

/// An RFC 8936 poll request.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PollBody {
    pub max_events: Option<i32>,
    #[serde(default)]
    pub return_immediately: bool,
    #[serde(default)]
    pub ack: Vec<String>,
    #[serde(default)]
    pub set_errs: BTreeMap<String, SetErrorBody>,
}

/// An RFC 8936 poll answer: SETs by `jti`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PollAnswer {
    pub sets: BTreeMap<String, String>,
    pub more_available: bool,
}

/// How many SETs a poll that names no `maxEvents` gets.
const DEFAULT_MAX_EVENTS: i32 = 100;

/// Poll delivery (RFC 8936): acknowledges (`ack`) and reports refused SETs (`setErrs`), then
/// answers the next SETs, waiting a few seconds for one unless `returnImmediately`.
#[utoipa::path(
    post,
    path = "/ssf/poll/{stream_id}",
    tag = "shared-signals",
    params(("stream_id" = String, Path, description = "the poll stream")),
    request_body = PollBody,
    responses(
        (status = 200, description = "Up to `maxEvents` SETs by jti, and whether more are waiting", body = PollAnswer),
        (status = 400, description = "`validation-error`: `maxEvents` out of range, an unknown `err` code, a push stream", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthenticated`: no, an unknown or an expired access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no such stream of this receiver's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn poll(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(stream_id): ApiPath<String>,
    ApiJson(body): ApiJson<PollBody>,
) -> Result<Json<PollAnswer>, Problem> {
    let answer = state
        .signals()
        .poll_security_events(as_receiver(
            &bearer,
            pb::PollSecurityEventsRequest {
                stream_id,
                max_events: body.max_events.unwrap_or(DEFAULT_MAX_EVENTS),
                return_immediately: body.return_immediately,
                ack: body.ack,
                set_errs: body
                    .set_errs
                    .into_iter()
                    .map(|(jti, e)| {
                        (
                            jti,
                            pb::SetError {
                                err: e.err,
                                description: e.description,
                            },
                        )
                    })
                    .collect(),
            },
        )?)
        .await?
        .into_inner();
    Ok(Json(PollAnswer {
        sets: answer.sets.into_iter().collect(),
        more_available: answer.more_available,
    }))
}
