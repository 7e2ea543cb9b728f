"""Discharge rules, pure: the gate, the summary each recipient may see, follow-up within 72
hours, the six-week review, and readmissions linked to the episode before.

Targets: discharge information to the GP within 3 days; the care plan to everyone named in it
within 24 hours; follow-up within 72 hours of leaving home treatment or a ward (NHS Standard
Contract); episodes reviewed at 6 weeks; readmission within 28 days linked to the last episode.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from contracts import (
    DischargeDecided,
    DischargeMeetingArranged,
    DischargeProposed,
    DischargeRefused,
    DischargeSummaryIssued,
    EpisodeClosed,
    EpisodeReviewDue,
    FollowUpBreached,
    FollowUpCompleted,
    FollowUpContactRecorded,
    FollowUpSource,
    GateCondition,
    InformationCategory,
    NotificationSent,
    OnwardCare,
    ReadmissionLinked,
    Recipient,
    Signpost,
    SummaryContent,
    SummaryHeadings,
    TeamKind,
    Trust,
)
from shared.privacy import consent
from shared.privacy.disclosure import Copy, Disclosure
from shared.runtime.errors import named_episode

FOLLOW_UP_WITHIN = timedelta(hours=72)
GP_SUMMARY_WITHIN = timedelta(days=3)
CARE_PLAN_WITHIN = timedelta(hours=24)
REVIEW_AFTER = timedelta(weeks=6)
READMISSION_WITHIN = timedelta(days=28)

C = InformationCategory
HEADING_CATEGORY: dict[str, InformationCategory] = {
    "reason_for_care": C.CLINICAL_DETAIL,
    "assessment_and_risk": C.RISK,
    "medication": C.MEDICATION,
    "plan_and_requested_actions": C.DISCHARGE_ARRANGEMENTS,
    "patient_view": C.DISCHARGE_ARRANGEMENTS,
    "crisis_contacts": C.DISCHARGE_ARRANGEMENTS,
    "who_was_informed": C.DISCHARGE_ARRANGEMENTS,
    "signposting": C.DISCHARGE_ARRANGEMENTS,
}


@dataclass(frozen=True)
class Episode:
    episode_id: UUID
    patient_id: UUID
    visits_completed: int
    closed_at: datetime | None
    trust: str | None = None
    patient_told: bool = False
    onward_to: OnwardCare | None = None
    crisis_contacts_given: bool = False
    patient_view: str | None = None
    patient_wants_more_time: bool = False
    summary: SummaryContent | None = None
    crisis_contacts: tuple[str, ...] = ()


@dataclass(frozen=True)
class FollowUp:
    """A follow-up clock: started at a discharge from home treatment (with its episode) or from
    a ward, stopped by the first contact."""

    followup_id: UUID
    patient_id: UUID
    episode_id: UUID | None
    source: FollowUpSource
    trust: str | None
    discharged_at: datetime


def known(episode: Episode | None, patient_id: UUID) -> Episode:
    """Every discharge event must name an episode this service knows, for this patient."""
    return named_episode(episode, patient_id, "unknown episode: no home-treatment episode with this id is known to the discharge service")


def missing(episode: Episode) -> tuple[GateCondition, ...]:
    return tuple(
        condition
        for condition, met in (
            (GateCondition.PATIENT_TOLD, episode.patient_told),
            (GateCondition.FOLLOW_ON_CARE_ARRANGED, episode.onward_to is not None),
            (GateCondition.CRISIS_CONTACTS_GIVEN, episode.crisis_contacts_given),
        )
        if not met
    )


def complete(episode: Episode, decision: DischargeDecided, now: datetime) -> EpisodeClosed | DischargeRefused | None:
    """Closes the episode if every condition is met; otherwise refuses, naming what is missing.
    A decision for an episode already closed changes nothing."""
    if episode.closed_at is not None:
        return None
    gaps = missing(episode)
    if gaps:
        return DischargeRefused(patient_id=episode.patient_id, episode_id=episode.episode_id, missing=gaps, refused_at=now)
    return EpisodeClosed(
        patient_id=episode.patient_id, episode_id=episode.episode_id, visits_completed=episode.visits_completed, closed_at=now
    )


def carers_on_record(named_in_planning: Iterable[str], named_in_consent: Iterable[str]) -> list[str]:
    """Every carer named in the discharge planning or in the patient's consent decisions, once."""
    return sorted(set(named_in_planning) | set(named_in_consent))


