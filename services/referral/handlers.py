"""Thin handlers and jobs of the referral service: load, decide (domain), store, emit."""

import hashlib
from collections.abc import Mapping
from uuid import uuid4

from contracts import AssessmentStarted, EpisodeClosed, Event, ReferralSubmitted, ServiceDirectoryPublished, Trust
from services.referral import domain, store
from services.referral.rules import TrustRules
from shared.runtime.context import Handler, HandlerContext
from shared.reference.directory import Directory


def build(
    rules: Mapping[Trust, TrustRules], directory: Directory, lookup_key: bytes, sealing_key: bytes
) -> Mapping[type[Event], Handler]:
    async def on_referral_submitted(ctx: HandlerContext, referral: ReferralSubmitted) -> None:
        hc_number = domain.checked_hc_number(referral)
        if await store.referral_exists(ctx.conn, referral):
            return  # the same referral resent under a new event id: already decided
        lookup = store.hc_lookup(lookup_key, hc_number)
        patient = await store.find_or_add_patient(ctx.conn, lookup, sealing_key, referral, hc_number, uuid4())
        now = ctx.clock.now()
        triage = domain.triage(referral, patient, rules[referral.trust], directory, uuid4(), now)
        await store.record(ctx.conn, referral, triage.decision, now, ctx.envelope.correlationid)
        await ctx.emit(*triage.events)

    async def on_assessment_started(ctx: HandlerContext, started: AssessmentStarted) -> None:
        await store.assessment_started(ctx.conn, started.episode_id, started.started_at)

    async def on_episode_closed(ctx: HandlerContext, closed: EpisodeClosed) -> None:
        await store.close_episode(ctx.conn, closed.episode_id, closed.closed_at)

    return {
        ReferralSubmitted: on_referral_submitted,
        AssessmentStarted: on_assessment_started,
        EpisodeClosed: on_episode_closed,
    }


async def check_deadlines(ctx: HandlerContext) -> None:
    """Emits one breach for each accepted referral whose assessment has not started in time."""
    now = ctx.clock.now()
    for deadline, correlation_id in await store.overdue(ctx.conn, now):
        for breach in domain.breaches([deadline], now):
            await store.mark_breached(ctx.conn, deadline.trust, deadline.referral_id, now)
            await ctx.emit(breach, correlation_id=correlation_id)


def publish_directory(directory: Directory):  # noqa: ANN201 - returns a start-up job
    async def job(ctx: HandlerContext) -> None:
        """Publishes each Trust's directory when it has changed since it was last published."""
        for trust in Trust:
            entries = directory.for_trust(trust)
            digest = hashlib.sha256("".join(entry.model_dump_json() for entry in entries).encode()).hexdigest()
            if await store.directory_hash(ctx.conn, trust) != digest:
                now = ctx.clock.now()
                await ctx.emit(ServiceDirectoryPublished(trust=trust, entries=entries, published_at=now))
                await store.directory_published(ctx.conn, trust, digest, now)

    return job
