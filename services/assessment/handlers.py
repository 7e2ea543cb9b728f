"""The assessment service's handlers, each one shape: load, decide (domain), store, emit.
The table at the bottom says which event each handler takes. The four consent events are this
service's own handlers: each applies the change with the shared consent handler, then audits it
and re-sends a caring team what it may still see."""

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from contracts import (
    AssessmentShared,
    AssessmentStarted,
    AssessmentStartReported,
    AssessmentSubmitted,
    AssessmentUpdated,
    BreakGlassRequested,
    CarerInformationShared,
    ConsentRecorded,
    ConsentWithdrawn,
    EpisodeClosed,
    EscalationAction,
    EscalationRaised,
    Event,
    ReferralAccepted,
    SharedCopiesErased,
    TeamKind,
    Trust,
)
from services.assessment import domain
from services.assessment.store import Store
from shared.privacy import consent_store
from shared.privacy.audit import disclose
from shared.runtime.context import Handler, HandlerContext

Ctx = HandlerContext[Store, None]


async def on_referral_accepted(ctx: Ctx, accepted: ReferralAccepted) -> None:
    """HTCR takes the referral: it starts from the patient's latest assessment, if there is one."""
    await ctx.store.add_episode(accepted)
    team = domain.htcr(accepted.trust)
    if await ctx.store.join_care(accepted.patient_id, team, accepted.episode_id, ctx.clock.now()):
        await _share_all(ctx, team, accepted.patient_id, accepted.episode_id, reason="joined")


async def on_assessment_start_reported(ctx: Ctx, started: AssessmentStartReported) -> None:
    domain.check_episode(await ctx.store.find_episode(started.episode_id), started.patient_id)
    await _start(ctx, started.patient_id, started.episode_id, started.started_at)


async def on_assessment_submitted(ctx: Ctx, submitted: AssessmentSubmitted) -> None:
    episode = domain.check_episode(await ctx.store.find_episode(submitted.episode_id), submitted.patient_id)
    if not await ctx.store.add_assessment(submitted, ctx.clock.now()):
        return  # resubmitted under a new event id
    await _start(ctx, submitted.patient_id, submitted.episode_id, submitted.assessed_at)  # if not reported before
    version, state = await _record_version(ctx, domain.Change.submitted(submitted))
    await ctx.emit(domain.completed(submitted, version, episode, state))
    await _hand_over(ctx, submitted, episode.trust)


async def on_assessment_updated(ctx: Ctx, update: AssessmentUpdated) -> None:
    if not await ctx.store.source_seen(update.update_id):  # else the same update resent under a new event id
        await _record_version(ctx, domain.Change.updated(update))


async def on_escalation_raised(ctx: Ctx, escalation: EscalationRaised) -> None:
    if escalation.action is EscalationAction.ADMISSION_REQUEST:
        await ctx.store.add_admission_request(escalation)


async def on_episode_closed(ctx: Ctx, closed: EpisodeClosed) -> None:
    domain.check_episode(await ctx.store.find_episode(closed.episode_id), closed.patient_id)
    await ctx.store.leave_care(closed.episode_id, TeamKind.HTCR.value, closed.closed_at)


async def on_break_glass_requested(ctx: Ctx, override: BreakGlassRequested) -> None:
    """The team gets the current assessment now, under the override; the use is alerted."""
    ends = await consent_store.on_break_glass_requested(ctx, override)
    episode_id = await ctx.store.latest_episode(override.patient_id)
    if episode_id is not None:
        await _share_all(ctx, override.recipient, override.patient_id, episode_id, reason="break-glass")
    await ctx.emit(*domain.break_glass_alert(override, episode_id, ends, ctx.clock.now()))


async def end_overrides(ctx: Ctx) -> None:
    """Each override whose window has passed: what it alone disclosed stops opening, the end is
    audited, and a caring team is re-sent what it may still see."""
    for patient_id, override_id, destroyed in await consent_store.end_overrides(ctx):
        await _consent_changed(ctx, patient_id, override_id, "override-ended", destroyed)


async def on_consent_recorded(ctx: Ctx, decision: ConsentRecorded) -> None:
    destroyed = await consent_store.on_consent_recorded(ctx, decision)
    await _consent_changed(ctx, decision.patient_id, decision.consent_id, "recorded", destroyed)
    if await consent_store.was_withdrawn_first(ctx.conn, decision.consent_id):
        # Its withdrawal came first (another order on the wire): audited as if it came after.
        await _consent_changed(ctx, decision.patient_id, decision.consent_id, "withdrawn", 0)


async def on_consent_withdrawn(ctx: Ctx, withdrawal: ConsentWithdrawn) -> None:
    destroyed = await consent_store.on_consent_withdrawn(ctx, withdrawal)
    await _consent_changed(ctx, withdrawal.patient_id, withdrawal.consent_id, "withdrawn", destroyed)


