//! Request extractors that answer with problem details: JSON bodies and query strings that
//! refuse unknown fields, path parameters, the bearer token, and where the request came from.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use myaccount_proto::identity::v1::ClientContext;
use serde::de::DeserializeOwned;

use crate::problem::Problem;
use crate::state::AppState;

/// A JSON body; malformed JSON, wrong types, unknown fields, invalid UTF-8 or a wrong content
/// type are answered with a problem naming what is wrong.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_problem(rejection)),
        }
    }
}

fn json_problem(rejection: JsonRejection) -> Problem {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the body as JSON with content-type: application/json",
        ),
        JsonRejection::JsonSyntaxError(e) => {
            Problem::bad_request(format!("the body is not valid JSON: {}", e.body_text()))
        }
        JsonRejection::JsonDataError(e) => {
            Problem::bad_request(format!("the body does not have the expected shape: {}", e.body_text()))
        }
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "the body is too large",
        ),
        other => Problem::bad_request(other.body_text()),
    }
}

/// Query parameters; unknown or malformed parameters are refused.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(Problem::bad_request(format!(
                "invalid query parameters: {}",
                e.body_text()
            ))),
            Err(other) => Err(Problem::bad_request(other.body_text())),
        }
    }
}

/// Path parameters; a segment that does not decode (percent-encoded bytes that are not UTF-8)
/// is a problem like any other bad input, not axum's plain-text rejection.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(Problem::bad_request(format!(
                "invalid path parameter: {}",
                e.body_text()
            ))),
            Err(other) => Err(Problem::bad_request(other.body_text())),
        }
    }
}

/// The caller's access token, forwarded to the services, which verify it themselves.
pub struct Bearer(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        platform::auth::bearer_token(parts.headers.get(axum::http::header::AUTHORIZATION))
            .map(|t| Self(t.to_owned()))
            .map_err(|e| Problem::unauthenticated(e.to_string()))
    }
}

impl Bearer {
    /// Wraps a message in a request that carries the token.
    pub fn request<T>(&self, message: T) -> Result<tonic::Request<T>, Problem> {
        let mut request = tonic::Request::new(message);
        let value = format!("Bearer {}", self.0)
            .parse()
            .map_err(|_| Problem::unauthenticated("the access token contains invalid characters"))?;
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }
}

/// Where the request came from: the peer address, or, when the gateway is configured to trust
/// its proxy, the address that proxy appended last to `X-Forwarded-For` (earlier entries are
/// whatever the client sent); and the location the proxy reported, when it is trusted to.
pub struct Client(pub ClientContext);

impl FromRequestParts<AppState> for Client {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let forwarded = state
            .settings
            .trust_forwarded_for
            .then(|| {
                parts
                    .headers
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.rsplit(',').next())
                    .and_then(|ip| ip.trim().parse::<IpAddr>().ok())
            })
            .flatten();
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        Ok(Self(ClientContext {
            ip_address: forwarded.or(peer).map(|ip| ip.to_string()).unwrap_or_default(),
            user_agent: header("user-agent"),
            device_id: header("x-device-id"),
            app_id: "myaccount-portal".into(),
            correlation_id: header("x-request-id"),
            location: state.settings.location_headers.read(&parts.headers),
        }))
    }
}
