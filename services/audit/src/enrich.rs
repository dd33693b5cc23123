//! What audit adds to a sign-in event besides browser and operating system (platform's
//! `user_agent`) and place (platform's `geoip`): the client app.

use crate::domain::ClientApp;

/// App passwords and non-browser clients are told apart by the method and the user agent.
pub fn client_app(authentication_methods: &[String], method: &str, browser: &str) -> ClientApp {
    if method == "app_password" || authentication_methods.iter().any(|m| m == "app_password") {
        ClientApp::AppPassword
    } else if !browser.is_empty() {
        ClientApp::Browser
    } else {
        ClientApp::MobileDesktop
    }
}
