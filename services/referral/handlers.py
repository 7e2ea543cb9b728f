"""The referral service's handlers and jobs, each one shape: load, decide (domain), store, emit.
The table at the bottom says which event each handler takes."""

from collections.abc import Mapping
from dataclasses import dataclass
from uuid import uuid4

from contracts import AssessmentStarted, EpisodeClosed, Event, ReferralSubmitted, Trust
from services.referral import domain
from services.referral.rules import TrustRules
from services.referral.store import Store
from shared.reference.directory import Directory
from shared.runtime.context import Handler, HandlerContext


@dataclass(frozen=True)
class Dependencies:
    rules: Mapping[Trust, TrustRules]
    directory: Directory


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


async def on_episode_closed(ctx: Ctx, closed: EpisodeClosed) -> None:
    await ctx.store.close_episode(closed.episode_id, closed.closed_at)


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
    EpisodeClosed: on_episode_closed,
}
