"""Disclosing information and auditing it, written once: every service that sends a patient's
information to someone goes through `disclose`, which emits what may be sent (if anything)
and an append-only audit event of the decision, permit or deny, in the same transaction.
A copy's content is sealed here, for its recipient, with a key that never leaves the database."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg

from contracts import DisclosureAudited, Envelope, InformationCategory, OperatorReadAudited, Purpose
from shared.privacy.consent import Decision
from shared.privacy.disclosure import Copy, Disclosure
from shared.runtime import outbox
from shared.runtime.context import HandlerContext


async def disclose(ctx: HandlerContext, patient_id: UUID, disclosure: Disclosure, via: str) -> None:
    event = disclosure.event
    if isinstance(event, Copy):
        event = event.event_type(
            recipient=disclosure.recipient,
            patient_id=patient_id,
            purpose=disclosure.purpose,
            categories=tuple(sorted(disclosure.disclosed)),
            consent_version=disclosure.decision.consent_version,
            sealed=await ctx.privacy.seal(
                patient_id, disclosure.recipient, event.event_type, event.content, disclosure.disclosed, ctx.clock.now()
            ),
            **event.fields,
        )
    sent = await ctx.emit(event) if event is not None else []
    await audit(ctx, patient_id, disclosure.recipient, disclosure.purpose, disclosure.decision, disclosure.disclosed, via, sent[0].id if sent else None)


async def audit(
    ctx: HandlerContext,
    patient_id: UUID,
    recipient: str,
    purpose: Purpose,
    decision: Decision,
    disclosed: frozenset[InformationCategory],
    via: str,
    event_id: UUID | None,
) -> None:
    await ctx.emit(
        DisclosureAudited(
            patient_id=patient_id,
            recipient=recipient,
            purpose=purpose,
            disclosed=tuple(sorted(disclosed)),
            denied=tuple(sorted(decision.denied)),
            permitted=bool(disclosed),
            consent_version=decision.consent_version,
            reason=decision.reason[:200],
            override=decision.override,
            via=via,
            disclosure_event_id=event_id,
            decided_at=ctx.clock.now(),
        )
    )


async def operator_read(conn: asyncpg.Connection, service: str, patient_id: UUID, operator: str, reason: str, read: str,
                        login: str | None = None) -> None:
    """Queues the audit of an operator's read in the service's own outbox, in the transaction that
    reads: the service publishes it, and nothing is shown unless it is recorded."""
    audited = OperatorReadAudited(patient_id=patient_id, operator=operator, login=(login or "")[:64] or None, reason=reason,
                                  read=read[:100], service=service, read_at=datetime.now(UTC))
    envelope = Envelope(id=uuid4(), source=f"/carepath/{service}", type=audited.cloudevents_type(), time=audited.read_at,
                        subject=audited.key, correlationid=uuid4())
    await outbox.add(conn, (audited, envelope))
