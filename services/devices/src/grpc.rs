//! The gRPC edge of devices: proto <-> domain conversion and error -> Status, nothing else.

use std::sync::Arc;

use myaccount_proto::devices::v1 as pb;
use myaccount_proto::devices::v1::devices_service_server::DevicesService;
use platform::auth::Caller;
use platform::error::{FieldViolation, Violations, request_id, to_status, violation_reason};
use platform::idempotency::{KeyedCall, Once, answer_once};
use prost::Message as _;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::{Device, DeviceType, JoinType, NewDeviceInput, PersonalData, RecoveryKey, VolumeType};
use crate::service::{Devices, DevicesError};
use myaccount_proto::timestamp;

pub struct DevicesApi {
    devices: Arc<Devices>,
}

impl DevicesApi {
    pub fn new(devices: Arc<Devices>) -> Self {
        Self { devices }
    }
}

/// A registered device as a keyed call records it.
fn encoded_device(d: &Device) -> Vec<u8> {
    device(d.clone()).encode_to_vec()
}

fn device_id(raw: &str) -> Result<Uuid, Status> {
    request_id("device_id", raw)
}

fn device_type_from(raw: i32) -> Option<DeviceType> {
    match pb::DeviceType::try_from(raw).ok()? {
        pb::DeviceType::Unspecified => None,
        pb::DeviceType::Phone => Some(DeviceType::Phone),
        pb::DeviceType::Tablet => Some(DeviceType::Tablet),
        pb::DeviceType::Laptop => Some(DeviceType::Laptop),
        pb::DeviceType::Desktop => Some(DeviceType::Desktop),
        pb::DeviceType::Other => Some(DeviceType::Other),
    }
}

fn device_type_to(t: DeviceType) -> pb::DeviceType {
    match t {
        DeviceType::Phone => pb::DeviceType::Phone,
        DeviceType::Tablet => pb::DeviceType::Tablet,
        DeviceType::Laptop => pb::DeviceType::Laptop,
        DeviceType::Desktop => pb::DeviceType::Desktop,
        DeviceType::Other => pb::DeviceType::Other,
    }
}

fn volume_type_from(raw: i32) -> Option<VolumeType> {
    match pb::VolumeType::try_from(raw).ok()? {
        pb::VolumeType::Unspecified => None,
        pb::VolumeType::OperatingSystem => Some(VolumeType::OperatingSystem),
        pb::VolumeType::FixedData => Some(VolumeType::FixedData),
        pb::VolumeType::RemovableData => Some(VolumeType::RemovableData),
    }
}

fn volume_type_to(t: VolumeType) -> pb::VolumeType {
    match t {
        VolumeType::OperatingSystem => pb::VolumeType::OperatingSystem,
        VolumeType::FixedData => pb::VolumeType::FixedData,
        VolumeType::RemovableData => pb::VolumeType::RemovableData,
    }
}

fn device(d: Device) -> pb::Device {
    pb::Device {
        id: d.id.to_string(),
        owner_user_id: d.owner_id.to_string(),
        display_name: d.display_name,
        manufacturer: d.manufacturer,
        model: d.model,
        operating_system: d.operating_system,
        operating_system_version: d.operating_system_version,
        device_type: device_type_to(d.device_type).into(),
        join_type: match d.join_type {
            JoinType::Registered => pb::JoinType::Registered,
            JoinType::OrganizationJoined => pb::JoinType::OrganizationJoined,
        }
        .into(),
        registered_at: Some(timestamp(d.registered_at)),
        last_activity_at: d.last_activity_at.map(timestamp),
        enabled: d.enabled,
        compliant: d.compliant,
        managed: d.managed,
        disabled_at: d.disabled_at.map(timestamp),
        organization_id: d.organization_id.map(|o| o.to_string()).unwrap_or_default(),
        recovery_key_count: i32::try_from(d.recovery_key_count).unwrap_or(i32::MAX),
    }
}

fn recovery_key(k: RecoveryKey) -> pb::RecoveryKey {
    pb::RecoveryKey {
        id: k.id.to_string(),
        device_id: k.device_id.to_string(),
        volume_type: volume_type_to(k.volume_type).into(),
        created_at: Some(timestamp(k.created_at)),
        last_revealed_at: k.last_revealed_at.map(timestamp),
    }
}

fn export(d: PersonalData) -> pb::DevicesExport {
    pb::DevicesExport {
        user_id: d.user_id.to_string(),
        devices: d.devices.into_iter().map(device).collect(),
        recovery_keys: d.recovery_keys.into_iter().map(recovery_key).collect(),
        exported_at: Some(timestamp(d.exported_at)),
    }
}

#[tonic::async_trait]
impl DevicesService for DevicesApi {
    async fn register_device(
        &self,
        request: Request<pb::RegisterDeviceRequest>,
    ) -> Result<Response<pb::Device>, Status> {
        let caller = Caller::of(&request)?;
        let keyed = KeyedCall::of(&request, "RegisterDevice")?;
        let r = request.into_inner();
        let join_type = match pb::JoinType::try_from(r.join_type) {
            Ok(pb::JoinType::Unspecified | pb::JoinType::Registered) => JoinType::Registered,
            Ok(pb::JoinType::OrganizationJoined) => JoinType::OrganizationJoined,
            Err(_) => {
                return Err(to_status(DevicesError::Invalid(vec![FieldViolation {
                    field: "join_type".into(),
                    description: "must be REGISTERED or ORGANIZATION_JOINED".into(),
                    reason: violation_reason::UNKNOWN_VALUE.into(),
                }])));
            }
        };
        let input = NewDeviceInput {
            display_name: r.display_name,
            manufacturer: r.manufacturer,
            model: r.model,
            operating_system: r.operating_system,
            operating_system_version: r.operating_system_version,
            device_type: device_type_from(r.device_type),
            join_type: Some(join_type),
            owner_user_id: r.owner_user_id,
            organization_id: r.organization_id,
            compliant: r.compliant,
        };
        let once = keyed.as_ref().map(|call| Once::new(call, encoded_device));
        answer_once(self.devices.pool(), keyed.as_ref(), async {
            self.devices.register(&caller, input, once.as_ref()).await.map(device)
        })
        .await
    }

