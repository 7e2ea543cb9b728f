"""The middle tier's stand-in for the runtime: a handler context that records what a handler
emits instead of writing the outbox, with whatever small fake store the test gives it. The
handler under test is the real one; only the database and the broker are missing."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from contracts import AddressedCopy, Envelope, Event, Sealed
from shared.privacy.consent import ConsentState
from tests.factories import NOW, envelope_for


@dataclass
class FixedClock:
    at: datetime = NOW

    def now(self) -> datetime:
        return self.at


@dataclass
class FakePrivacy:
    """The privacy tables' store: each patient's consent as the test sets it, the carers their
    decisions name, and copies "sealed" with a random key (nothing is encrypted here)."""

    consent_of: dict[UUID, ConsentState] = field(default_factory=dict)
    carers_of: dict[UUID, list[str]] = field(default_factory=dict)
    sealed: list[tuple[UUID, str, type]] = field(default_factory=list)  # patient, recipient, copy type
    kept: dict[UUID, tuple[UUID, str, str, str]] = field(default_factory=dict)  # key id: patient, holder, record, words

    async def consent(self, patient_id: UUID) -> ConsentState:
        return self.consent_of.get(patient_id, ConsentState())

    async def carers(self, patient_id: UUID) -> list[str]:
        return self.carers_of.get(patient_id, [])

    async def seal(self, patient_id: UUID, recipient: str, event_type: type[AddressedCopy], content: Any, categories: Any, now: datetime) -> Sealed:
        self.sealed.append((patient_id, recipient, event_type))
        return Sealed(key_id=uuid4(), ciphertext="A" * 64)

    async def seal_kept(self, patient_id: UUID, holder: str, bound_to: str, words: str, now: datetime) -> Sealed:
        """Words kept at rest: "sealed" as a random key id, the words kept beside it for the test to find."""
        sealed = Sealed(key_id=uuid4(), ciphertext="A" * 64)
        self.kept[sealed.key_id] = (patient_id, holder, bound_to, words)
        return sealed


@dataclass
class Emitted:
    event: Event
    correlation_id: UUID | None
    trace: str | None = None


@dataclass
class FakeContext:
    """What a handler is given, with the store and dependencies the test chooses."""

    store: Any
    deps: Any = None
    clock: FixedClock = field(default_factory=FixedClock)
    envelope: Envelope | None = None
    emitted: list[Emitted] = field(default_factory=list)
    committing_soon: bool = False
    source: str = "test"
    privacy: FakePrivacy = field(default_factory=FakePrivacy)
    trace: str | None = None  # the traceparent of the span the event is handled in

    @classmethod
    def for_event(cls, event: Event, store: Any, deps: Any = None, **fields: Any) -> "FakeContext":
        return cls(store, deps, envelope=envelope_for(event), **fields)

    def commit_soon(self) -> None:
        self.committing_soon = True

    async def emit(self, *events: Event, correlation_id: UUID | None = None, causation_id: UUID | None = None,
                   trace: str | None = None) -> list[Envelope]:
        correlation = correlation_id or (self.envelope.correlationid if self.envelope else None)
        self.emitted.extend(Emitted(event, correlation, trace or self.trace) for event in events)
        return [envelope_for(event, id=uuid4()) for event in events]

    def events(self, kind: type[Event] | None = None) -> list[Event]:
        return [item.event for item in self.emitted if kind is None or isinstance(item.event, kind)]
