"""The AsyncAPI 3.0 document of carepath's event API, written to contracts/asyncapi.yaml: every topic
as a channel, every event type as a message, and which principals send and receive on each.

`python -m contracts.asyncapi` writes it (`make schemas` does both this and the JSON Schemas);
`--check` exits 1 when the committed document is out of date (the test suite runs the same
comparison). Payloads are the JSON Schemas of contracts/schemas/, by reference; who may send or
receive on a topic is contracts/access.py; tools/asyncapi/validate.mjs checks the document with
the AsyncAPI parser.
"""

import argparse
import inspect
import json
import re
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from contracts.access import PRINCIPALS, Kind, Principal, writers
from contracts.envelope import Envelope
from contracts.generate import ContractSchema, example
from contracts.registry import EVENT_TYPES
from contracts.topics import DEAD_LETTER, TOPICS, Topic

ASYNCAPI = Path(__file__).parent / "asyncapi.yaml"
KAFKA_BINDING = "0.5.0"
SCRAM = {"$ref": "#/components/securitySchemes/scram"}
DEAD_LETTER_MESSAGE = "deadletter"

# What the consumer adds to a record it dead-letters (shared/runtime/consumer.py; a test keeps
# the two in step).
DEAD_LETTER_HEADERS = {
    "dlq_reason": "Why it was refused: names fields and kinds of error, never the values received.",
    "dlq_consumer": "The consumer group that refused it (one dead letter per group).",
    "dlq_original_topic": "The topic it arrived on, with its prefix.",
    "dlq_original_partition": "The partition it arrived on.",
    "dlq_original_offset": "Its offset there.",
    "dlq_failed_at": "When it was refused (RFC 3339, with an offset).",
}

INFO = """\
The events that carry a mental-health crisis patient's journey between the teams caring for them
(the community mental health team, the inpatient wards and the home treatment crisis response
team), as they travel on Kafka.

Every message is a [CloudEvent](https://cloudevents.io) in Kafka binary mode: the event is the JSON
value, the envelope travels as `ce_` headers, and the Kafka key is the `ce_subject`. Each topic is
named `<prefix>.<topic>`: the prefix is set per deployment (`carepath` by default,
`CAREPATH_TOPIC_PREFIX`). Each event type travels only on its own topic (anywhere else it is
dead-lettered), and only the principals shown sending on a channel may write to it.

Fields marked `"x-sensitive": true` identify a person or carry clinical text. Within one version an
event type changes only compatibly (no field removed or narrowed, no new required field, the same
topic); a breaking change is a new version, and the old one stays readable."""


def document() -> dict[str, Any]:
    """The whole AsyncAPI document, as data."""
    messages = {name: _message(name, cls) for name, cls in EVENT_TYPES.items()}
    messages[DEAD_LETTER_MESSAGE] = _dead_letter_message()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "carepath events",
            "version": version("carepath"),
            "description": INFO,
            "license": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": _servers(),
        "channels": {topic.name: _channel(topic) for topic in TOPICS},
        "operations": _operations(),
        "components": {
            "messages": messages,
            "schemas": _header_schemas(),
            "parameters": {
                "prefix": {
                    "description": "The deployment's topic prefix (`CAREPATH_TOPIC_PREFIX`), so a second "
                    "deployment on the same cluster never reads another's events.",
                    "default": "carepath",
                    "examples": ["carepath"],
                }
            },
            "correlationIds": {
                "journey": {
                    "description": "Ties together every event of one journey: carepath copies it onto every event it causes.",
                    "location": "$message.header#/ce_correlationid",
                }
            },
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "SASL/SCRAM-SHA-512: every client logs in as one principal of contracts/access.py "
                    "(`carepath access add NAME --like KIND` onboards a Trust system), and the broker allows only "
                    "what that principal's ACLs allow; nothing is allowed without a login.",
                }
            },
        },
    }


def _servers() -> dict[str, Any]:
    return {
        "local": {
            "host": "127.0.0.1:19092",
            "protocol": "kafka",
            "description": "The broker `make infra` starts: SCRAM over plain TCP on the loopback only (SASL_PLAINTEXT).",
            "security": [SCRAM],
        },
        "production": {
            "host": "{bootstrap}",
            "protocol": "kafka-secure",
            "description": "A production broker: SCRAM over TLS (SASL_SSL), as docker-compose.yml runs it.",
            "variables": {
                "bootstrap": {"description": "The deployment's bootstrap server, host:port.", "examples": ["kafka:9092"]}
            },
            "security": [SCRAM],
        },
    }


