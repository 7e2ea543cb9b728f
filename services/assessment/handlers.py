"""Thin handlers of the assessment service: load, decide (domain), store, emit."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from uuid import UUID

from contracts import (
    CarerInformationShared,
    ConsentChangeAudited,
    ConsentRecorded,
    ConsentWithdrawn,
    SectionName,
    SharedCopiesErased,
    BreakGlassAlerted,
    BreakGlassRequested,
    AssessmentShared,
    AssessmentStarted,
    AssessmentStartReported,
    AssessmentSubmitted,
    AssessmentUpdated,
    AssessmentVersionRecorded,
    EpisodeClosed,
    EscalationAction,
    EscalationRaised,
    Event,
    ReferralAccepted,
)
from services.assessment import domain, store
from services.assessment.settings import Settings
from shared.privacy import consent_store
from shared.privacy.audit import disclose
from shared.runtime.context import Handler, HandlerContext


async def on_referral_accepted(ctx: HandlerContext, accepted: ReferralAccepted) -> None:
    """HTCR takes the referral: it starts from the patient's latest assessment, if there is one."""
    await store.add_episode(ctx.conn, accepted)
    team = f"htcr:{accepted.trust.value}"
    if await store.join_care(ctx.conn, accepted.patient_id, team, accepted.episode_id, ctx.clock.now()):
        await _share_all(ctx, [team], accepted.patient_id, accepted.episode_id, reason="joined")


async def on_assessment_start_reported(ctx: HandlerContext, started: AssessmentStartReported) -> None:
    domain.check_episode(await store.find_episode(ctx.conn, started.episode_id), started.patient_id)
    await _start(ctx, started.patient_id, started.episode_id, started.started_at)


async def on_assessment_submitted(ctx: HandlerContext, submitted: AssessmentSubmitted) -> None:
    episode = domain.check_episode(await store.find_episode(ctx.conn, submitted.episode_id), submitted.patient_id)
    if not await store.add_assessment(ctx.conn, submitted, ctx.clock.now()):
        return  # resubmitted under a new event id
    await _start(ctx, submitted.patient_id, submitted.episode_id, submitted.assessed_at)  # if not reported before
    version, state = await _record_version(
        ctx,
        submitted.patient_id,
        submitted.episode_id,
        submitted.assessment_id,
        submitted.sections.present(),
        submitted.assessed_by,
        submitted.assessed_at,
    )
    skills = domain.required_skills(state)
    await ctx.emit(domain.completed(submitted, version, episode.trust if episode else None, skills))
    team = domain.team_taking_over(submitted.outcome, episode.trust if episode else None)
    if team and await store.join_care(ctx.conn, submitted.patient_id, team, submitted.episode_id, ctx.clock.now()):
        await _share_all(ctx, [team], submitted.patient_id, submitted.episode_id, reason="joined")


async def on_assessment_updated(ctx: HandlerContext, update: AssessmentUpdated) -> None:
    if await store.source_seen(ctx.conn, update.update_id):
        return  # the same update resent under a new event id
    await _record_version(
        ctx, update.patient_id, update.episode_id, update.update_id, update.sections.present(), update.updated_by, update.updated_at
    )


async def on_escalation_raised(ctx: HandlerContext, escalation: EscalationRaised) -> None:
    if escalation.action is EscalationAction.ADMISSION_REQUEST:
        await store.add_admission_request(ctx.conn, escalation)


async def on_break_glass_requested(ctx: HandlerContext, override: BreakGlassRequested) -> None:
    """The team gets the current assessment now, under the override; the use is alerted."""
    await consent_store.on_break_glass_requested(ctx, override)
    versions = await store.versions(ctx.conn, override.patient_id)
    episode_id = await store.latest_episode(ctx.conn, override.patient_id)
    if versions and episode_id:
        await _emit_share(ctx, override.recipient, domain.current(versions), "break-glass", versions[-1].number, override.patient_id, episode_id)
    await ctx.emit(
        BreakGlassAlerted(
            patient_id=override.patient_id,
            override_id=override.override_id,
            recipient=override.recipient,
            staff_id=override.staff_id,
            categories=override.categories,
            expires_at=override.requested_at + timedelta(minutes=override.minutes),
            alerted_at=ctx.clock.now(),
        )
    )


async def on_consent_recorded(ctx: HandlerContext, decision: ConsentRecorded) -> None:
    destroyed = await consent_store.on_consent_recorded(ctx, decision)
    await _consent_changed(ctx, decision.patient_id, decision.consent_id, "recorded", destroyed)
    if await consent_store.was_withdrawn_first(ctx.conn, decision.consent_id):
        # Its withdrawal came first (another order on the wire): audited as if it came after.
        await _consent_changed(ctx, decision.patient_id, decision.consent_id, "withdrawn", 0)


async def on_consent_withdrawn(ctx: HandlerContext, withdrawal: ConsentWithdrawn) -> None:
    destroyed = await consent_store.on_consent_withdrawn(ctx, withdrawal)
    await _consent_changed(ctx, withdrawal.patient_id, withdrawal.consent_id, "withdrawn", destroyed)


