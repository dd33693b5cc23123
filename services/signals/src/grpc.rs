//! The gRPC edge of signals: proto <-> domain conversion and error -> Status, nothing else.
//! The receiver's RPCs are public to the platform's auth layer (a receiver has no person's
//! token); each proves its receiver with the access token in [`ACCESS_TOKEN_METADATA`].

use std::sync::Arc;
use std::time::Duration;

use myaccount_proto::signals::v1 as pb;
use myaccount_proto::signals::v1::signals_service_server::SignalsService;
use platform::auth::Caller;
use platform::error::{Violations, request_id, to_status};
use tonic::{Request, Response, Status};

use crate::domain::{DeliveryMethod, NewStream, Receiver, SetRefusal, Stream, StreamUpdate};
use crate::service::{PollRequest, Signals, SignalsError, events_supported};

/// The metadata entry a receiver's access token travels in (the gateway takes it from the
/// `Authorization` header).
pub const ACCESS_TOKEN_METADATA: &str = "ssf-access-token";

/// Methods without a person's token: the token endpoint, the key set, and the receiver's own.
pub const PUBLIC_METHODS: &[&str] = &[
    "/myaccount.signals.v1.SignalsService/IssueReceiverToken",
    "/myaccount.signals.v1.SignalsService/GetSigningKeys",
    "/myaccount.signals.v1.SignalsService/CreateStream",
    "/myaccount.signals.v1.SignalsService/GetStream",
    "/myaccount.signals.v1.SignalsService/ListStreams",
    "/myaccount.signals.v1.SignalsService/DeleteStream",
    "/myaccount.signals.v1.SignalsService/PollSecurityEvents",
    "/myaccount.signals.v1.SignalsService/UpdateStream",
    "/myaccount.signals.v1.SignalsService/GetStreamStatus",
    "/myaccount.signals.v1.SignalsService/UpdateStreamStatus",
    "/myaccount.signals.v1.SignalsService/AddSubject",
    "/myaccount.signals.v1.SignalsService/RemoveSubject",
    "/myaccount.signals.v1.SignalsService/VerifyStream",
];

pub struct SignalsApi {
    signals: Arc<Signals>,
    step_up_max_age: Duration,
}

impl SignalsApi {
    pub fn new(signals: Arc<Signals>, step_up_max_age: Duration) -> Self {
        Self {
            signals,
            step_up_max_age,
        }
    }

    async fn change_subject(
        &self,
        request: Request<pb::StreamSubjectRequest>,
        included: bool,
    ) -> Result<Response<pb::StreamSubjectResponse>, Status> {
        let receiver = self.receiver(&request).await?;
        let r = request.into_inner();
        let stream_id = request_id("stream_id", &r.stream_id)?;
        let subject = subject_from(&r.subject_json).map_err(to_status)?;
        self.signals
            .set_subject(&receiver, stream_id, &subject, included)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::StreamSubjectResponse {}))
    }

    async fn receiver<T>(&self, request: &Request<T>) -> Result<Receiver, Status> {
        let token = request
            .metadata()
            .get(ACCESS_TOKEN_METADATA)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        self.signals.authenticate(token).await.map_err(to_status)
    }
}

fn method_from(raw: i32) -> Option<DeliveryMethod> {
    match pb::DeliveryMethod::try_from(raw).ok()? {
        pb::DeliveryMethod::Unspecified => None,
        pb::DeliveryMethod::Push => Some(DeliveryMethod::Push),
        pb::DeliveryMethod::Poll => Some(DeliveryMethod::Poll),
    }
}

fn method_to(method: DeliveryMethod) -> pb::DeliveryMethod {
    match method {
        DeliveryMethod::Push => pb::DeliveryMethod::Push,
        DeliveryMethod::Poll => pb::DeliveryMethod::Poll,
    }
}

fn stream_to(stream: Stream, signals: &Signals, receiver: &Receiver) -> pb::Stream {
    let endpoint_url = match &stream.delivery {
        crate::domain::Delivery::Push { endpoint_url, .. } => endpoint_url.clone(),
        crate::domain::Delivery::Poll => String::new(),
    };
    pb::Stream {
        stream_id: stream.id.to_string(),
        issuer: signals.transmitter().issuer.clone(),
        audience: receiver.audience.clone(),
        delivery_method: method_to(stream.delivery.method()) as i32,
        endpoint_url,
        events_supported: events_supported(),
        events_delivered: stream.events_delivered(),
        events_requested: stream.events_requested,
        description: stream.description,
        status: stream.status.as_str().to_owned(),
        min_verification_interval: i32::try_from(signals.policy().min_verification_interval.as_secs())
            .unwrap_or(i32::MAX),
        status_reason: stream.status_reason,
        all_subjects: stream.all_subjects,
    }
}

fn status_to(stream: Stream) -> pb::StreamStatus {
    pb::StreamStatus {
        stream_id: stream.id.to_string(),
        status: stream.status.as_str().to_owned(),
        reason: stream.status_reason,
    }
}

