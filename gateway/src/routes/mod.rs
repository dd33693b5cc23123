pub mod auth;
pub mod devices;
pub mod health;
pub mod me;
pub mod organizations;
pub mod security_info;
pub mod sessions;
pub mod sign_ins;
