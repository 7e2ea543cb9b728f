"""The discharge service's handlers and jobs, each one shape: load, decide (domain), store, emit.
The table at the bottom says which event each handler takes; the consent events are handled by
the shared consent handlers, as in every service that discloses information."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from contracts import (
    AssessmentCompleted,
    CrisisContactsGiven,
    DischargeConversationRecorded,
    DischargeDecided,
    DischargeMeetingArranged,
    DischargeNotificationAcknowledged,
    DischargeProposed,
    DischargeSummaryIssued,
    EpisodeClosed,
    Event,
    FeedbackReceived,
    FollowOnCareArranged,
    FollowUpContactRecorded,
    FollowUpSource,
    NotificationSent,
    Pathway,
    ServiceKind,
    Trust,
    VisitCompleted,
    WardDischargeRecorded,
)
from services.discharge import domain, feedback
from services.discharge.rules import DischargeRules
from services.discharge.store import Store
from shared.privacy import consent_store
from shared.privacy.audit import disclose
from shared.reference.directory import Directory
from shared.runtime.context import Handler, HandlerContext

SIGNPOST_KINDS = (ServiceKind.RECOVERY_TEAM, ServiceKind.VOLUNTARY_ORGANISATION, ServiceKind.CRISIS_LINE)


@dataclass(frozen=True)
class Dependencies:
    directory: Directory  # where the patient's discharge letter points them
    rules: DischargeRules  # each Trust's follow-up clocks and notice (trust_rules.toml)


Ctx = HandlerContext[Store, Dependencies]


async def on_assessment_completed(ctx: Ctx, assessment: AssessmentCompleted) -> None:
    now = ctx.clock.now()
    if assessment.outcome is Pathway.HOME_TREATMENT and await ctx.store.open_episode(assessment, now):
        previous = await ctx.store.last_discharge(assessment.patient_id, assessment.episode_id)
        if (linked := domain.readmission(assessment.patient_id, assessment.episode_id, previous, now)) is not None:
            await ctx.store.link_previous(linked.episode_id, linked.previous_episode_id)
            await ctx.emit(linked)


async def on_visit_completed(ctx: Ctx, visit: VisitCompleted) -> None:
    domain.known(await ctx.store.find_episode(visit.episode_id), visit.patient_id)  # else it waits for it
    await ctx.store.count_visit(visit)


async def on_discharge_proposed(ctx: Ctx, proposal: DischargeProposed) -> None:
    episode = domain.known(await ctx.store.find_episode(proposal.episode_id), proposal.patient_id)
    await ctx.store.save_proposal(proposal)
    await ctx.emit(domain.discharge_planned(episode, proposal, ctx.clock.now()))


async def on_discharge_meeting_arranged(ctx: Ctx, meeting: DischargeMeetingArranged) -> None:
    episode = domain.known(await ctx.store.find_episode(meeting.episode_id), meeting.patient_id)
    carers = await _carers(ctx, episode)
    state = await ctx.privacy.consent(episode.patient_id)
    text, easy_text = domain.meeting_text(meeting), domain.easy_meeting_text(meeting)
    for invitation in domain.invitations(episode, carers, state, text, ctx.clock.now(), easy_text=easy_text):
        await disclose(ctx, episode.patient_id, invitation, via=NotificationSent.cloudevents_type())


async def on_conversation_recorded(ctx: Ctx, talk: DischargeConversationRecorded) -> None:
    domain.known(await ctx.store.find_episode(talk.episode_id), talk.patient_id)
    await ctx.store.patient_told(talk.episode_id, talk.recorded_at)


async def on_notification_acknowledged(ctx: Ctx, ack: DischargeNotificationAcknowledged) -> None:
    domain.known(await ctx.store.find_episode(ack.episode_id), ack.patient_id)
    await ctx.store.patient_told(ack.episode_id, ack.acknowledged_at)


async def on_follow_on_arranged(ctx: Ctx, arranged: FollowOnCareArranged) -> None:
    domain.known(await ctx.store.find_episode(arranged.episode_id), arranged.patient_id)
    await ctx.store.follow_on(arranged)


async def on_crisis_contacts_given(ctx: Ctx, given: CrisisContactsGiven) -> None:
    domain.known(await ctx.store.find_episode(given.episode_id), given.patient_id)
    await ctx.store.crisis_contacts_given(given.episode_id, given.given_at)


async def on_discharge_decided(ctx: Ctx, decision: DischargeDecided) -> None:
    episode = domain.known(await ctx.store.find_episode(decision.episode_id), decision.patient_id)
    now = ctx.clock.now()
    outcome = domain.complete(episode, decision, now, ctx.deps.rules.of(episode.trust))
    if isinstance(outcome, EpisodeClosed):
        await _close(ctx, episode, outcome, decision, now)
    elif outcome is not None:
        await ctx.emit(outcome)  # refused: what is missing


async def on_ward_discharge_recorded(ctx: Ctx, ward: WardDischargeRecorded) -> None:
    due_by = domain.follow_up_due(ctx.deps.rules.of(ward.trust), ward.discharged_at, ward.suicide_risk_identified)
    await ctx.store.start_follow_up(
        ward.discharge_id, ward.patient_id, None, FollowUpSource.WARD, ward.trust.value, ward.discharged_at, due_by
    )


async def on_follow_up_contact(ctx: Ctx, contact: FollowUpContactRecorded) -> None:
    stopped = await ctx.store.contact(contact.patient_id, contact.contact_at)
    await ctx.emit(*domain.follow_ups_completed(contact, stopped))


async def on_feedback_received(ctx: Ctx, answered: FeedbackReceived) -> None:
    """A person's answers: kept once, their own words sealed; the team's totals published, never their words."""
    episode = domain.known(await ctx.store.find_episode(answered.episode_id), answered.patient_id)  # else it waits for it
    now = ctx.clock.now()
    team, period = feedback.team_of(episode.trust), feedback.period_of(answered.received_at)
    words = await ctx.privacy.seal_kept(answered.patient_id, feedback.HOLDER, str(answered.feedback_id), answered.free_text, now) \
        if answered.free_text else None
    if team is not None:
        ctx.commit_soon()  # saving takes the team's lock, which other lanes' feedback for the team waits for
    if await ctx.store.save_feedback(answered, team, period, words, now) and team is not None:
        await ctx.emit(feedback.summary(team, Trust(episode.trust), period, await ctx.store.feedback_answers(team, period), now))


async def check_follow_ups(ctx: Ctx) -> None:
    """No contact by the time a discharge's clock fell due: one breach, and the CMHT is alerted."""
    now = ctx.clock.now()
    for followup in await ctx.store.open_follow_ups(now):
        breach = domain.follow_up_breach(followup, now)
        if breach is not None:
            await ctx.store.mark_breached(followup.followup_id, now)
            await ctx.emit(breach, *domain.follow_up_overdue(followup, breach, now))


