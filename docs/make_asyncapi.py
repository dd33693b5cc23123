"""Regenerates docs/asyncapi.json from the event catalogue (crates/platform/src/events.rs) and
the protobuf definitions (proto/myaccount/events/v1). The platform test `asyncapi` checks that
the document and the code agree, so run this after adding an event:
    python3 docs/make_asyncapi.py
"""
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
events_rs = (ROOT / "crates/platform/src/events.rs").read_text()
roots = dict(re.findall(r'Stream::(\w+) => "(myaccount\.\w+\.v1)"', events_rs))
block = events_rs[events_rs.index("catalogue! {"):]
entries = re.findall(r"(\w+) => \((\w+), \"(\w+)\"\)", block[: block.index("\n}\n")])

messages = {}
for proto in sorted((ROOT / "proto/myaccount/events/v1").glob("*.proto")):
    text = proto.read_text()
    for m in re.finditer(r"((?://[^\n]*\n)*)message (\w+) \{", text):
        depth, i = 0, m.end() - 1
        while True:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                break
            i += 1
        comment = " ".join(line.strip().lstrip("/").strip() for line in m.group(1).splitlines())
        messages[m.group(2)] = (proto.relative_to(ROOT).as_posix(), text[m.start(2) - 8 : i + 1], comment)

doc = {
    "asyncapi": "3.0.0",
    "info": {
        "title": "MyAccount events",
        "version": "1.0.0",
        "description": "Everything MyAccount publishes on NATS JetStream. Payloads are protobuf "
        "(package myaccount.events.v1); CloudEvents 1.0 attributes travel as NATS headers. "
        "Delivery is at least once: deduplicate by ce-id. See docs/EVENTS.md.",
    },
    "defaultContentType": "application/protobuf",
    "servers": {
        "nats": {
            "host": "nats:4222",
            "protocol": "nats",
            "description": "The installation's NATS cluster with JetStream. With NATS_NAMESPACE set, "
            "subjects get the prefix '<namespace>.' and streams '<NAMESPACE>_'.",
        }
    },
    "channels": {},
    "operations": {},
    "components": {
        "messages": {},
        "schemas": {
            "CloudEventHeaders": {
                "type": "object",
                "required": ["ce-specversion", "ce-id", "ce-type", "ce-source", "ce-time", "content-type", "Nats-Msg-Id"],
                "properties": {
                    "ce-specversion": {"type": "string", "const": "1.0"},
                    "ce-id": {"type": "string", "description": "Unique per event; deduplicate on it."},
                    "ce-type": {"type": "string", "description": "The subject without any namespace prefix."},
                    "ce-source": {"type": "string", "description": "myaccount/<service>"},
                    "ce-time": {"type": "string", "format": "date-time"},
                    "ce-subject": {"type": "string", "description": "Id of the user the event is about, when there is one."},
                    "content-type": {"type": "string", "const": "application/protobuf"},
                    "Nats-Msg-Id": {"type": "string", "description": "Equal to ce-id: JetStream drops republished copies."},
                    "traceparent": {"type": "string", "description": "W3C trace context, when tracing is on."},
                },
            }
        },
    },
}

for message, stream, name in entries:
    subject = f"{roots[stream]}.{name}"
    channel = re.sub(r"[^A-Za-z0-9]", "_", subject.removeprefix("myaccount."))
    path, definition, comment = messages[message]
    doc["channels"][channel] = {
        "address": subject,
        "description": comment or f"{message} events.",
        "messages": {message: {"$ref": f"#/components/messages/{message}"}},
    }
    doc["operations"][f"publish_{channel}"] = {
        "action": "send",
        "channel": {"$ref": f"#/channels/{channel}"},
        "messages": [{"$ref": f"#/channels/{channel}/messages/{message}"}],
    }
    doc["components"]["messages"][message] = {
        "name": message,
        "title": f"myaccount.events.v1.{message}",
        "contentType": "application/protobuf",
        "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
        "payload": {
            "schemaFormat": "application/vnd.google.protobuf;version=3",
            "schema": f"// {path}\nsyntax = \"proto3\";\npackage myaccount.events.v1;\n{definition}\n",
        },
    }

(ROOT / "docs/asyncapi.json").write_text(json.dumps(doc, indent=2) + "\n")
print(f"docs/asyncapi.json: {len(entries)} events")
