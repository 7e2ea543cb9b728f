"""The referral service's handlers and jobs, each one shape: load, decide (domain), store, emit.
The table at the bottom says which event each handler takes."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from contracts import (
    AssessmentCompleted,
    AssessmentStarted,
    EpisodeClosed,
    Event,
    ReferralStatusChanged,
    ReferralSubmitted,
    Trust,
    VisitCompleted,
    VisitMissed,
)
from services.referral import closed_loop, domain
from services.referral.rules import TrustRules
from services.referral.store import Store
from shared.privacy import consent_store
from shared.privacy.audit import disclose
from shared.reference.directory import Directory
from shared.runtime.context import Handler, HandlerContext
from shared.runtime.errors import named_episode


@dataclass(frozen=True)
class Dependencies:
    rules: Mapping[Trust, TrustRules]
    directory: Directory
    tz: ZoneInfo = ZoneInfo("Europe/Belfast")


Ctx = HandlerContext[Store, Dependencies]


async def on_referral_submitted(ctx: Ctx, referral: ReferralSubmitted) -> None:
    hc_number = domain.checked_hc_number(referral)
    referring_system = ctx.envelope.source
    earlier = await ctx.store.referred_patient(referring_system, referral.referral_id)
    if earlier is not None:  # the same referral resent (already decided), or its id reused for someone else
        domain.check_resent(earlier, await ctx.store.patient_with(hc_number))
        return
    patient = await ctx.store.find_or_add_patient(referral, hc_number, new_id=uuid4())
    now = ctx.clock.now()
    triage = domain.triage(referral, patient, ctx.deps.rules[referral.trust], ctx.deps.directory, uuid4(), now)
    await ctx.store.record(referral, referring_system, triage.decision, now, ctx.envelope.correlationid, ctx.trace)
    await ctx.emit(*triage.events)


async def on_assessment_started(ctx: Ctx, started: AssessmentStarted) -> None:
    await ctx.store.assessment_started(started.episode_id, started.started_at)


async def on_assessment_completed(ctx: Ctx, completed: AssessmentCompleted) -> None:
    await _tell_referrers(ctx, completed.patient_id, completed.episode_id, lambda told: closed_loop.assessed(told, completed))


async def on_visit_completed(ctx: Ctx, visit: VisitCompleted) -> None:
    await _tell_referrers(ctx, visit.patient_id, visit.episode_id, lambda told: closed_loop.visit_completed(told, visit.completed_at))


async def on_visit_missed(ctx: Ctx, visit: VisitMissed) -> None:
    await _tell_referrers(ctx, visit.patient_id, visit.episode_id, lambda told: closed_loop.visit_missed(told, visit.window_end))


async def on_episode_closed(ctx: Ctx, closed: EpisodeClosed) -> None:
    await _tell_referrers(ctx, closed.patient_id, closed.episode_id, lambda told: closed_loop.discharged(told, closed))
    await ctx.store.close_episode(closed.episode_id, closed.closed_at)


async def _tell_referrers(ctx: Ctx, patient_id: UUID, episode_id: UUID,
                          step: Callable[[closed_loop.Progress], tuple[closed_loop.Progress, closed_loop.Change | None]]) -> None:
    """The closed loop: each referrer of the episode told of a change, as consent lets it see."""
    episode = named_episode(await ctx.store.referred_episode(episode_id), patient_id, "the referral that opened the episode")
    told = await ctx.store.progress(episode_id)
    progress, change = step(told)
    if progress == told:
        return
    now = ctx.clock.now()
    await ctx.store.save_progress(episode_id, progress, now)
    if change is None:
        return
    state = await ctx.privacy.consent(patient_id)
    for share in closed_loop.tell(episode.referrers, change, patient_id, episode_id, state, ctx.deps.tz, now):
        await disclose(ctx, patient_id, share, via=ReferralStatusChanged.cloudevents_type())


async def check_deadlines(ctx: Ctx) -> None:
    """Emits one breach for each accepted referral whose assessment has not started in time, in
    the referral's journey and trace."""
    now = ctx.clock.now()
    for deadline, correlation_id, trace in await ctx.store.overdue(now):
        for breach in domain.breaches([deadline], now):
            await ctx.store.mark_breached(deadline.episode_id, now)
            await ctx.emit(breach, correlation_id=correlation_id, trace=trace)


async def publish_directory(ctx: Ctx) -> None:
    """At start: each Trust's directory, published again where it changed since last time."""
    now = ctx.clock.now()
    for trust in Trust:
        change = domain.directory_change(ctx.deps.directory, trust, await ctx.store.directory_hash(trust), now)
        if change is not None:
            await ctx.emit(change.event)
            await ctx.store.directory_published(trust, change.digest, now)


HANDLERS: Mapping[type[Event], Handler] = {
    ReferralSubmitted: on_referral_submitted,
    AssessmentStarted: on_assessment_started,
    AssessmentCompleted: on_assessment_completed,
    VisitCompleted: on_visit_completed,
    VisitMissed: on_visit_missed,
    EpisodeClosed: on_episode_closed,
    **consent_store.HANDLERS,
}