async def check_reviews(ctx: Ctx) -> None:
    """An episode open six weeks is due its review, once."""
    now = ctx.clock.now()
    for row in await ctx.store.open_episodes_unreviewed(now - domain.REVIEW_AFTER):
        if (due := domain.review_due(row["patient_id"], row["episode_id"], row["opened_at"], now)) is not None:
            await ctx.store.mark_review_due(row["episode_id"], now)
            await ctx.emit(due)


async def invite_feedback_midway(ctx: Ctx) -> None:
    """An episode open two weeks: the patient and carers are asked how it is going, once."""
    now = ctx.clock.now()
    for episode_id in await ctx.store.open_episodes_not_invited(now - feedback.MIDWAY_AFTER):
        episode = await ctx.store.find_episode(episode_id)
        await ctx.store.mark_feedback_invited(episode_id, now)
        await _invite_feedback(ctx, episode, now, midway=True)


async def end_overrides(ctx: Ctx) -> None:
    """Break glass whose window has passed: the summaries it alone opened stop opening (the
    assessment service audits the end)."""
    await consent_store.end_overrides(ctx)


async def _carers(ctx: Ctx, episode: domain.Episode) -> list[str]:
    named = await ctx.store.carers(episode.episode_id)
    return domain.carers_on_record(named, await ctx.privacy.carers(episode.patient_id))


async def _invite_feedback(ctx: Ctx, episode: domain.Episode, now: datetime, *, midway: bool) -> None:
    state = await ctx.privacy.consent(episode.patient_id)
    for invitation in feedback.invitations(episode, await _carers(ctx, episode), state, now, midway=midway):
        await disclose(ctx, episode.patient_id, invitation, via=NotificationSent.cloudevents_type())


async def _close(ctx: Ctx, episode: domain.Episode, closed: EpisodeClosed, decision: DischargeDecided, now: datetime) -> None:
    await ctx.store.close_episode(closed, decision.decided_by, decision.reason)
    await ctx.emit(closed)
    await _send_summaries(ctx, episode, closed, now)


async def _send_summaries(ctx: Ctx, episode: domain.Episode, closed: EpisodeClosed, now: datetime) -> None:
    """Each recipient's summary, as their consent allows; the patient's letter; the follow-up clock."""
    signposting = ctx.deps.directory.signposts(Trust(episode.trust), SIGNPOST_KINDS) if episode.trust else ()
    everyone = domain.recipients(episode, await _carers(ctx, episode))
    state = await ctx.privacy.consent(episode.patient_id)
    for summary in domain.summaries(episode, everyone, state, signposting, now):
        await disclose(ctx, episode.patient_id, summary, via=DischargeSummaryIssued.cloudevents_type())
    await ctx.emit(domain.discharged(episode, closed, signposting, now))
    await _invite_feedback(ctx, episode, now, midway=False)
    assert closed.due_at is not None  # the gate chose the clock
    await ctx.store.start_follow_up(
        uuid4(), episode.patient_id, episode.episode_id, FollowUpSource.HOME_TREATMENT, episode.trust, now, closed.due_at
    )


HANDLERS: Mapping[type[Event], Handler] = {
    AssessmentCompleted: on_assessment_completed,
    VisitCompleted: on_visit_completed,
    DischargeProposed: on_discharge_proposed,
    DischargeMeetingArranged: on_discharge_meeting_arranged,
    DischargeConversationRecorded: on_conversation_recorded,
    DischargeNotificationAcknowledged: on_notification_acknowledged,
    FollowOnCareArranged: on_follow_on_arranged,
    CrisisContactsGiven: on_crisis_contacts_given,
    DischargeDecided: on_discharge_decided,
    WardDischargeRecorded: on_ward_discharge_recorded,
    FollowUpContactRecorded: on_follow_up_contact,
    FeedbackReceived: on_feedback_received,
    **consent_store.HANDLERS,
}