    async fn list_my_devices(
        &self,
        request: Request<pb::ListMyDevicesRequest>,
    ) -> Result<Response<pb::ListMyDevicesResponse>, Status> {
        let caller = Caller::of(&request)?;
        let devices = self.devices.list_mine(&caller).await.map_err(to_status)?;
        Ok(Response::new(pb::ListMyDevicesResponse {
            devices: devices.into_iter().map(device).collect(),
        }))
    }

    async fn get_my_device(&self, request: Request<pb::GetMyDeviceRequest>) -> Result<Response<pb::Device>, Status> {
        let caller = Caller::of(&request)?;
        let id = device_id(&request.get_ref().device_id)?;
        let d = self.devices.get_mine(&caller, id).await.map_err(to_status)?;
        Ok(Response::new(device(d)))
    }

    async fn rename_my_device(
        &self,
        request: Request<pb::RenameMyDeviceRequest>,
    ) -> Result<Response<pb::Device>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let id = device_id(&r.device_id)?;
        let d = self
            .devices
            .rename_mine(&caller, id, &r.display_name)
            .await
            .map_err(to_status)?;
        Ok(Response::new(device(d)))
    }

    async fn delete_my_device(
        &self,
        request: Request<pb::DeleteMyDeviceRequest>,
    ) -> Result<Response<pb::DeleteMyDeviceResponse>, Status> {
        let caller = Caller::of(&request)?;
        let id = device_id(&request.get_ref().device_id)?;
        self.devices.delete_mine(&caller, id).await.map_err(to_status)?;
        Ok(Response::new(pb::DeleteMyDeviceResponse {}))
    }

    async fn disable_my_device(
        &self,
        request: Request<pb::DisableMyDeviceRequest>,
    ) -> Result<Response<pb::Device>, Status> {
        let caller = Caller::of(&request)?;
        let id = device_id(&request.get_ref().device_id)?;
        let d = self.devices.disable_mine(&caller, id).await.map_err(to_status)?;
        Ok(Response::new(device(d)))
    }

    async fn enable_device(&self, request: Request<pb::EnableDeviceRequest>) -> Result<Response<pb::Device>, Status> {
        let caller = Caller::of(&request)?;
        let id = device_id(&request.get_ref().device_id)?;
        let d = self.devices.enable(&caller, id).await.map_err(to_status)?;
        Ok(Response::new(device(d)))
    }

    async fn add_recovery_key(
        &self,
        request: Request<pb::AddRecoveryKeyRequest>,
    ) -> Result<Response<pb::RecoveryKey>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let id = device_id(&r.device_id)?;
        let k = self
            .devices
            .add_recovery_key(&caller, id, volume_type_from(r.volume_type), &r.key)
            .await
            .map_err(to_status)?;
        Ok(Response::new(recovery_key(k)))
    }

    async fn list_recovery_keys(
        &self,
        request: Request<pb::ListRecoveryKeysRequest>,
    ) -> Result<Response<pb::ListRecoveryKeysResponse>, Status> {
        let caller = Caller::of(&request)?;
        let id = device_id(&request.get_ref().device_id)?;
        let keys = self.devices.list_recovery_keys(&caller, id).await.map_err(to_status)?;
        Ok(Response::new(pb::ListRecoveryKeysResponse {
            recovery_keys: keys.into_iter().map(recovery_key).collect(),
        }))
    }

    async fn reveal_recovery_key(
        &self,
        request: Request<pb::RevealRecoveryKeyRequest>,
    ) -> Result<Response<pb::RevealedRecoveryKey>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let r = request.into_inner();
        // Both ids are checked before answering, so every bad one is named at once.
        let mut v = Violations::new();
        let (id, key_id) = match (
            v.id("device_id", &r.device_id),
            v.id("recovery_key_id", &r.recovery_key_id),
        ) {
            (Some(id), Some(key_id)) => (id, key_id),
            _ => return Err(to_status(DevicesError::Invalid(v.into_vec()))),
        };
        let (k, password) = self
            .devices
            .reveal_recovery_key(&caller, id, key_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::RevealedRecoveryKey {
            recovery_key: Some(recovery_key(k)),
            key: password.expose().to_owned(),
        }))
    }

    async fn export_my_data(
        &self,
        request: Request<pb::ExportMyDataRequest>,
    ) -> Result<Response<pb::DevicesExport>, Status> {
        let caller = Caller::of_sensitive(&request)?;
        let data = self.devices.export(caller.user_id).await.map_err(to_status)?;
        Ok(Response::new(export(data)))
    }

    async fn describe_my_personal_data(
        &self,
        request: Request<myaccount_proto::privacy::v1::DescribeMyPersonalDataRequest>,
    ) -> Result<Response<myaccount_proto::privacy::v1::PersonalDataDescription>, Status> {
        platform::personal_data::answer(&request, crate::domain::personal_data_held())
    }
}
