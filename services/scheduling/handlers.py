"""Thin handlers of the scheduling service: load, decide (domain), store, emit."""

from collections.abc import Mapping
from uuid import uuid4
from zoneinfo import ZoneInfo

from contracts import AssessmentCompleted, Event, VisitOutcomeRecorded
from services.scheduling import domain, store
from services.scheduling.settings import Settings
from shared.consumer import Handler, HandlerContext


def build(settings: Settings) -> Mapping[type[Event], Handler]:
    tz = ZoneInfo(settings.timezone)

    async def on_assessment_completed(ctx: HandlerContext, assessment: AssessmentCompleted) -> None:
        visit = domain.first_visit(assessment, uuid4(), tz)
        if visit and await store.add_episode(ctx.conn, assessment):
            await store.add_visit(ctx.conn, visit)
            await ctx.emit(visit)

    async def on_visit_outcome_recorded(ctx: HandlerContext, outcome: VisitOutcomeRecorded) -> None:
        completed = domain.record_outcome(await store.find_visit(ctx.conn, outcome.visit_id), outcome)
        await store.record_outcome(ctx.conn, outcome)
        await ctx.emit(*completed)

    return {AssessmentCompleted: on_assessment_completed, VisitOutcomeRecorded: on_visit_outcome_recorded}
