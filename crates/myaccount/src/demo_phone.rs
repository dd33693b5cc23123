//! The demo's phone: under `myaccount up --demo` with no `PHONE_PROVIDER` of one's own, a
//! webhook provider on loopback that prints each text or call it is asked to make, code included,
//! in this process's output instead of sending it anywhere. A newcomer can add a phone and sign in
//! with it; a deployment sets `PHONE_PROVIDER` and never runs this.

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use platform::config::Env;
use serde::Deserialize;
use tokio::task::JoinHandle;

/// The webhook body security-info sends (`phone.rs`).
#[derive(Debug, Deserialize)]
struct Message {
    id: String,
    to: String,
    channel: String,
    text: String,
}

pub struct DemoPhone {
    port: u16,
    token: String,
    server: JoinHandle<()>,
}

impl DemoPhone {
    pub async fn start() -> anyhow::Result<Self> {
        // Only security-info, holding this token, can make the demo phone print.
        let token = uuid::Uuid::new_v4().simple().to_string();
        let expected = format!("Bearer {token}");
        let app = axum::Router::new().route(
            "/messages",
            post(move |headers: HeaderMap, Json(message): Json<Message>| {
                let expected = expected.clone();
                async move {
                    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
                        return StatusCode::UNAUTHORIZED;
                    }
                    let how = if message.channel == "voice" { "call" } else { "text" };
                    eprintln!(
                        "\n[demo phone] {how} to {} (not sent anywhere; id {}):\n{}\n",
                        message.to,
                        message.id,
                        message.text.trim_end()
                    );
                    StatusCode::CREATED
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "the demo phone stopped");
            }
        });
        Ok(Self { port, token, server })
    }

    /// `env` with security-info pointed at this phone.
    pub fn configure(&self, env: Env) -> Env {
        env.overlay([
            ("PHONE_PROVIDER".to_owned(), "webhook".to_owned()),
            (
                "PHONE_PROVIDER_URL".to_owned(),
                format!("http://127.0.0.1:{}/messages", self.port),
            ),
            ("PHONE_PROVIDER_TOKEN".to_owned(), self.token.clone()),
            ("PHONE_PROVIDER_AUTH".to_owned(), "bearer".to_owned()),
        ])
    }
}

impl Drop for DemoPhone {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_demo_phone_takes_messages_only_with_its_token() {
        let phone = DemoPhone::start().await.unwrap();
        let env = phone.configure(Env::default());
        let settings = myaccount_security_info::phone::PhoneSettings::from_env(&env)
            .unwrap()
            .expect("a provider");
        assert!(matches!(
            settings.provider,
            myaccount_security_info::phone::PhoneProvider::Webhook { .. }
        ));
        let url = env.raw("PHONE_PROVIDER_URL").unwrap().to_owned();
        let body = serde_json::json!({"id": "n/sms", "to": "+14255550109", "channel": "sms", "text": "Your code is 123456.", "locale": "en-US"});
        let client = reqwest::Client::new();
        let refused = client.post(&url).json(&body).send().await.unwrap();
        assert_eq!(refused.status(), 401);
        let taken = client
            .post(&url)
            .bearer_auth(env.raw("PHONE_PROVIDER_TOKEN").unwrap())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(taken.status(), 201);
    }
}
