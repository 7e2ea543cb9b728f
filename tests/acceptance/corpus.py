"""Hostile and extreme input for the containment tests, and the means to watch what becomes of it.

- `Record` and `RawProducer`: a Kafka record sent exactly as given, including what no carepath
  producer would send (a header without a value, bytes that are not UTF-8, no key).
- `corpus`: the poison records derived from one valid event: every way the README's
  "Publishing as a Trust system" contract can be broken, one defect at a time.
- `DeadLetters`: reads the dead-letter topic without decoding anything, so what is checked does
  not depend on the codec under test (a record that crashes the codec must not crash the check).
- `largest`: the largest event a contract allows, computed from the model's field constraints.
"""

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import Enum
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from uuid import UUID, uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from contracts import DEAD_LETTER, TOPICS, Event
from contracts.access import writers
from shared.runtime.kafka import KafkaLogin

Headers = tuple[tuple[str | bytes, bytes | None], ...]  # a name given as bytes is sent as those bytes
NESTING = 1_200  # levels of JSON arrays: deeper than Python's default recursion limit
HUGE_DIGITS = 5_000  # over Python's 4,300-digit limit for int(str)
HUGE_STRING = 900_000  # characters in one field: under a Kafka message, far over any field


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes | None
    headers: Headers


def trust_record(event: Event, *, source: str, correlation_id: UUID, key: str | None = None) -> Record:
    """The event as the README tells a Trust system to publish it: binary-mode CloudEvents."""
    subject = key or event.key
    headers = {
        "ce_id": str(uuid4()),
        "ce_source": source,
        "ce_type": event.cloudevents_type(),
        "ce_specversion": "1.0",
        "ce_time": datetime.now(UTC).isoformat(),
        "ce_subject": subject,
        "ce_correlationid": str(correlation_id),
        "content-type": "application/json",
    }
    return Record(subject.encode(), event.model_dump_json().encode(), tuple((k, v.encode()) for k, v in headers.items()))


def header(record: Record, name: str) -> bytes | None:
    return dict(record.headers).get(name)


def with_header(record: Record, name: str, value: bytes | None) -> Record:
    """The record with one header set (added if absent), or removed when `value` is ... (Ellipsis)."""
    kept = tuple((k, v) for k, v in record.headers if k != name)
    return replace(record, headers=kept if value is ... else (*kept, (name, value)))


@dataclass(frozen=True)
class Poison:
    """One record with one defect. `event` is what it was derived from (for looking for traces
    of it in the services' databases); `names` are what its dead-letter reason should name;
    `echoes` are values it carries that the reason must never repeat."""

    name: str
    record: Record
    event: Event | None = None
    names: tuple[str, ...] = ()
    echoes: tuple[str, ...] = ()
    readable: bool = True  # False: the Kafka client cannot read it, so its dead letter has no value


@dataclass(frozen=True)
class Defects:
    """Where this event type's payload takes each defect."""

    text: str  # a free-text field: the 900 KB string, the deep nesting and the huge integer go here
    required: str  # a required field to leave out
    wrong_types: Mapping[str, Any]  # field -> a value of the wrong JSON type, e.g. {"urgency": "4"}