/// The transmitter-supplied properties a receiver sent back with an update must be what this
/// transmitter says (SSF 1.0 section 8.1.1.3); `events_delivered` as before the update.
fn check_transmitter_supplied(request: &pb::UpdateStreamRequest, current: &pb::Stream) -> Result<(), SignalsError> {
    let mut violations = Violations::new();
    let mut must_match = |field: &str, matches: bool| {
        if !matches {
            violations.add(
                field,
                "is the transmitter's; leave it out or send it as the stream has it",
            );
        }
    };
    if let Some(iss) = &request.iss {
        must_match("iss", *iss == current.issuer);
    }
    if let Some(aud) = &request.aud {
        must_match("aud", *aud == current.audience);
    }
    if let Some(supported) = &request.events_supported {
        must_match("events_supported", supported.uris == current.events_supported);
    }
    if let Some(delivered) = &request.events_delivered {
        must_match("events_delivered", delivered.uris == current.events_delivered);
    }
    if let Some(interval) = request.min_verification_interval {
        must_match(
            "min_verification_interval",
            interval == current.min_verification_interval,
        );
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations.into())
    }
}

fn subject_from(json: &str) -> Result<serde_json::Value, SignalsError> {
    serde_json::from_str(json).map_err(|_| {
        let mut v = Violations::new();
        v.add("subject", "must be a JSON object: an SSF subject identifier");
        v.into()
    })
}

