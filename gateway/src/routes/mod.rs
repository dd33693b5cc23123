pub mod auth;
pub mod devices;
pub mod health;
pub mod me;
pub mod security_info;
pub mod organizations;
pub mod sessions;
pub mod sign_ins;
