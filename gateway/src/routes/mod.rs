pub mod auth;
pub mod health;
pub mod me;