def _types_on(topic: Topic) -> list[str]:
    if topic is DEAD_LETTER:
        return [DEAD_LETTER_MESSAGE]
    return sorted(name for name, cls in EVENT_TYPES.items() if cls.topic is topic)


def _channel(topic: Topic) -> dict[str, Any]:
    if topic.inbound:
        who = "Published by Trust systems: an event type carepath does not know is dead-lettered."
    elif topic is DEAD_LETTER:
        who = "Written by carepath's services."
    else:
        who = "Published by carepath: a reader skips event types it does not know (a newer carepath may add them)."
    return {
        "address": f"{{prefix}}.{topic.name}",
        "title": topic.name,
        "description": f"{topic.description} {who} {topic.partitions} partitions: the records of one key (each "
        "message says what its key is) stay in order on one partition.",
        "parameters": {"prefix": {"$ref": "#/components/parameters/prefix"}},
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in _types_on(topic)},
        "bindings": {"kafka": {"partitions": topic.partitions, "topicConfiguration": _topic_configuration(topic),
                               "bindingVersion": KAFKA_BINDING}},
    }


def _topic_configuration(topic: Topic) -> dict[str, Any]:
    return {name: value.split(",") if name == "cleanup.policy" else int(value) for name, value in topic.settings.items()}


def _operations() -> dict[str, Any]:
    operations = {}
    for topic in TOPICS:
        for principal in PRINCIPALS:
            if topic in principal.writes:
                operations[f"{topic.name}.send.{principal.name}"] = _operation("send", topic, principal)
            if topic in principal.reads:
                operations[f"{topic.name}.receive.{principal.name}"] = _operation("receive", topic, principal)
    return operations


def _operation(action: str, topic: Topic, principal: Principal) -> dict[str, Any]:
    description = principal.description
    if principal.kind is Kind.TRUST_SYSTEM:
        description += f" Any system onboarded with `carepath access add NAME --like {principal.name}` has the same rights."
    operation: dict[str, Any] = {
        "action": action,
        "channel": {"$ref": f"#/channels/{topic.name}"},
        "summary": f"{principal.name} {'writes to' if action == 'send' else 'reads'} {topic.name}",
        "description": description,
        "security": [SCRAM],
        "tags": [{"name": principal.kind.value}],
        "messages": [{"$ref": f"#/channels/{topic.name}/messages/{name}"} for name in _types_on(topic)],
    }
    if action == "receive" and principal.groups:
        groups = " or ".join(f"`<prefix>-{group}`" for group in principal.groups)
        operation["bindings"] = {"kafka": {
            "groupId": {"type": "string", "description": f"The consumer group: {groups}.",
                        "examples": [f"carepath-{principal.groups[0]}"]},
            "bindingVersion": KAFKA_BINDING,
        }}
    return operation


def _headers() -> dict[str, str]:
    """Envelope attribute -> Kafka header: `ce_<name>`, but the content type is `content-type`."""
    return {name: "content-type" if name == "datacontenttype" else f"ce_{name}" for name in Envelope.model_fields}


def _header_schemas() -> dict[str, Any]:
    properties = Envelope.model_json_schema(schema_generator=ContractSchema)["properties"]
    schemas = {}
    for name, header in _headers().items():
        schema = dict(properties[name])
        # An attribute that may be None is left out, never sent empty: its header is the value.
        alternatives = [branch for branch in schema.pop("anyOf", []) if branch != {"type": "null"}]
        schema.pop("default", None)
        schemas[header] = alternatives[0] | schema if alternatives else schema
    return schemas


def _required_headers() -> list[str]:
    return sorted(header for name, header in _headers().items() if Envelope.model_fields[name].is_required())


def _message(name: str, cls: type) -> dict[str, Any]:
    payload = example(cls)
    key = cls.model_validate(payload).key
    description = inspect.cleandoc(cls.__doc__ or "")
    properties = {header: {"$ref": f"#/components/schemas/{header}"} for header in _headers().values()}
    properties["ce_type"] = {"type": "string", "const": name, "description": "This event's type and version."}
    return {
        "name": name,
        "title": cls.__name__,
        "summary": description.split("\n\n")[0].replace("\n", " "),
        "description": description,
        "contentType": "application/json",
        "headers": {"type": "object", "required": _required_headers(), "properties": properties},
        "payload": {"$ref": f"schemas/{name}.json"},
        "correlationId": {"$ref": "#/components/correlationIds/journey"},
        "bindings": {"kafka": {
            "key": {"type": "string", "description": _key_description(cls, payload, key), "examples": [key]},
            "bindingVersion": KAFKA_BINDING,
        }},
        "examples": [{"name": cls.__name__, "summary": f"A {name} made of each field's example.",
                      "headers": _example_headers(name, cls.topic, key), "payload": payload}],
    }