#[tonic::async_trait]
impl SignalsService for SignalsApi {
    async fn add_receiver(
        &self,
        request: Request<pb::AddReceiverRequest>,
    ) -> Result<Response<pb::AddReceiverResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require_admin()?;
        // A receiver hears about everyone: only the installation's operator (an admin token
        // naming no organization) may register one.
        if caller.organization_id.as_deref().is_some_and(|o| !o.is_empty()) {
            return Err(Status::permission_denied(
                "registering a receiver needs the installation's operator: an organization's admin may not subscribe to other organizations' people",
            ));
        }
        caller.require_recent_mfa(self.step_up_max_age)?;
        let request = request.into_inner();
        let registered = self
            .signals
            .add_receiver(&request.name, &request.audience)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::AddReceiverResponse {
            receiver_id: registered.receiver.id.to_string(),
            client_id: registered.receiver.client_id,
            client_secret: registered.client_secret,
        }))
    }

    async fn issue_receiver_token(
        &self,
        request: Request<pb::IssueReceiverTokenRequest>,
    ) -> Result<Response<pb::IssueReceiverTokenResponse>, Status> {
        let request = request.into_inner();
        let token = self
            .signals
            .issue_token(&request.client_id, &request.client_secret)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::IssueReceiverTokenResponse {
            access_token: token.token,
            expires_in: i64::try_from(token.expires_in.as_secs()).unwrap_or(i64::MAX),
            scope: token.scope.to_owned(),
        }))
    }

    async fn get_signing_keys(
        &self,
        _request: Request<pb::GetSigningKeysRequest>,
    ) -> Result<Response<pb::GetSigningKeysResponse>, Status> {
        Ok(Response::new(pb::GetSigningKeysResponse {
            jwks_json: self.signals.transmitter().jwks().to_string(),
            max_age_seconds: u32::try_from(self.signals.transmitter().jwks_max_age().as_secs()).unwrap_or(u32::MAX),
        }))
    }

    async fn create_stream(&self, request: Request<pb::CreateStreamRequest>) -> Result<Response<pb::Stream>, Status> {
        let receiver = self.receiver(&request).await?;
        let r = request.into_inner();
        let new = NewStream::parse(
            method_from(r.delivery_method),
            &r.endpoint_url,
            &r.authorization_header,
            &r.events_requested,
            &r.description,
        )
        .map(|new| NewStream {
            all_subjects: r.all_subjects,
            ..new
        })
        .map_err(|v| to_status(SignalsError::from(v)))?;
        let stream = self.signals.create_stream(&receiver, new).await.map_err(to_status)?;
        Ok(Response::new(stream_to(stream, &self.signals, &receiver)))
    }

    async fn get_stream(&self, request: Request<pb::GetStreamRequest>) -> Result<Response<pb::Stream>, Status> {
        let receiver = self.receiver(&request).await?;
        let stream_id = request_id("stream_id", &request.get_ref().stream_id)?;
        let stream = self.signals.stream(&receiver, stream_id).await.map_err(to_status)?;
        Ok(Response::new(stream_to(stream, &self.signals, &receiver)))
    }

    async fn list_streams(
        &self,
        request: Request<pb::ListStreamsRequest>,
    ) -> Result<Response<pb::ListStreamsResponse>, Status> {
        let receiver = self.receiver(&request).await?;
        let streams = self.signals.streams(&receiver).await.map_err(to_status)?;
        Ok(Response::new(pb::ListStreamsResponse {
            streams: streams
                .into_iter()
                .map(|s| stream_to(s, &self.signals, &receiver))
                .collect(),
        }))
    }

    async fn delete_stream(
        &self,
        request: Request<pb::DeleteStreamRequest>,
    ) -> Result<Response<pb::DeleteStreamResponse>, Status> {
        let receiver = self.receiver(&request).await?;
        let stream_id = request_id("stream_id", &request.get_ref().stream_id)?;
        self.signals
            .delete_stream(&receiver, stream_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::DeleteStreamResponse {}))
    }

    async fn update_stream(&self, request: Request<pb::UpdateStreamRequest>) -> Result<Response<pb::Stream>, Status> {
        let receiver = self.receiver(&request).await?;
        let r = request.into_inner();
        let stream_id = request_id("stream_id", &r.stream_id)?;
        let current = self.signals.stream(&receiver, stream_id).await.map_err(to_status)?;
        check_transmitter_supplied(&r, &stream_to(current, &self.signals, &receiver)).map_err(to_status)?;
        let update = StreamUpdate {
            replace: r.replace,
            delivery: r
                .delivery
                .map(|d| (method_from(d.delivery_method), d.endpoint_url, d.authorization_header)),
            events_requested: r.events_requested.map(|e| e.uris),
            description: r.description,
            all_subjects: r.all_subjects,
        };
        let stream = self
            .signals
            .update_stream(&receiver, stream_id, &update)
            .await
            .map_err(to_status)?;
        Ok(Response::new(stream_to(stream, &self.signals, &receiver)))
    }

    async fn get_stream_status(
        &self,
        request: Request<pb::GetStreamStatusRequest>,
    ) -> Result<Response<pb::StreamStatus>, Status> {
        let receiver = self.receiver(&request).await?;
        let stream_id = request_id("stream_id", &request.get_ref().stream_id)?;
        let stream = self.signals.stream(&receiver, stream_id).await.map_err(to_status)?;
        Ok(Response::new(status_to(stream)))
    }

    async fn update_stream_status(
        &self,
        request: Request<pb::UpdateStreamStatusRequest>,
    ) -> Result<Response<pb::StreamStatus>, Status> {
        let receiver = self.receiver(&request).await?;
        let r = request.into_inner();
        let stream_id = request_id("stream_id", &r.stream_id)?;
        let stream = self
            .signals
            .update_status(&receiver, stream_id, &r.status, &r.reason)
            .await
            .map_err(to_status)?;
        Ok(Response::new(status_to(stream)))
    }

    async fn set_stream_status_as_operator(
        &self,
        request: Request<pb::UpdateStreamStatusRequest>,
    ) -> Result<Response<pb::StreamStatus>, Status> {
        let caller = Caller::of(&request)?;
        caller.require_admin()?;
        // Streams carry everyone's events: only the installation's operator may change any.
        if caller.organization_id.as_deref().is_some_and(|o| !o.is_empty()) {
            return Err(to_status(SignalsError::NotOperator));
        }
        caller.require_recent_mfa(self.step_up_max_age)?;
        let r = request.into_inner();
        let stream_id = request_id("stream_id", &r.stream_id)?;
        let stream = self
            .signals
            .update_status_as_operator(stream_id, &r.status, &r.reason)
            .await
            .map_err(to_status)?;
        Ok(Response::new(status_to(stream)))
    }

    async fn add_subject(
        &self,
        request: Request<pb::StreamSubjectRequest>,
    ) -> Result<Response<pb::StreamSubjectResponse>, Status> {
        self.change_subject(request, true).await
    }

    async fn remove_subject(
        &self,
        request: Request<pb::StreamSubjectRequest>,
    ) -> Result<Response<pb::StreamSubjectResponse>, Status> {
        self.change_subject(request, false).await
    }

    async fn verify_stream(
        &self,
        request: Request<pb::VerifyStreamRequest>,
    ) -> Result<Response<pb::VerifyStreamResponse>, Status> {
        let receiver = self.receiver(&request).await?;
        let r = request.into_inner();
        let stream_id = request_id("stream_id", &r.stream_id)?;
        self.signals
            .verify(&receiver, stream_id, &r.state)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::VerifyStreamResponse {}))
    }

    async fn poll_security_events(
        &self,
        request: Request<pb::PollSecurityEventsRequest>,
    ) -> Result<Response<pb::PollSecurityEventsResponse>, Status> {
        let receiver = self.receiver(&request).await?;
        let r = request.into_inner();
        let stream_id = request_id("stream_id", &r.stream_id)?;
        let poll = PollRequest {
            max_events: r.max_events,
            return_immediately: r.return_immediately,
            ack: r.ack,
            set_errs: r
                .set_errs
                .into_iter()
                .map(|(jti, e)| {
                    (
                        jti,
                        SetRefusal {
                            err: e.err,
                            description: e.description,
                        },
                    )
                })
                .collect(),
        };
        let answer = self.signals.poll(&receiver, stream_id, poll).await.map_err(to_status)?;
        Ok(Response::new(pb::PollSecurityEventsResponse {
            sets: answer.sets.into_iter().collect(),
            more_available: answer.more_available,
        }))
    }
}
