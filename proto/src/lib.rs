//! Generated protobuf and gRPC code for MyAccount, plus the descriptor set that gRPC
//! reflection serves. Prost types stay at the gRPC edge of each service.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

mod convert;
mod vocabulary;
pub use convert::{InvalidId, datetime, id_or_empty, optional_datetime, parse_id, timestamp};
pub use vocabulary::RiskReason;

/// Encoded `FileDescriptorSet` of every MyAccount proto, for `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/myaccount_descriptor.bin"));

pub mod events {
    pub mod v1 {
        tonic::include_proto!("myaccount.events.v1");
    }
}

pub mod identity {
    pub mod v1 {
        tonic::include_proto!("myaccount.identity.v1");
    }
}

pub mod audit {
    pub mod v1 {
        tonic::include_proto!("myaccount.audit.v1");
    }
}

pub mod devices {
    pub mod v1 {
        tonic::include_proto!("myaccount.devices.v1");
    }
}

pub mod organizations {
    pub mod v1 {
        tonic::include_proto!("myaccount.organizations.v1");
    }
}

pub mod securityinfo {
    pub mod v1 {
        tonic::include_proto!("myaccount.securityinfo.v1");
    }
}

/// Messages every service answers with for the Privacy page (`DescribeMyPersonalData`).
pub mod privacy {
    pub mod v1 {
        tonic::include_proto!("myaccount.privacy.v1");
    }
}

/// The OpenID Shared Signals transmitter's API (receivers, streams, poll delivery).
pub mod signals {
    pub mod v1 {
        tonic::include_proto!("myaccount.signals.v1");
    }
}