def recipients(episode: Episode, carers: list[str]) -> list[Recipient]:
    """Always the patient, the GP and the CMHT; the onward team; every carer on record."""
    trust = Trust(episode.trust) if episode.trust else None
    teams = [Recipient.team(TeamKind.CMHT, trust)] if trust else []
    if episode.onward_to is OnwardCare.RECOVERY_TEAM and trust:
        teams.append(Recipient.team(TeamKind.RECOVERY_TEAM, trust))
    return [Recipient.patient(), Recipient.gp(), *teams, *(Recipient.carer(carer) for carer in carers)]


def invitations(
    episode: Episode, carers: list[str], state: consent.ConsentState, text: str, now: datetime
) -> list[Disclosure]:
    """The patient, and each carer whose consent covers the discharge arrangements, is invited."""
    disclosures = []
    for recipient in [Recipient.patient(), *(Recipient.carer(carer) for carer in carers)]:
        purpose = recipient.purpose
        decision = consent.decide(state, recipient, purpose, {C.DISCHARGE_ARRANGEMENTS}, now)
        note = NotificationSent(
            recipient=recipient, patient_id=episode.patient_id, episode_id=episode.episode_id,
            kind="discharge-meeting", text=text, sent_at=now,
        ) if decision.permitted else None
        disclosures.append(Disclosure(recipient, purpose, decision, decision.permitted, note))
    return disclosures


def summaries(
    episode: Episode,
    everyone: list[str],
    state: consent.ConsentState,
    signposting: tuple[Signpost, ...],
    now: datetime,
) -> list[Disclosure]:
    """The summary for each recipient, holding only the headings its consent decision permits;
    nobody gets an empty summary, and every decision is kept for the audit trail."""
    content = episode.summary or SummaryContent()
    full = {
        "reason_for_care": content.reason_for_care,
        "assessment_and_risk": content.assessment_and_risk,
        "medication": content.medication,
        "plan_and_requested_actions": content.plan_and_requested_actions,
        "patient_view": _patient_view(episode),
        "crisis_contacts": episode.crisis_contacts,
        "signposting": signposting,
    }
    decided = []
    for recipient in everyone:
        purpose = Recipient(recipient).purpose
        decision = consent.decide(state, recipient, purpose, set(HEADING_CATEGORY.values()), now)
        decided.append((recipient, purpose, decision,
                        {name: value for name, value in full.items() if value and decision.allows(HEADING_CATEGORY[name])}))
    # Only those really sent a summary: never someone consent keeps it from, nor one the patient
    # asked not to be told (a `do_not_tell` deny), whom naming here would tell of the patient.
    informed = tuple(recipient for recipient, _, _, headings in decided if headings)
    issued = []
    for recipient, purpose, decision, headings in decided:
        if not headings:
            issued.append(Disclosure(recipient, purpose, decision, frozenset(), None))
            continue
        if decision.allows(C.DISCHARGE_ARRANGEMENTS):
            headings["who_was_informed"] = informed
        summary = Copy(
            DischargeSummaryIssued,
            SummaryHeadings(**headings),
            {"episode_id": episode.episode_id, "issued_at": now, "due_by": now + (GP_SUMMARY_WITHIN if recipient == "gp" else CARE_PLAN_WITHIN)},
        )
        issued.append(Disclosure(recipient, purpose, decision, frozenset(HEADING_CATEGORY[name] for name in headings), summary))
    return issued


def _patient_view(episode: Episode) -> str | None:
    if episode.patient_wants_more_time:
        said = f' They said: "{episode.patient_view}"' if episode.patient_view else ""
        return f"The patient asked for more time before discharge.{said}"
    return episode.patient_view


def _to_patient(episode: Episode, kind: str, text: str, now: datetime) -> NotificationSent:
    return NotificationSent(
        recipient=Recipient.patient(), patient_id=episode.patient_id, episode_id=episode.episode_id, kind=kind, text=text, sent_at=now
    )


def discharge_planned(episode: Episode, proposal: DischargeProposed, now: datetime) -> NotificationSent:
    """The patient hears of a planned discharge before it happens, and is asked to confirm."""
    more_time = " You told us you would like more time. We have written that down, and we will think about it." if proposal.patient_wants_more_time else ""
    day = proposal.planned_for
    return _to_patient(episode, "discharge-planned", (
        f"We are planning to end your home treatment on {day:%A} {day.day} {day:%B}. We will talk it through "
        f"with you first, and agree who will support you after.{more_time} Please let us know you have read this."
    ), now)