def corpus(
    template: Callable[[], Event], wrong_topic: Event, defects: Defects, *, source: str, correlation_id: UUID
) -> list[Poison]:
    """Every poison record for one topic, all keyed like `template()` (so on its partition, ahead
    of the valid event that follows), except the one with no key. `template` is called once per
    record, so a template that makes fresh ids gives each poison an identity of its own."""

    def base() -> tuple[Event, Record, dict[str, Any]]:
        event = template()
        record = trust_record(event, source=source, correlation_id=correlation_id)
        return event, record, json.loads(record.value)

    def body(record: Record, payload: dict[str, Any] | str) -> Record:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        return replace(record, value=text.encode())

    poisons: list[Poison] = []

    def add(name: str, make: Callable[[Event, Record, dict[str, Any]], Record], **kw: Any) -> None:
        event, record, payload = base()  # a fresh ce_id each time: no poison is a redelivery of another
        poisons.append(Poison(name, make(event, record, payload), event, **kw))

    ce_type = lambda r: header(r, "ce_type") or b""  # noqa: E731
    add("header ce_source with no value", lambda e, r, p: with_header(r, "ce_source", None))
    add("a header (traceparent) with no value", lambda e, r, p: with_header(r, "traceparent", None))
    add("header ce_type not UTF-8", lambda e, r, p: with_header(r, "ce_type", ce_type(r)[:9] + b"\xff\xfe" + ce_type(r)[9:]))
    add("header ce_subject not UTF-8", lambda e, r, p: with_header(r, "ce_subject", b"\xc3\x28" + (r.key or b"")))
    add("header ce_id missing", lambda e, r, p: with_header(r, "ce_id", ...), names=("ce_id",))
    add("no CloudEvents headers", lambda e, r, p: replace(r, headers=(("content-type", b"application/json"),)))
    add("ce_type unknown on an inbound topic", lambda e, r, p: with_header(r, "ce_type", b"carepath.teleport.requested.v1"))
    add("ce_subject not the event's patient", lambda e, r, p: with_header(r, "ce_subject", str(uuid4()).encode()), names=("subject",))
    add("value not JSON", lambda e, r, p: replace(r, value=b"{this is not json"))
    add("value not UTF-8", lambda e, r, p: replace(r, value=b'{"a": "\xff\xfe"}'))
    add("value JSON but not an object", lambda e, r, p: replace(r, value=b'["a", "list"]'))
    add("no value (a tombstone)", lambda e, r, p: replace(r, value=None))
    huge = "Huge-" + "x" * HUGE_STRING
    add(f"a {HUGE_STRING // 1000} KB string in {defects.text}", lambda e, r, p: body(r, p | {defects.text: huge}),
        names=(defects.text,), echoes=("x" * 40,))
    for name, value in defects.wrong_types.items():
        shown = json.dumps(value)
        add(f"{name}: {shown} (wrong JSON type)", lambda e, r, p, n=name, v=value: body(r, p | {n: v}),
            names=(name,), echoes=(shown,) if len(shown) >= 6 else ())
    add(f"{defects.required} missing", lambda e, r, p: body(r, {k: v for k, v in p.items() if k != defects.required}),
        names=(defects.required,))
    key = base()[1].key
    wrong = trust_record(wrong_topic, source=source, correlation_id=correlation_id)
    assert wrong.key == key, "the wrong-topic event must share the key, so it shares the partition"
    poisons.append(Poison(f"{wrong_topic.cloudevents_type()} on the wrong topic", wrong, wrong_topic))
    add("no Kafka key", lambda e, r, p: replace(r, key=None))
    # Last, so that a decoder these crash, if it blocks the partition, hides nothing else's fate.
    nested = "[" * NESTING + "]" * NESTING
    add(
        f"JSON nested {NESTING} levels deep",
        lambda e, r, p: body(r, json.dumps(p | {defects.text: "@NEST@"}).replace('"@NEST@"', nested)),
    )
    digits = "9" * HUGE_DIGITS
    add(
        f"a {HUGE_DIGITS}-digit integer",
        lambda e, r, p: body(r, json.dumps(p | {defects.text: "@INT@"}).replace('"@INT@"', digits)),
        echoes=("9" * 40,),
    )
    add("a header name not UTF-8", lambda e, r, p: replace(r, headers=(*r.headers, (b"ce_\xff\xfe", b"x"))), readable=False)
    return poisons


