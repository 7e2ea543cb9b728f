"""What a domain decides to disclose, as plain values: a copy to seal and send, and one
recipient's share (the consent decision, what may be sent, what carries it). Pure: the domain
builds these; `audit.disclose` seals, emits and audits them."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from contracts import AddressedCopy, Event, InformationCategory, Purpose
from shared.privacy.consent import Decision


@dataclass(frozen=True)
class Copy:
    """A copy to send: its event type, the content to seal and the event's own fields. The
    fields every copy shares (recipient, patient, purpose, categories, consent version) come
    from the disclosure, so they always match the decision."""

    event_type: type[AddressedCopy]
    content: BaseModel
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Disclosure:
    """One recipient's share of something: the decision, what was actually sent, and what
    carries it (None when nothing may be sent)."""

    recipient: str
    purpose: Purpose
    decision: Decision
    disclosed: frozenset[InformationCategory]
    event: Event | Copy | None