def _key_description(cls: type, payload: dict[str, Any], key: str) -> str:
    # The property's own docstring when it has one; an override without one is named by the
    # field it returns (read off the example) rather than inheriting the patient-id sentence.
    said = inspect.getattr_static(cls, "key").__doc__
    if said:
        return f"{inspect.cleandoc(said)} The same as `ce_subject`."
    field = next((name for name, value in payload.items() if value == key), None)
    return f"The event's `{field}`, the same as `ce_subject`." if field else "The same as `ce_subject`."


def _example_headers(name: str, topic: Topic, key: str) -> dict[str, str]:
    first = writers(topic)[0]
    envelope = example(Envelope)
    headers = {
        "ce_id": envelope["id"],
        "ce_source": f"/trust/belfast/{first}" if topic.inbound else f"/carepath/{first}",
        "ce_type": name,
        "ce_specversion": "1.0",
        "ce_time": envelope["time"],
        "ce_subject": key,
        "ce_correlationid": envelope["correlationid"],
        "ce_traceparent": envelope["traceparent"],
        "content-type": "application/json",
    }
    if not topic.inbound:  # an event from outside carepath has no cause carepath knows
        headers["ce_causationid"] = envelope["causationid"]
    return headers


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": DEAD_LETTER_MESSAGE,
        "title": "Dead letter",
        "summary": DEAD_LETTER.description,
        "description": "A record a consumer refused, as it arrived: its key and value unchanged, its headers as "
        "text, and the `dlq_` headers saying why and where from. The consumer moves on; nothing is stored "
        "for the bad record.",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "required": sorted(DEAD_LETTER_HEADERS),
            "properties": {name: {"type": "string", "description": said} for name, said in DEAD_LETTER_HEADERS.items()},
        },
        "payload": {"description": "The value as it arrived, unchanged: usually an event's JSON, but not always JSON at all."},
        "bindings": {"kafka": {"key": {"description": "The key as it arrived, unchanged."}, "bindingVersion": KAFKA_BINDING}},
    }


# YAML, written by hand to keep the contracts free of a YAML library: every string is written as a
# JSON string (YAML 1.2 reads JSON's double-quoted strings, escapes and all, as its own), so no
# value can be misread as a number, a boolean or a date; keys stay plain where that is safe.
_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$.\-]*")
_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}


def render(value: dict[str, Any]) -> str:
    """The document as YAML: the top level in the order given, every mapping below it sorted."""
    return "\n".join(_lines(value, 0, ordered=True)) + "\n"


def _lines(value: Any, depth: int, ordered: bool = False) -> list[str]:
    pad = "  " * depth
    lines = []
    if isinstance(value, dict):
        for name in value if ordered else sorted(value):
            item = value[name]
            if _nested(item):
                lines.append(f"{pad}{_key(name)}:")
                lines.extend(_lines(item, depth + 1))
            else:
                lines.append(f"{pad}{_key(name)}: {_scalar(item)}")
    else:
        for item in value:
            if _nested(item):
                inner = _lines(item, depth + 1)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines.extend(inner[1:])
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    return lines


def _nested(value: Any) -> bool:
    return isinstance(value, dict | list | tuple) and len(value) > 0


def _key(name: str) -> str:
    return name if _PLAIN_KEY.fullmatch(name) and name.lower() not in _YAML_WORDS else json.dumps(name)


def _scalar(value: Any) -> str:
    return json.dumps(value)  # also {} and [] for an empty mapping or list


def stale(path: Path = ASYNCAPI) -> bool:
    return not path.exists() or path.read_text() != render(document())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed document is out of date")
    if parser.parse_args().check:
        if stale():
            print(f"out of date (run `make schemas`): {ASYNCAPI}")
            sys.exit(1)
        return
    ASYNCAPI.write_text(render(document()))
    print(f"wrote {ASYNCAPI}")


if __name__ == "__main__":
    main()