class RawProducer:
    """Sends records exactly as given, and says where each landed: to each topic as a principal
    allowed to write it (a faulty or hostile system that has its credentials)."""

    def __init__(self, login: KafkaLogin, prefix: str) -> None:
        self._login = login
        self._producers: dict[str, AIOKafkaProducer] = {}
        self._prefix = prefix

    async def __aenter__(self) -> "RawProducer":
        return self

    async def __aexit__(self, *_: object) -> None:
        for producer in self._producers.values():
            await producer.stop()

    async def send(self, topic: str, record: Record) -> RecordMetadata:
        headers = [(_RawName(name) if isinstance(name, bytes) else name, value) for name, value in record.headers]
        producer = await self._producer_for(topic)
        return await producer.send_and_wait(f"{self._prefix}.{topic}", record.value, key=record.key, headers=headers)

    async def _producer_for(self, topic: str) -> AIOKafkaProducer:
        [writer, *_] = writers(next(known for known in TOPICS if known.name == topic))
        if writer not in self._producers:
            producer = AIOKafkaProducer(**self._login.as_principal(writer).options(), enable_idempotence=True, acks="all")
            await producer.start()
            self._producers[writer] = producer
        return self._producers[writer]


class _RawName(str):
    """A header name that goes on the wire as the bytes given, UTF-8 or not: what anything
    speaking the Kafka protocol can send, though no Kafka client would."""

    def __new__(cls, raw: bytes) -> "_RawName":
        name = super().__new__(cls, raw.decode("utf-8", errors="replace"))
        name.raw = raw
        return name

    def encode(self, *_: object, **__: object) -> bytes:
        return self.raw


def _use_the_python_record_builder() -> None:
    """aiokafka's compiled record builder encodes header names itself; its pure-Python twin (the
    same wire format, what aiokafka runs without its extensions) asks the name, so a `_RawName`
    goes out as its bytes. Set for this test process once, before any producer starts: a batch
    must be built by the class it was begun with."""
    from aiokafka.producer import message_accumulator, producer
    from aiokafka.record import default_records

    message_accumulator.DefaultRecordBatchBuilder = producer.DefaultRecordBatchBuilder = default_records._DefaultRecordBatchBuilderPy


_use_the_python_record_builder()


@dataclass(frozen=True)
class DeadLetter:
    headers: dict[str, str | None]
    value: bytes | None

    @property
    def origin(self) -> tuple[str | None, str | None, str | None]:
        return (
            self.headers.get("dlq_original_topic"),
            self.headers.get("dlq_original_partition"),
            self.headers.get("dlq_original_offset"),
        )


