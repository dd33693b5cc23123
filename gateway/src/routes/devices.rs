//! `/api/v1/me/devices*`: my devices joined with my sessions, registering, renaming and deleting
//! a personal device, disabling a lost one, and its recovery keys.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use myaccount_proto::devices::v1 as pb;
use myaccount_proto::identity::v1 as identity;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{ApiJson, ApiPath, Bearer};
use crate::json::{
    AddRecoveryKeyBody, Device, DevicesView, List, RecoveryKey, RegisterDeviceBody, RenameDeviceBody,
    RevealedRecoveryKey, device_type_value, volume_type_value,
};
use crate::problem::Problem;
use crate::state::AppState;

/// Sessions joined with the devices: the most recently used, as many as a page shows at a
/// glance (Entra's devices page lists the recent ones too); older ones are a `pageToken` away.
const SESSIONS_ON_DEVICES_PAGE: i32 = 25;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_my_devices, register_device))
        .routes(routes!(get_device, rename_device, delete_device))
        .routes(routes!(disable_device))
        .routes(routes!(list_recovery_keys, add_recovery_key))
        .routes(routes!(reveal_recovery_key))
}

/// Every registered device with the sessions signed in on it, then the sessions on devices
/// that are not registered, grouped by browser and operating system. Devices and sessions are
/// asked for at the same time. Only the most recently used sessions are joined (one page of the
/// sessions list, a person may have thousands); `sessionsNextPageToken` continues on
/// `GET /me/sessions` when there are more.
#[utoipa::path(
    get,
    path = "/me/devices",
    tag = "devices",
    responses((status = 200, description = "Each registered device with its recent sessions, then recent sessions on unregistered devices grouped by browser and operating system; `sessionsNextPageToken` (as `pageToken` of `GET /me/sessions`) lists the older ones", body = DevicesView))
)]
pub async fn list_my_devices(State(state): State<AppState>, bearer: Bearer) -> Result<Json<DevicesView>, Problem> {
    let devices_request = bearer.request(pb::ListMyDevicesRequest {})?;
    let sessions_request = bearer.request(identity::ListMySessionsRequest {
        page_size: SESSIONS_ON_DEVICES_PAGE,
        page_token: String::new(),
    })?;
    let mut devices_client = state.devices();
    let mut identity_client = state.identity();
    let (devices, sessions) = tokio::join!(
        devices_client.list_my_devices(devices_request),
        identity_client.list_my_sessions(sessions_request),
    );
    let devices = devices?.into_inner().devices;
    let sessions = sessions?.into_inner();
    let mut view = DevicesView::join(devices, sessions.sessions);
    view.sessions_next_page_token = Some(sessions.next_page_token).filter(|t| !t.is_empty());
    Ok(Json(view))
}

/// Registers a personal device of the caller (organization devices are joined by admins).
#[utoipa::path(
    post,
    path = "/me/devices",
    tag = "devices",
    request_body = RegisterDeviceBody,
    responses((status = 201, description = "The registered device; its `id` is what the client sends as `X-Device-Id` when it signs in", body = Device))
)]
pub async fn register_device(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(body): ApiJson<RegisterDeviceBody>,
) -> Result<(StatusCode, Json<Device>), Problem> {
    let device = state
        .devices()
        .register_device(bearer.request(pb::RegisterDeviceRequest {
            display_name: body.display_name,
            manufacturer: body.manufacturer,
            model: body.model,
            operating_system: body.operating_system,
            operating_system_version: body.operating_system_version,
            device_type: device_type_value(&body.device_type),
            join_type: pb::JoinType::Registered.into(),
            ..Default::default()
        })?)
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(device.into())))
}

#[utoipa::path(
    get,
    path = "/me/devices/{id}",
    tag = "devices",
    params(("id" = String, Path, description = "the device id")),
    responses((status = 200, description = "The device", body = Device), (status = 404, description = "`not-found`: no such device of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"))
)]
pub async fn get_device(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Device>, Problem> {
    let device = state
        .devices()
        .get_my_device(bearer.request(pb::GetMyDeviceRequest { device_id: id })?)
        .await?
        .into_inner();
    Ok(Json(device.into()))
}

#[utoipa::path(
    patch,
    path = "/me/devices/{id}",
    tag = "devices",
    params(("id" = String, Path, description = "the device id")),
    request_body = RenameDeviceBody,
    responses((status = 200, description = "The renamed device", body = Device), (status = 404, description = "`not-found`: no such device of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"))
)]
pub async fn rename_device(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RenameDeviceBody>,
) -> Result<Json<Device>, Problem> {
    let device = state
        .devices()
        .rename_my_device(bearer.request(pb::RenameMyDeviceRequest {
            device_id: id,
            display_name: body.display_name,
        })?)
        .await?
        .into_inner();
    Ok(Json(device.into()))
}