async def on_shared_copies_erased(ctx: HandlerContext, erasure: SharedCopiesErased) -> None:
    """Audited; nothing is re-sent: the patient asked that those copies be gone."""
    destroyed = await consent_store.on_shared_copies_erased(ctx, erasure)
    await ctx.emit(
        ConsentChangeAudited(
            patient_id=erasure.patient_id,
            consent_id=erasure.erasure_id,
            change="copies-erased",
            recipient=erasure.recipient or "everyone",
            permit=False,
            categories=(),
            consent_version=(await consent_store.load(ctx.conn, erasure.patient_id)).version,
            keys_destroyed=destroyed,
            changed_at=ctx.clock.now(),
        )
    )


async def _consent_changed(ctx: HandlerContext, patient_id: UUID, consent_id: UUID, change: str, destroyed: int) -> None:
    """Audits the change; a caring team whose copies just became unreadable is re-sent what it
    may still see (its risk information must not vanish with a withdrawn clinical permit)."""
    state = await consent_store.load(ctx.conn, patient_id)
    decision = next((d for d in state.decisions if d.consent_id == consent_id), None)
    if decision is None:
        return  # withdrawing a decision never recorded changes nothing
    recipient = decision.recipient
    await ctx.emit(
        ConsentChangeAudited(
            patient_id=patient_id,
            consent_id=consent_id,
            change=change,
            recipient=recipient,
            permit=decision.permit,
            categories=tuple(sorted(decision.categories)),
            consent_version=state.version,
            keys_destroyed=destroyed,
            changed_at=ctx.clock.now(),
        )
    )
    episode_id = await store.latest_episode(ctx.conn, patient_id)
    if destroyed and episode_id and recipient in await store.caring_teams(ctx.conn, patient_id):
        await _share_all(ctx, [recipient], patient_id, episode_id, reason="reissued")


async def on_episode_closed(ctx: HandlerContext, closed: EpisodeClosed) -> None:
    domain.check_episode(await store.find_episode(ctx.conn, closed.episode_id), closed.patient_id)
    await store.leave_care(ctx.conn, closed.episode_id, "htcr", closed.closed_at)


async def _start(ctx: HandlerContext, patient_id: UUID, episode_id: UUID, at: datetime) -> None:
    """The first sign of an assessment stops the referral's response clock."""
    if await store.start(ctx.conn, episode_id, patient_id, at):
        await ctx.emit(AssessmentStarted(patient_id=patient_id, episode_id=episode_id, started_at=at))


async def _record_version(
    ctx: HandlerContext, patient_id: UUID, episode_id: UUID, source_id: UUID, incoming: domain.Sections, by: str, at: datetime
) -> tuple[int | None, domain.Sections]:
    """Stores what changed as a new version and sends the changes to every caring team.
    Returns the latest version number and the assessment as it now stands."""
    versions = await store.versions(ctx.conn, patient_id)
    before = domain.current(versions)
    changes = domain.changed(before, incoming)
    if not changes:
        return (versions[-1].number if versions else None), before
    state = before | changes
    number = (versions[-1].number if versions else 0) + 1
    await store.add_version(ctx.conn, patient_id, number, episode_id, source_id, changes, by, at)
    await ctx.emit(
        AssessmentVersionRecorded(
            patient_id=patient_id,
            episode_id=episode_id,
            assessment_version=number,
            changed_sections=tuple(changes),
            recorded_at=at,
            required_skills=domain.required_skills(state),
        )
    )
    for team in await store.caring_teams(ctx.conn, patient_id):
        await _emit_share(ctx, team, changes, "updated", number, patient_id, episode_id)
    if {SectionName.CRISIS_PLAN, SectionName.FAMILY_AND_CARERS} & changes.keys():
        consent_state = await consent_store.load(ctx.conn, patient_id)
        for disclosure in domain.carer_information(state, patient_id, episode_id, consent_state, ctx.clock.now()):
            await disclose(ctx, patient_id, disclosure, via=CarerInformationShared.cloudevents_type())
    return number, state


async def _share_all(ctx: HandlerContext, teams: list[str], patient_id: UUID, episode_id: UUID, reason: str) -> None:
    versions = await store.versions(ctx.conn, patient_id)
    if versions:
        for team in teams:
            await _emit_share(ctx, team, domain.current(versions), reason, versions[-1].number, patient_id, episode_id)


async def _emit_share(
    ctx: HandlerContext, team: str, sections: domain.Sections, reason: str, version: int, patient_id: UUID, episode_id: UUID
) -> None:
    disclosure = domain.share(
        team,
        sections,
        reason=reason,
        version=version,
        patient_id=patient_id,
        episode_id=episode_id,
        consent_state=await consent_store.load(ctx.conn, patient_id),
        now=ctx.clock.now(),
    )
    await disclose(ctx, patient_id, disclosure, via=AssessmentShared.cloudevents_type())


def build(_settings: Settings) -> Mapping[type[Event], Handler]:
    return {
        ReferralAccepted: on_referral_accepted,
        AssessmentStartReported: on_assessment_start_reported,
        AssessmentSubmitted: on_assessment_submitted,
        AssessmentUpdated: on_assessment_updated,
        EpisodeClosed: on_episode_closed,
        EscalationRaised: on_escalation_raised,
        **consent_store.HANDLERS,
        ConsentRecorded: on_consent_recorded,
        ConsentWithdrawn: on_consent_withdrawn,
        SharedCopiesErased: on_shared_copies_erased,
        BreakGlassRequested: on_break_glass_requested,
    }
