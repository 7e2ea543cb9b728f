"""The receiving end of copies: a copy reaches its recipient only if it passes consent on receipt.

A service that sends copies also receives them off the log and delivers them (records them as
given to the recipient, who opens them through the service that holds the key). On receipt it
checks the copy against its own, possibly newer, consent state (`consent.check_receipt`), so a
withdrawal that arrived while the copy was in flight wins: the copy is refused, the refusal is
audited, and the key already destroyed by the withdrawal keeps what is on the log unreadable.
"""

from contracts import AddressedCopy
from shared import consent, consent_store
from shared.audit import audit
from shared.consumer import HandlerContext
from shared.failpoints import hold

RECEIPT = "receipt of "


async def receive(ctx: HandlerContext, copy: AddressedCopy) -> None:
    """Delivers a copy this service sent, or refuses it; copies from other services are theirs."""
    if ctx.envelope is None or ctx.envelope.source != ctx.source:
        return
    await hold("delivery")
    now = ctx.clock.now()
    state = await consent_store.load(ctx.conn, copy.patient_id)
    verdict = consent.check_receipt(state, copy.recipient, copy.purpose, frozenset(copy.categories), copy.consent_version, now)
    if verdict.permitted:
        await ctx.conn.execute(
            "INSERT INTO deliveries (event_id, patient_id, recipient, event_type, key_id, consent_version, delivered_at, copy) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING",
            ctx.envelope.id,
            copy.patient_id,
            copy.recipient,
            ctx.envelope.type,
            copy.sealed.key_id,
            copy.consent_version,
            now,
            copy.model_dump_json(),
        )
        return
    await audit(ctx, copy.patient_id, copy.recipient, copy.purpose, verdict, frozenset(), RECEIPT + ctx.envelope.type, ctx.envelope.id)


def handlers(*copy_types: type[AddressedCopy]) -> dict:
    return {copy_type: receive for copy_type in copy_types}