class DeadLetters:
    """Everything on the dead-letter topic, from its beginning, read as bytes."""

    def __init__(self, login: KafkaLogin, prefix: str) -> None:
        self._consumer = AIOKafkaConsumer(
            DEAD_LETTER.full_name(prefix),
            **login.options(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        self.seen: list[DeadLetter] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "DeadLetters":
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _read(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=300)
            for batch in batches.values():
                for record in batch:
                    headers = {
                        name: None if value is None else value.decode("utf-8", errors="replace")
                        for name, value in record.headers or ()
                    }
                    self.seen.append(DeadLetter(headers, record.value))

    def of(self, topic: str, partition: int, offset: int) -> list[DeadLetter]:
        """The dead letters of the record at that position (one per consumer group that refused it)."""
        return [dead for dead in self.seen if dead.origin == (topic, str(partition), str(offset))]


async def eventually(check: Callable[[], Any], within_s: float, every_s: float = 0.2) -> Any:
    """Polls `check` (sync or async) until it answers something true, and returns that answer;
    None if the time is up first."""
    deadline = time.monotonic() + within_s
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(every_s)


# The largest event a contract allows ------------------------------------------------------------


@dataclass(frozen=True)
class _Bounds:
    max_length: int | None = None
    min_length: int | None = None
    pattern: str | None = None
    ge: float | None = None
    le: float | None = None
    examples: tuple[Any, ...] = ()


def _bounds(metadata: Iterable[Any], examples: Iterable[Any] = ()) -> _Bounds:
    found: dict[str, Any] = {"examples": tuple(examples or ())}
    for item in metadata:
        if isinstance(item, FieldInfo):
            inner = _bounds(item.metadata, item.examples or ())
            found.update({k: v for k, v in vars(inner).items() if v not in (None, ())})
            continue
        for name in ("max_length", "min_length", "pattern", "ge", "le"):
            value = getattr(item, name, None)
            if value is not None:
                found[name] = value
    return _Bounds(**found)


@dataclass
class _Filler:
    """Builds the largest value of a type: every bounded string and list at its bound, every
    unbounded list `n` items long and every unbounded string `n` characters long."""

    n: int
    fraction: float = 1.0  # of each bounded string's length (only if even n=0 is too large)
    unbounded: list[str] = field(default_factory=list)

    def value(self, annotation: Any, bounds: _Bounds, where: str) -> Any:
        origin, args = get_origin(annotation), get_args(annotation)
        if origin is Annotated:
            return self.value(args[0], _merge(bounds, _bounds(args[1:])), where)
        if origin in (Union, UnionType):
            options = [a for a in args if a is not NoneType]
            return self.value(options[0], bounds, where)
        if origin is Literal:
            return args[0]
        if origin in (tuple, list):
            item = args[0]
            count = bounds.max_length
            if count is None:
                self.unbounded.append(where)
                count = self.n
            return [self.value(item, _Bounds(), f"{where}[]") for _ in range(count)]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return {
                name: self.value(info.annotation, _bounds(info.metadata, info.examples or ()), f"{where}.{name}")
                for name, info in annotation.model_fields.items()
            }
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            return list(annotation)[0].value
        if annotation is bool:
            return True
        if annotation is int:
            return int(bounds.ge) if bounds.ge is not None else 1
        if annotation is datetime or getattr(annotation, "__name__", "").endswith("Datetime"):  # AwareDatetime
            return datetime.now(UTC).isoformat()
        if annotation is date:
            return date.today().isoformat()
        if annotation is UUID:
            return str(uuid4())
        if annotation is str:
            if bounds.max_length is None:
                self.unbounded.append(where)
                text = "u" * max(self.n, bounds.min_length or 1)
            else:
                text = "m" * max(int(bounds.max_length * self.fraction), bounds.min_length or 1)
            if bounds.pattern is not None and not re.search(bounds.pattern, text):
                return bounds.examples[0] if bounds.examples else "x"  # an id or a code: its example
            return text
        raise TypeError(f"largest(): no rule for {annotation!r} at {where}")


def _merge(outer: _Bounds, inner: _Bounds) -> _Bounds:
    return _Bounds(**{k: getattr(outer, k) if getattr(outer, k) not in (None, ()) else getattr(inner, k) for k in vars(outer)})


@dataclass(frozen=True)
class Largest:
    payload: dict[str, Any]
    size: int  # bytes of JSON
    unbounded: tuple[str, ...]  # where the contract sets no bound (filled up to the budget)
    capped: bool  # the contract allows more than the budget: filled up to the budget


def largest(model: type[BaseModel], fixed: Mapping[str, Any], budget: int) -> Largest:
    """The largest payload of `model` its field constraints allow (with `fixed` fields as given),
    up to `budget` bytes of JSON: where the contract sets no bound, or allows more than the
    budget, it is filled up to the budget instead."""

    def build(n: int, fraction: float = 1.0) -> tuple[dict[str, Any], int, tuple[str, ...]]:
        filler = _Filler(n, fraction)
        payload = {
            name: fixed[name] if name in fixed else filler.value(info.annotation, _bounds(info.metadata, info.examples or ()), name)
            for name, info in model.model_fields.items()
        }
        return payload, len(json.dumps(payload).encode()), tuple(sorted(set(filler.unbounded)))

    payload, size, unbounded = build(0)
    if size > budget:  # bounded, but over the budget: shrink every bounded string alike
        low, high = 0.0, 1.0
        for _ in range(20):
            middle = (low + high) / 2
            low, high = (middle, high) if build(0, middle)[1] <= budget else (low, middle)
        payload, size, unbounded = build(0, low)
        return Largest(payload, size, unbounded, capped=True)
    if not unbounded:
        return Largest(payload, size, unbounded, capped=False)
    low, high = 0, 1
    while build(high)[1] <= budget:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if build(middle)[1] <= budget else (low, middle)
    payload, size, unbounded = build(low)
    return Largest(payload, size, unbounded, capped=True)
