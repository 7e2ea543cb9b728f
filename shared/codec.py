"""Events on the wire: CloudEvents binary mode over Kafka.

`encode` turns an event and its envelope into a Kafka key, value and `ce_` headers;
`decode` does the reverse and raises `Undecodable` with a reason that is safe to log and to
put on the dead-letter topic: it names fields and error kinds, never the values received.
"""

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from contracts import Envelope, Event, event_class

CE_PREFIX = "ce_"
CONTENT_TYPE = "content-type"
_ENVELOPE_HEADERS = ("id", "source", "type", "specversion", "time", "subject", "correlationid", "causationid")


class Undecodable(Exception):
    """A message that can never be processed as it is: goes to the dead-letter topic at once."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownEventType(Undecodable):
    """A `ce_type` carepath does not know: bad input from outside, or a newer carepath event."""


@dataclass(frozen=True)
class KafkaRecord:
    key: bytes
    value: bytes
    headers: dict[str, str]


def encode(event: Event, envelope: Envelope) -> KafkaRecord:
    headers = {
        f"{CE_PREFIX}{name}": _header_text(getattr(envelope, name))
        for name in _ENVELOPE_HEADERS
        if getattr(envelope, name) is not None
    }
    headers[CONTENT_TYPE] = envelope.datacontenttype
    return KafkaRecord(
        key=envelope.subject.encode(),
        value=event.model_dump_json().encode(),
        headers=headers,
    )


def _header_text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def headers_to_dict(headers: Any) -> dict[str, str]:
    """Kafka headers (a sequence of (name, bytes)) as text; undecodable bytes are kept visible."""
    return {name: (value or b"").decode("utf-8", errors="replace") for name, value in headers or ()}


def decode(headers: dict[str, str], value: bytes | None) -> tuple[Envelope, Event]:
    attributes = {name[len(CE_PREFIX) :]: text for name, text in headers.items() if name.startswith(CE_PREFIX)}
    missing = [name for name in ("id", "source", "type", "time", "subject", "correlationid") if name not in attributes]
    if missing:
        raise Undecodable(f"missing CloudEvents header(s): {', '.join('ce_' + name for name in missing)}")
    try:
        envelope = Envelope.model_validate(
            {name: attributes[name] for name in _ENVELOPE_HEADERS if name in attributes}
        )
    except ValidationError as error:
        raise Undecodable(f"invalid CloudEvents headers: {describe(error)}") from None
    cls = event_class(envelope.type)
    if cls is None:
        raise UnknownEventType("unknown event type (see contracts/schemas for the types carepath accepts)")
    try:
        payload = json.loads(value or b"")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise Undecodable(f"value is not JSON ({type(error).__name__} at position {getattr(error, 'pos', '?')})") from None
    if not isinstance(payload, dict):
        raise Undecodable(f"value is JSON but not an object (got {type(payload).__name__})")
    try:
        event = cls.model_validate(payload)
    except ValidationError as error:
        raise Undecodable(f"invalid {envelope.type}: {describe(error)}") from None
    if event.key != envelope.subject:
        raise Undecodable("ce_subject does not match the event's patient (or referral) id")
    return envelope, event


def describe(error: ValidationError) -> str:
    """Field locations and error kinds only; pydantic's own message would echo the input."""
    problems = [_problem(item) for item in error.errors()]
    return "; ".join(problems[:10]) + (f" (+{len(problems) - 10} more)" if len(problems) > 10 else "")


def _problem(item: Any) -> str:
    where = ".".join(str(part) for part in item["loc"]) or "(value)"
    # Our own validators' messages (value_error) are written to be safe; pydantic's others are
    # summarised by their type alone.
    return f"{where}: {item['msg']}" if item["type"] == "value_error" else f"{where}: {item['type']}"
