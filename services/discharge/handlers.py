"""Thin handlers and jobs of the discharge service: load, decide (domain), store, emit."""

from collections.abc import Mapping

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
    FollowOnCareArranged,
    FollowUpCompleted,
    FollowUpContactRecorded,
    FollowUpSource,
    NotificationSent,
    Pathway,
    ServiceKind,
    Trust,
    VisitCompleted,
    WardDischargeRecorded,
)
from services.discharge import domain, store
from services.discharge.settings import Settings
from shared.privacy import consent_store
from shared.privacy.audit import disclose
from shared.runtime.context import Handler, HandlerContext
from shared.reference.directory import Directory
from shared.runtime.notifications import notify

SIGNPOST_KINDS = (ServiceKind.RECOVERY_TEAM, ServiceKind.VOLUNTARY_ORGANISATION, ServiceKind.CRISIS_LINE)


def build(_settings: Settings, directory: Directory) -> tuple[Mapping[type[Event], Handler], list]:
    async def on_assessment_completed(ctx: HandlerContext, assessment: AssessmentCompleted) -> None:
        if assessment.outcome is not Pathway.HOME_TREATMENT:
            return
        now = ctx.clock.now()
        if await store.open_episode(ctx.conn, assessment, now):
            previous = await store.last_discharge(ctx.conn, assessment.patient_id, assessment.episode_id)
            linked = domain.readmission(assessment.patient_id, assessment.episode_id, previous, now)
            if linked is not None:
                await store.link_previous(ctx.conn, linked.episode_id, linked.previous_episode_id)
                await ctx.emit(linked)

    async def on_visit_completed(ctx: HandlerContext, visit: VisitCompleted) -> None:
        domain.known(await store.find_episode(ctx.conn, visit.episode_id), visit.patient_id)  # else it waits for it
        await store.count_visit(ctx.conn, visit)

    async def on_discharge_proposed(ctx: HandlerContext, proposal: DischargeProposed) -> None:
        episode = domain.known(await store.find_episode(ctx.conn, proposal.episode_id), proposal.patient_id)
        await store.save_proposal(ctx.conn, proposal)
        more_time = " You told us you would like more time: that is written down and will be considered." if proposal.patient_wants_more_time else ""
        await _notify(ctx, "patient", episode, "discharge-planned", (
            f"We are planning to end your home treatment on {proposal.planned_for:%A %d %B}. We will talk it through "
            f"with you first, and agree who will support you after.{more_time} Please let us know you have read this."
        ))

    async def on_discharge_meeting_arranged(ctx: HandlerContext, meeting: DischargeMeetingArranged) -> None:
        episode = domain.known(await store.find_episode(ctx.conn, meeting.episode_id), meeting.patient_id)
        text = f"A meeting to plan the end of home treatment is arranged for {meeting.meeting_at:%A %d %B at %H:%M}."
        carers = await store.carers(ctx.conn, episode.episode_id, episode.patient_id)
        state = await consent_store.load(ctx.conn, episode.patient_id)
        for invitation in domain.invitations(episode, carers, state, text, ctx.clock.now()):
            await disclose(ctx, episode.patient_id, invitation, via=NotificationSent.cloudevents_type())

    async def on_conversation_recorded(ctx: HandlerContext, talk: DischargeConversationRecorded) -> None:
        domain.known(await store.find_episode(ctx.conn, talk.episode_id), talk.patient_id)
        await store.patient_told(ctx.conn, talk.episode_id, talk.recorded_at)

    async def on_notification_acknowledged(ctx: HandlerContext, ack: DischargeNotificationAcknowledged) -> None:
        domain.known(await store.find_episode(ctx.conn, ack.episode_id), ack.patient_id)
        await store.patient_told(ctx.conn, ack.episode_id, ack.acknowledged_at)

    async def on_follow_on_arranged(ctx: HandlerContext, arranged: FollowOnCareArranged) -> None:
        domain.known(await store.find_episode(ctx.conn, arranged.episode_id), arranged.patient_id)
        await store.follow_on(ctx.conn, arranged)

    async def on_crisis_contacts_given(ctx: HandlerContext, given: CrisisContactsGiven) -> None:
        domain.known(await store.find_episode(ctx.conn, given.episode_id), given.patient_id)
        await store.crisis_contacts_given(ctx.conn, given.episode_id, given.given_at)

    async def on_discharge_decided(ctx: HandlerContext, decision: DischargeDecided) -> None:
        episode = domain.known(await store.find_episode(ctx.conn, decision.episode_id), decision.patient_id)
        now = ctx.clock.now()
        outcome = domain.complete(episode, decision, now)
        if not isinstance(outcome, EpisodeClosed):
            await ctx.emit(*([outcome] if outcome else []))
            return
        await store.close_episode(ctx.conn, outcome, decision.decided_by, decision.reason)
        signposting = directory.signposts(Trust(episode.trust), SIGNPOST_KINDS) if episode.trust else ()
        everyone = domain.recipients(episode, await store.carers(ctx.conn, episode.episode_id, episode.patient_id))
        state = await consent_store.load(ctx.conn, episode.patient_id)
        await ctx.emit(outcome)
        for summary in domain.summaries(episode, everyone, state, signposting, now):
            await disclose(ctx, episode.patient_id, summary, via=DischargeSummaryIssued.cloudevents_type())
        await _notify(ctx, "patient", episode, "discharged", domain.patient_letter(episode, signposting))
        await store.start_follow_up(ctx.conn, uuid4(), episode.patient_id, episode.episode_id, FollowUpSource.HOME_TREATMENT, episode.trust, now)

    async def on_ward_discharge_recorded(ctx: HandlerContext, ward: WardDischargeRecorded) -> None:
        await store.start_follow_up(
            ctx.conn, ward.discharge_id, ward.patient_id, None, FollowUpSource.WARD, ward.trust.value, ward.discharged_at
        )

    async def on_follow_up_contact(ctx: HandlerContext, contact: FollowUpContactRecorded) -> None:
        for row in await store.contact(ctx.conn, contact.patient_id, contact.contact_at):
            await ctx.emit(
                FollowUpCompleted(
                    patient_id=contact.patient_id,
                    followup_id=row["followup_id"],
                    contact_at=contact.contact_at,
                    within_target=contact.contact_at <= row["discharged_at"] + domain.FOLLOW_UP_WITHIN,
                )
            )

    async def check_follow_ups(ctx: HandlerContext) -> None:
        """No contact 72 hours after a discharge: one breach, and the CMHT is alerted."""
        now = ctx.clock.now()
        for row in await store.open_follow_ups(ctx.conn):
            breach = domain.follow_up_breach(row["patient_id"], row["followup_id"], FollowUpSource(row["source"]), row["discharged_at"], now)
            if breach is None:
                continue
            await store.mark_breached(ctx.conn, row["followup_id"], now)
            await ctx.emit(breach)
            if row["trust"]:
                await notify(
                    ctx, f"cmht:{row['trust']}", row["patient_id"], row["episode_id"] or row["followup_id"], "follow-up-overdue",
                    f"No follow-up contact within 72 hours of discharge ({breach.hours_late} h late). Please contact the patient today.",
                )

    async def check_reviews(ctx: HandlerContext) -> None:
        now = ctx.clock.now()
        for row in await store.open_episodes_unreviewed(ctx.conn, now - domain.REVIEW_AFTER):
            due = domain.review_due(row["patient_id"], row["episode_id"], row["opened_at"], now)
            if due is not None:
                await store.mark_review_due(ctx.conn, row["episode_id"], now)
                await ctx.emit(due)

    handlers = {
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
        **consent_store.HANDLERS,
    }
    return handlers, [check_follow_ups, check_reviews]


async def _notify(ctx: HandlerContext, recipient: str, episode: domain.Episode, kind: str, text: str) -> None:
    await notify(ctx, recipient, episode.patient_id, episode.episode_id, kind, text)
