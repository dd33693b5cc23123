//! `/api/v1/me/devices*`: my devices joined with my sessions, registering, renaming and deleting
//! a personal device, disabling a lost one, and its recovery keys.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use myaccount_proto::devices::v1 as pb;
use myaccount_proto::identity::v1 as identity;

use crate::AppState;
use crate::extract::{ApiJson, Bearer};
use crate::json::{
    AddRecoveryKeyBody, Device, DevicesView, List, RecoveryKey, RegisterDeviceBody, RenameDeviceBody,
    RevealedRecoveryKey, device_type_value, volume_type_value,
};
use crate::problem::Problem;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/devices", get(list_my_devices).post(register_device))
        .route(
            "/me/devices/{id}",
            get(get_device).patch(rename_device).delete(delete_device),
        )
        .route("/me/devices/{id}/disable", post(disable_device))
        .route(
            "/me/devices/{id}/recovery-keys",
            get(list_recovery_keys).post(add_recovery_key),
        )
        .route(
            "/me/devices/{id}/recovery-keys/{key_id}/reveal",
            post(reveal_recovery_key),
        )
}

/// Every registered device with the sessions signed in on it, then the sessions on devices
/// that are not registered, grouped by browser and operating system. Devices and sessions are
/// asked for at the same time.
pub async fn list_my_devices(State(state): State<AppState>, bearer: Bearer) -> Result<Json<DevicesView>, Problem> {
    let devices_request = bearer.request(pb::ListMyDevicesRequest {})?;
    let sessions_request = bearer.request(identity::ListMySessionsRequest {})?;
    let mut devices_client = state.devices();
    let mut identity_client = state.identity();
    let (devices, sessions) = tokio::join!(
        devices_client.list_my_devices(devices_request),
        identity_client.list_my_sessions(sessions_request),
    );
    let devices = devices?.into_inner().devices;
    let sessions = sessions?.into_inner().sessions;
    Ok(Json(DevicesView::join(devices, sessions)))
}

/// Registers a personal device of the caller (organization devices are joined by admins).
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

pub async fn get_device(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<Device>, Problem> {
    let device = state
        .devices()
        .get_my_device(bearer.request(pb::GetMyDeviceRequest { device_id: id })?)
        .await?
        .into_inner();
    Ok(Json(device.into()))
}

pub async fn rename_device(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
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
pub async fn delete_device(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state
        .devices()
        .delete_my_device(bearer.request(pb::DeleteMyDeviceRequest { device_id: id })?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cuts off a lost device: every session on it ends (identity reacts to the event). Only an
/// admin can enable it again.
pub async fn disable_device(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<Device>, Problem> {
    let device = state
        .devices()
        .disable_my_device(bearer.request(pb::DisableMyDeviceRequest { device_id: id })?)
        .await?
        .into_inner();
    Ok(Json(device.into()))
}

/// Key ids and dates, never the keys.
pub async fn list_recovery_keys(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
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
pub async fn add_recovery_key(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
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
pub async fn reveal_recovery_key(
    State(state): State<AppState>,
    bearer: Bearer,
    Path((id, key_id)): Path<(String, String)>,
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