/// Personal devices only; an organization's device answers 400 `failed-precondition`.
#[utoipa::path(
    delete,
    path = "/me/devices/{id}",
    tag = "devices",
    params(("id" = String, Path, description = "the device id")),
    responses((status = 204, description = "Deleted"), (status = 400, description = "`failed-precondition`: an organization's device cannot be deleted by its owner", body = Problem, content_type = "application/problem+json"), (status = 404, description = "`not-found`: no such device of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"))
)]
pub async fn delete_device(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, Problem> {
    state
        .devices()
        .delete_my_device(bearer.request(pb::DeleteMyDeviceRequest { device_id: id })?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cuts off a lost device: every session on it ends (identity reacts to the event). Only an
/// admin can enable it again.
#[utoipa::path(
    post,
    path = "/me/devices/{id}/disable",
    tag = "devices",
    params(("id" = String, Path, description = "the device id")),
    responses((status = 200, description = "The disabled device: every session on it has ended and its refresh tokens stop working", body = Device), (status = 404, description = "`not-found`: no such device of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"))
)]
pub async fn disable_device(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Device>, Problem> {
    let device = state
        .devices()
        .disable_my_device(bearer.request(pb::DisableMyDeviceRequest { device_id: id })?)
        .await?
        .into_inner();
    Ok(Json(device.into()))
}

/// Key ids and dates, never the keys.
#[utoipa::path(
    get,
    path = "/me/devices/{id}/recovery-keys",
    tag = "devices",
    params(("id" = String, Path, description = "the device id")),
    responses((status = 200, description = "Key ids and dates, never the keys", body = List<RecoveryKey>), (status = 404, description = "`not-found`: no such device of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"))
)]
pub async fn list_recovery_keys(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<List<RecoveryKey>>, Problem> {
    let keys = state
        .devices()
        .list_recovery_keys(bearer.request(pb::ListRecoveryKeysRequest { device_id: id })?)
        .await?
        .into_inner();
    Ok(Json(List {
        items: keys.recovery_keys.into_iter().map(RecoveryKey::from).collect(),
        next_page_token: None,
    }))
}

/// Escrows a recovery key of my own (enabled) device.
#[utoipa::path(
    post,
    path = "/me/devices/{id}/recovery-keys",
    tag = "devices",
    params(("id" = String, Path, description = "the device id")),
    request_body = AddRecoveryKeyBody,
    responses((status = 201, description = "The escrowed key's id and dates", body = RecoveryKey), (status = 404, description = "`not-found`: no such device of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"))
)]
pub async fn add_recovery_key(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AddRecoveryKeyBody>,
) -> Result<(StatusCode, Json<RecoveryKey>), Problem> {
    let key = state
        .devices()
        .add_recovery_key(bearer.request(pb::AddRecoveryKeyRequest {
            device_id: id,
            volume_type: volume_type_value(&body.volume_type),
            key: body.key,
        })?)
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(key.into())))
}

/// Shows a recovery key. Needs a recent multi-factor sign-in (403 `reauthentication-required`
/// otherwise); every attempt is published for the activity log.
#[utoipa::path(
    post,
    path = "/me/devices/{id}/recovery-keys/{key_id}/reveal",
    tag = "devices",
    params(("id" = String, Path, description = "the device id"), ("key_id" = String, Path, description = "the recovery key id")),
    responses((status = 200, description = "The key; every attempt, refused or not, is recorded", body = RevealedRecoveryKey), (status = 403, description = "`reauthentication-required`: needs a sign-in with a second factor in the last 10 minutes (`POST /auth/reauthenticate`)", body = Problem, content_type = "application/problem+json"), (status = 404, description = "`not-found`: no such device or key of mine (another person's is the same)", body = Problem, content_type = "application/problem+json"))
)]
pub async fn reveal_recovery_key(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiPath((id, key_id)): ApiPath<(String, String)>,
) -> Result<Json<RevealedRecoveryKey>, Problem> {
    let revealed = state
        .devices()
        .reveal_recovery_key(bearer.request(pb::RevealRecoveryKeyRequest {
            device_id: id,
            recovery_key_id: key_id,
        })?)
        .await?
        .into_inner();
    let recovery_key = revealed
        .recovery_key
        .ok_or_else(|| Problem::from_status(&tonic::Status::internal("a revealed key without its metadata")))?;
    Ok(Json(RevealedRecoveryKey {
        recovery_key: recovery_key.into(),
        key: revealed.key,
    }))
}
