//! docs/asyncapi.json (AsyncAPI 3.0) and the code's event catalogue agree: every event the code
//! can publish is documented on its subject with its protobuf message, nothing undocumented or
//! stale, every reference resolves, and each message exists in the compiled protos.

use std::collections::BTreeSet;

use platform::events::CATALOGUE;
use prost::Message;
use serde_json::Value;

fn document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/asyncapi.json");
    let text = std::fs::read_to_string(path).expect("docs/asyncapi.json exists");
    serde_json::from_str(&text).expect("docs/asyncapi.json is JSON")
}

/// Follows a local `$ref` like `#/channels/x/messages/Y`.
fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference.strip_prefix('#').expect("a local reference");
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("{reference} does not resolve"))
}

#[test]
fn every_published_event_is_documented_and_nothing_else() {
    let doc = document();
    assert_eq!(doc["asyncapi"], "3.0.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    let channels = doc["channels"].as_object().expect("channels");
    let documented: BTreeSet<(String, String)> = channels
        .values()
        .flat_map(|c| {
            let address = c["address"].as_str().expect("address").to_owned();
            c["messages"]
                .as_object()
                .expect("messages")
                .keys()
                .map(move |m| (address.clone(), m.clone()))
        })
        .collect();
    let published: BTreeSet<(String, String)> = CATALOGUE.iter().map(|e| (e.subject(), e.message.to_owned())).collect();
    assert_eq!(
        documented, published,
        "docs/asyncapi.json is out of date: run python3 docs/make_asyncapi.py"
    );

    for (name, operation) in doc["operations"].as_object().expect("operations") {
        assert_eq!(operation["action"], "send", "{name}: MyAccount only publishes");
        let channel = resolve(&doc, operation["channel"]["$ref"].as_str().expect("channel ref"));
        for m in operation["messages"].as_array().expect("messages") {
            let message = resolve(&doc, m["$ref"].as_str().expect("message ref"));
            let message = resolve(&doc, message["$ref"].as_str().expect("component ref"));
            assert_eq!(message["contentType"], "application/protobuf");
            resolve(&doc, message["headers"]["$ref"].as_str().expect("headers ref"));
        }
        assert!(channel["address"].is_string());
    }
    assert_eq!(doc["operations"].as_object().map(|o| o.len()), Some(CATALOGUE.len()));
}

#[test]
fn every_documented_message_exists_in_the_compiled_protos() {
    let descriptors =
        prost_types::FileDescriptorSet::decode(myaccount_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
    let compiled: BTreeSet<String> = descriptors
        .file
        .iter()
        .filter(|f| f.package() == "myaccount.events.v1")
        .flat_map(|f| f.message_type.iter().map(|m| m.name().to_owned()))
        .collect();
    let doc = document();
    for (name, message) in doc["components"]["messages"].as_object().expect("messages") {
        assert!(
            compiled.contains(name),
            "{name} is not a message of myaccount.events.v1"
        );
        let schema = message["payload"]["schema"].as_str().expect("schema text");
        assert!(
            schema.contains(&format!("message {name} {{")),
            "{name}: the schema shows its definition"
        );
        assert_eq!(
            message["payload"]["schemaFormat"],
            "application/vnd.google.protobuf;version=3"
        );
    }
}
