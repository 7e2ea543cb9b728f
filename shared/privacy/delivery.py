"""The receiving end of copies: a copy reaches its recipient only if it passes consent on receipt.

A service that sends copies also receives them off the log and delivers them (records them as
given to the recipient, who opens them through the service that holds the key). On receipt:
1. it waits until the service has applied every consent event already on the log (its main
   consumer group has committed the consent topic to its end), so nothing published before
   this moment is missed;
2. it checks the copy is one it sealed, as the copy says (`copies.provenance`: the key made
   here, the copy opens with it for its patient and recipient, its categories ones the key
   sealed), never trusting what the copy says of itself; then against that consent state
   (`consent.check_receipt`), decided afresh: a copy no longer wholly permitted is refused
   whole, and the refusal is audited; so is a copy whose key was destroyed while it was in
   flight (the recipient could not open it; a caring team is re-sent what it may still see).
A withdrawal that lands while a copy is in flight therefore wins; the key it destroyed keeps
the copy on the log unreadable too.
"""

from collections.abc import Awaitable, Callable, Mapping

from contracts import AddressedCopy
from shared.privacy import consent
from shared.privacy.audit import audit
from shared.runtime.context import Handler, HandlerContext
from shared.runtime.errors import NotYetKnown
from shared.runtime.failpoints import hold

RECEIPT = "receipt of "

# Whether the service has applied every consent event on the log at a moment (time.monotonic()).
CaughtUp = Callable[[float], Awaitable[bool]]


def handlers(consent_caught_up: CaughtUp, *copy_types: type[AddressedCopy]) -> Mapping[type[AddressedCopy], Handler]:
    async def receive(ctx: HandlerContext, copy: AddressedCopy) -> None:
        """Delivers a copy this service sent, or refuses it; copies from other services are theirs."""
        if ctx.envelope is None or ctx.envelope.source != ctx.source:
            return
        await hold("delivery")
        moment = ctx.clock.now()  # before asking: everything on the consent topic by now counts
        if not await consent_caught_up(ctx.received_at):  # waits; a service this far behind parks the copy
            raise NotYetKnown("consent events already published are not applied here yet")
        state = await ctx.privacy.consent(copy.patient_id)
        sealed = await ctx.privacy.provenance(copy)
        if sealed.forged:
            verdict = consent.Decision(frozenset(), frozenset(copy.categories), f"refused on receipt: {sealed.forged}", state.version)
        else:
            verdict = consent.check_receipt(state, copy.recipient, copy.purpose, frozenset(copy.categories), copy.consent_version, moment)
        if verdict.permitted and sealed.destroyed:
            verdict = consent.Decision(
                frozenset(), verdict.permitted, "its key was destroyed in flight (consent changed or copies erased)", state.version
            )
        if not verdict.permitted:
            await audit(ctx, copy.patient_id, copy.recipient, copy.purpose, verdict, frozenset(), RECEIPT + ctx.envelope.type, ctx.envelope.id)
            return
        await ctx.privacy.delivered(ctx.envelope.id, copy, ctx.envelope.type, state.version, moment)

    return {copy_type: receive for copy_type in copy_types}