async def on_shared_copies_erased(ctx: Ctx, erasure: SharedCopiesErased) -> None:
    """Audited; nothing is re-sent: the patient asked that those copies be gone."""
    destroyed = await consent_store.on_shared_copies_erased(ctx, erasure)
    state = await ctx.privacy.consent(erasure.patient_id)
    await ctx.emit(domain.copies_erased(erasure, state, destroyed, ctx.clock.now()))


async def _consent_changed(ctx: Ctx, patient_id: UUID, consent_id: UUID, change: str, destroyed: int) -> None:
    """Audits the change; a caring team whose copies just became unreadable is re-sent what it
    may still see (its risk information must not vanish with a withdrawn clinical permit)."""
    state = await ctx.privacy.consent(patient_id)
    audited = domain.consent_changed(state, consent_id, change, patient_id, destroyed, ctx.clock.now())
    if audited is None:
        return  # withdrawing a decision never recorded changes nothing
    await ctx.emit(audited)
    episode_id = await ctx.store.latest_episode(patient_id)
    if destroyed and episode_id and audited.recipient in await ctx.store.caring_teams(patient_id):
        await _share_all(ctx, audited.recipient, patient_id, episode_id, reason="reissued")


async def _start(ctx: Ctx, patient_id: UUID, episode_id: UUID, at: datetime) -> None:
    """The first sign of an assessment stops the referral's response clock."""
    if await ctx.store.start(episode_id, patient_id, at):
        await ctx.emit(AssessmentStarted(patient_id=patient_id, episode_id=episode_id, started_at=at))


async def _hand_over(ctx: Ctx, submitted: AssessmentSubmitted, trust: Trust | None) -> None:
    """The team the outcome hands the patient to joins their care and is sent the whole assessment."""
    team = domain.team_taking_over(submitted.outcome, trust)
    if team and await ctx.store.join_care(submitted.patient_id, team, submitted.episode_id, ctx.clock.now()):
        await _share_all(ctx, team, submitted.patient_id, submitted.episode_id, reason="joined")


async def _record_version(ctx: Ctx, change: domain.Change) -> tuple[int | None, domain.Sections]:
    """Stores what changed as a new version and sends it on. Returns the latest version number
    and the assessment as it now stands."""
    versions = await ctx.store.versions(change.patient_id)
    new = domain.next_version(versions, change.sections)
    if new is None:
        return domain.latest(versions)
    await ctx.store.add_version(change.patient_id, new.number, change.episode_id, change.source_id, new.changes, change.by, change.at)
    await ctx.emit(new.recorded(change.patient_id, change.episode_id, change.at))
    await _send_version(ctx, change, new)
    return new.number, new.state


async def _send_version(ctx: Ctx, change: domain.Change, new: domain.NewVersion) -> None:
    """The changes to every caring team and, where what carers are given changed, to each carer
    consent allows."""
    for team in await ctx.store.caring_teams(change.patient_id):
        await _share(ctx, team, new.changes, "updated", new.number, change.patient_id, change.episode_id)
    if new.carers_to_tell:
        consent_state = await ctx.privacy.consent(change.patient_id)
        for disclosure in domain.carer_information(new.state, change.patient_id, change.episode_id, consent_state, ctx.clock.now()):
            await disclose(ctx, change.patient_id, disclosure, via=CarerInformationShared.cloudevents_type())


async def _share_all(ctx: Ctx, team: str, patient_id: UUID, episode_id: UUID, reason: str) -> None:
    """The whole assessment as it stands, to one team, if there is one yet."""
    number, state = domain.latest(await ctx.store.versions(patient_id))
    if number is not None:
        await _share(ctx, team, state, reason, number, patient_id, episode_id)


async def _share(
    ctx: Ctx, team: str, sections: domain.Sections, reason: str, version: int, patient_id: UUID, episode_id: UUID
) -> None:
    consent_state = await ctx.privacy.consent(patient_id)
    disclosure = domain.share(
        team, sections, reason=reason, version=version, patient_id=patient_id, episode_id=episode_id,
        consent_state=consent_state, now=ctx.clock.now(),
    )
    await disclose(ctx, patient_id, disclosure, via=AssessmentShared.cloudevents_type())


HANDLERS: Mapping[type[Event], Handler] = {
    ReferralAccepted: on_referral_accepted,
    AssessmentStartReported: on_assessment_start_reported,
    AssessmentSubmitted: on_assessment_submitted,
    AssessmentUpdated: on_assessment_updated,
    EpisodeClosed: on_episode_closed,
    EscalationRaised: on_escalation_raised,
    # The consent events: this service's own handlers, each built on the shared one.
    ConsentRecorded: on_consent_recorded,
    ConsentWithdrawn: on_consent_withdrawn,
    SharedCopiesErased: on_shared_copies_erased,
    BreakGlassRequested: on_break_glass_requested,
}
