//! ```sh
//! NATS_URL=nats://127.0.0.1:4222 CONSUMER_NAME=fraud-team cargo run -p myaccount-example-signin-consumer
//! ```

use myaccount_example_signin_consumer::{STREAM, SUBJECT, Source, consume};
use myaccount_proto::events::v1::SignInStatus;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let name = std::env::var("CONSUMER_NAME").unwrap_or_else(|_| "example-signin-consumer".into());
    let js = async_nats::jetstream::new(async_nats::connect(&url).await?);
    let source = Source {
        stream: STREAM.into(),
        subject: SUBJECT.into(),
        consumer_name: name,
    };
    consume(&js, &source, None, |id, event| {
        let status = match SignInStatus::try_from(event.status) {
            Ok(SignInStatus::Success) => "success",
            _ => "failure",
        };
        println!(
            "{id} {} from {} ({status})",
            event.user_principal_name, event.ip_address
        );
    })
    .await?;
    Ok(())
}
