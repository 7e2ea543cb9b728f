"""Events on the wire: CloudEvents binary mode over Kafka.

`encode` turns an event and its envelope into a Kafka key, value and `ce_` headers;
`decode` does the reverse and raises `Undecodable` with a reason that is safe to log and to
put on the dead-letter topic: it names fields and error kinds, never the values received.

Decoding is strict: an event is validated as its published JSON Schema says
(`model_validate_json(..., strict=True)`: no numbers in strings, no "no" for false, no epoch
integers for times), and anything at all that goes wrong while decoding is `Undecodable`, so a
hostile record can only ever be dead-lettered, never retried.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from contracts import Envelope, Event, event_class
from contracts.upcasting import newest, upcast

CE_PREFIX = "ce_"
CONTENT_TYPE = "content-type"
TYPE_HEADER = "ce_type"
_ENVELOPE_HEADERS = ("id", "source", "type", "specversion", "time", "subject", "correlationid", "causationid", "traceparent")
_REQUIRED = ("id", "source", "type", "time", "subject", "correlationid")


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

    @property
    def size(self) -> int:
        """Bytes the record takes in a Kafka batch, near enough: key, value and headers."""
        return len(self.key) + len(self.value) + sum(len(k) + len(v.encode()) for k, v in self.headers.items())


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


def headers_to_dict(headers: Iterable[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """Kafka headers as text, for display: undecodable bytes are kept visible, never refused."""
    return {name: (value or b"").decode("utf-8", errors="replace") for name, value in headers or ()}


def strict_headers(headers: Iterable[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """Kafka headers as text, refusing what no carepath producer sends: a header without a value,
    one that is not UTF-8, or one named twice (which of the two would count?)."""
    text: dict[str, str] = {}
    for name, value in headers or ():
        if value is None:
            raise Undecodable(f"header {_safe_name(name)} has no value")
        try:
            decoded = value.decode("utf-8")
        except UnicodeDecodeError:
            raise Undecodable(f"header {_safe_name(name)} is not UTF-8 text") from None
        if name in text:
            raise Undecodable(f"header {_safe_name(name)} appears more than once")
        text[name] = decoded
    return text


def _safe_name(name: str) -> str:
    """A header name is ours to show only if it is short and plain; anything else is summarised."""
    return name if len(name) <= 40 and name.replace("_", "").replace("-", "").isalnum() else "(unnamed)"


def event_type_of(headers: Iterable[tuple[str, bytes | None]] | None) -> str | None:
    """The `ce_type` header, if it is there and readable: enough to skip an event that is not ours
    without decoding it."""
    for name, value in headers or ():
        if name == TYPE_HEADER and value is not None:
            return value.decode("utf-8", errors="replace")
    return None


def decode_record(headers: Iterable[tuple[str, bytes | None]] | None, key: bytes | None, value: bytes | None) -> tuple[Envelope, Event]:
    """A Kafka record as it arrived: headers strictly text, the key equal to `ce_subject` (so a
    patient's events share a partition), then `decode`. Anything unexpected is `Undecodable`."""
    try:
        text = strict_headers(headers)
        envelope, event = decode(text, value)
        if key is None or key != envelope.subject.encode():
            raise Undecodable("the Kafka key is missing or is not the ce_subject")
        return envelope, event
    except Undecodable:
        raise
    except Exception as error:  # noqa: BLE001 - nothing a sender does may escape as anything but undecodable
        raise Undecodable(f"could not be decoded ({type(error).__name__})") from None


def decode(headers: dict[str, str], value: bytes | None) -> tuple[Envelope, Event]:
    attributes = {name[len(CE_PREFIX) :]: text for name, text in headers.items() if name.startswith(CE_PREFIX)}
    missing = [name for name in _REQUIRED if name not in attributes]
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
    if headers.get(CONTENT_TYPE, "application/json") != "application/json":
        raise Undecodable("content-type is not application/json")
    payload = value or b""
    if not payload.lstrip()[:1] == b"{":
        raise Undecodable(_not_an_object(payload))
    try:
        event = cls.model_validate_json(payload, strict=True)
    except ValidationError as error:
        raise Undecodable(f"invalid {envelope.type}: {describe(error)}") from None
    if event.key != envelope.subject:
        raise Undecodable("ce_subject does not match the event's patient (or referral) id")
    try:
        return envelope, upcast(event)  # an older version, read as the newest (`contracts.upcasting`)
    except ValidationError as error:
        raise Undecodable(f"{envelope.type} does not read as {newest(cls).cloudevents_type()}: {describe(error)}") from None


def _not_an_object(payload: bytes) -> str:
    try:
        parsed = json.loads(payload)
    except (ValueError, RecursionError) as error:
        return f"value is not JSON ({type(error).__name__})"
    return f"value is JSON but not an object (got {type(parsed).__name__})"


def describe(error: ValidationError) -> str:
    """Field locations and error kinds only; pydantic's own message would echo the input."""
    problems = [_problem(item) for item in error.errors(include_input=False, include_url=False)]
    return "; ".join(problems[:10]) + (f" (+{len(problems) - 10} more)" if len(problems) > 10 else "")


def _problem(item: Any) -> str:
    where = ".".join(str(part) if isinstance(part, int) else _safe_name(part) for part in item["loc"]) or "(value)"
    if item["type"] == "json_invalid":  # says where the JSON broke (line, column), never what it held
        return f"value is not JSON ({item.get('ctx', {}).get('error', 'invalid')})"
    # Our own validators' messages (value_error) are written to be safe; pydantic's others are
    # summarised by their type alone.
    return f"{where}: {item['msg']}" if item["type"] == "value_error" else f"{where}: {item['type']}"
