"""Thin handlers of the discharge service: load, decide (domain), store, emit."""

from collections.abc import Mapping

from contracts import AssessmentCompleted, DischargeDecided, Event, Pathway, VisitCompleted
from services.discharge import domain, store
from services.discharge.settings import Settings
from shared.consumer import Handler, HandlerContext


async def on_assessment_completed(ctx: HandlerContext, assessment: AssessmentCompleted) -> None:
    if assessment.outcome is Pathway.HOME_TREATMENT:
        await store.open_episode(ctx.conn, assessment)


async def on_visit_completed(ctx: HandlerContext, visit: VisitCompleted) -> None:
    await store.count_visit(ctx.conn, visit)


async def on_discharge_decided(ctx: HandlerContext, decision: DischargeDecided) -> None:
    closed = domain.close(await store.find_episode(ctx.conn, decision.episode_id), decision, ctx.clock.now())
    for event in closed:
        await store.close_episode(ctx.conn, event, decision)
    await ctx.emit(*closed)


def build(_settings: Settings) -> Mapping[type[Event], Handler]:
    return {
        AssessmentCompleted: on_assessment_completed,
        VisitCompleted: on_visit_completed,
        DischargeDecided: on_discharge_decided,
    }
