"""Thin handlers of the referral service: load, decide (domain), store, emit."""

from collections.abc import Mapping
from uuid import uuid4

from contracts import Event, ReferralSubmitted
from services.referral import domain, store
from services.referral.settings import Settings
from shared.consumer import Handler, HandlerContext


def build(settings: Settings) -> Mapping[type[Event], Handler]:
    identity_key = settings.identity_key.get_secret_value().encode()

    async def on_referral_submitted(ctx: HandlerContext, referral: ReferralSubmitted) -> None:
        hc_number = domain.checked_hc_number(referral)
        if await store.referral_exists(ctx.conn, referral):
            return  # the same referral resent under a new event id: already decided
        lookup = store.hc_lookup(identity_key, hc_number)
        patient = await store.find_or_add_patient(ctx.conn, lookup, hc_number, referral.patient_name, uuid4())
        decision = domain.triage(referral, patient, uuid4(), ctx.clock.now())
        await store.record_decision(ctx.conn, referral, patient, decision, ctx.clock.now())
        await ctx.emit(decision)

    return {ReferralSubmitted: on_referral_submitted}
