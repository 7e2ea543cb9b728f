"""Thin handlers of the assessment service: load, decide (domain), store, emit."""

from collections.abc import Mapping

from contracts import AssessmentSubmitted, Event, ReferralAccepted
from services.assessment import domain, store
from services.assessment.settings import Settings
from shared.consumer import Handler, HandlerContext


async def on_referral_accepted(ctx: HandlerContext, accepted: ReferralAccepted) -> None:
    await store.add_episode(ctx.conn, accepted)


async def on_assessment_submitted(ctx: HandlerContext, submitted: AssessmentSubmitted) -> None:
    completed = domain.complete(submitted, await store.find_episode(ctx.conn, submitted.episode_id))
    if await store.add_assessment(ctx.conn, submitted, ctx.clock.now()):
        await ctx.emit(completed)


def build(_settings: Settings) -> Mapping[type[Event], Handler]:
    return {ReferralAccepted: on_referral_accepted, AssessmentSubmitted: on_assessment_submitted}
