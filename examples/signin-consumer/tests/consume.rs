//! The example against a real JetStream: each event is handled once, even when redelivered or
//! published twice.

use async_nats::jetstream;
use myaccount_example_signin_consumer::{Source, consume};
use myaccount_proto::events::v1::SignInRecorded;
use prost::Message;

#[tokio::test]
async fn each_event_is_handled_once_even_when_published_twice() {
    let client = async_nats::connect("nats://127.0.0.1:4222").await.expect("nats");
    let js = jetstream::new(client);
    let suffix = uuid_suffix();
    let stream = format!("EXAMPLE_SIGNIN_{suffix}");
    let subject = format!("example{suffix}.myaccount.signin.v1.recorded");
    js.create_stream(jetstream::stream::Config {
        name: stream.clone(),
        subjects: vec![subject.clone()],
        ..Default::default()
    })
    .await
    .expect("stream");

    for (i, ce_id) in ["a", "b", "a", "c"].iter().enumerate() {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("ce-id", *ce_id);
        // Different Nats-Msg-Ids: JetStream keeps both copies of "a", the consumer must not.
        headers.insert("Nats-Msg-Id", format!("{ce_id}-{i}").as_str());
        let event = SignInRecorded {
            sign_in_id: (*ce_id).into(),
            user_principal_name: format!("user{i}@contoso.example"),
            ..Default::default()
        };
        js.publish_with_headers(subject.clone(), headers, event.encode_to_vec().into())
            .await
            .expect("publish")
            .await
            .expect("ack");
    }

    let mut handled = Vec::new();
    let source = Source {
        stream: stream.clone(),
        subject,
        consumer_name: "example-test".into(),
    };
    let count = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        consume(&js, &source, Some(3), |id, _| handled.push(id.to_owned())),
    )
    .await
    .expect("in time")
    .expect("consumed");
    assert_eq!(count, 3);
    assert_eq!(handled, ["a", "b", "c"]);
    js.delete_stream(&stream).await.expect("cleanup");
}

fn uuid_suffix() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}
