"""Disclosing information and auditing it, written once: every service that sends a patient's
information to someone goes through `disclose`, which emits what may be sent (if anything)
and an append-only audit event of the decision, permit or deny, in the same transaction."""

from dataclasses import dataclass
from uuid import UUID

from contracts import DisclosureAudited, Event, InformationCategory, Purpose
from shared.consent import Decision
from shared.consumer import HandlerContext


@dataclass(frozen=True)
class Disclosure:
    """One recipient's share of something: the decision, what was actually sent, and the event
    that carries it (None when nothing may be sent)."""

    recipient: str
    purpose: Purpose
    decision: Decision
    disclosed: frozenset[InformationCategory]
    event: Event | None


async def disclose(ctx: HandlerContext, patient_id: UUID, disclosure: Disclosure, via: str) -> None:
    sent = await ctx.emit(disclosure.event) if disclosure.event is not None else []
    await ctx.emit(
        DisclosureAudited(
            patient_id=patient_id,
            recipient=disclosure.recipient,
            purpose=disclosure.purpose,
            disclosed=tuple(sorted(disclosure.disclosed)),
            denied=tuple(sorted(disclosure.decision.denied)),
            permitted=bool(disclosure.disclosed),
            consent_version=disclosure.decision.consent_version,
            reason=disclosure.decision.reason[:200],
            override=disclosure.decision.override,
            via=via,
            disclosure_event_id=sent[0].id if sent else None,
            decided_at=ctx.clock.now(),
        )
    )