def meeting_text(meeting: DischargeMeetingArranged) -> str:
    at = meeting.meeting_at
    return f"We will meet to plan the end of home treatment. The meeting is on {at:%A} {at.day} {at:%B} at {at:%H:%M}."


def discharged(episode: Episode, signposting: tuple[Signpost, ...], now: datetime) -> NotificationSent:
    return _to_patient(episode, "discharged", patient_letter(episode, signposting), now)


def patient_letter(episode: Episode, signposting: tuple[Signpost, ...]) -> str:
    """What the patient is told, in plain words, always."""
    onward = {
        OnwardCare.CMHT: " The community mental health team will be in touch with you.",
        OnwardCare.RECOVERY_TEAM: " The recovery team will be in touch with you.",
        OnwardCare.GP: " Your GP will keep in touch with you.",
        OnwardCare.NONE: " As we agreed with you, no other team will be in touch.",
        None: "",
    }[episode.onward_to]
    more_time = " You told us you wanted more time. We have written that down and told your GP." if episode.patient_wants_more_time else ""
    # One line for each number, so a long list still reads as short sentences.
    if episode.crisis_contacts:
        crisis = ["If things get worse, contact:", *(f"- {contact}." for contact in episode.crisis_contacts)]
    else:
        crisis = ["If things get worse, call one of the numbers below." if signposting else "If things get worse, contact your GP."]
    other = ["Other help:", *(f"- {s.name}{f': {s.phone}' if s.phone else ''}." for s in signposting)] if signposting else []
    return "\n".join((
        f"Your home treatment has now ended.{onward} Someone will contact you "
        f"within 3 days to see how you are.{more_time}",
        *crisis,
        *other,
    ))


def follow_up_breach(
    patient_id: UUID, followup_id: UUID, source: FollowUpSource, discharged_at: datetime, now: datetime
) -> FollowUpBreached | None:
    due = discharged_at + FOLLOW_UP_WITHIN
    if now < due:
        return None
    return FollowUpBreached(
        patient_id=patient_id,
        followup_id=followup_id,
        source=source,
        discharged_at=discharged_at,
        due_at=due,
        detected_at=now,
        hours_late=int((now - due).total_seconds() // 3600),
    )


def follow_up_overdue(followup: FollowUp, breach: FollowUpBreached, now: datetime) -> list[NotificationSent]:
    """The CMHT of the patient's Trust is asked to make contact today (a ward discharge names no
    episode: the follow-up's own id stands in)."""
    if not followup.trust:
        return []
    return [NotificationSent(
        recipient=Recipient.team(TeamKind.CMHT, Trust(followup.trust)), patient_id=followup.patient_id,
        episode_id=followup.episode_id or followup.followup_id, kind="follow-up-overdue", sent_at=now,
        text=f"No follow-up contact within 72 hours of discharge ({breach.hours_late} h late). Please contact the patient today.",
    )]


def follow_ups_completed(contact: FollowUpContactRecorded, stopped: Iterable[tuple[UUID, datetime]]) -> list[FollowUpCompleted]:
    """Each follow-up clock the contact stopped (id, discharged at), and whether it was in time."""
    return [
        FollowUpCompleted(
            patient_id=contact.patient_id, followup_id=followup_id, contact_at=contact.contact_at,
            within_target=contact.contact_at <= discharged_at + FOLLOW_UP_WITHIN,
        )
        for followup_id, discharged_at in stopped
    ]


def review_due(patient_id: UUID, episode_id: UUID, opened_at: datetime, now: datetime) -> EpisodeReviewDue | None:
    if now - opened_at < REVIEW_AFTER:
        return None
    return EpisodeReviewDue(patient_id=patient_id, episode_id=episode_id, opened_at=opened_at, detected_at=now)


def readmission(
    patient_id: UUID, episode_id: UUID, previous: tuple[UUID, datetime] | None, now: datetime
) -> ReadmissionLinked | None:
    if previous is None or now - previous[1] > READMISSION_WITHIN:
        return None
    return ReadmissionLinked(
        patient_id=patient_id,
        episode_id=episode_id,
        previous_episode_id=previous[0],
        days_since_discharge=(now - previous[1]).days,
    )
