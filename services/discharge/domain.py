"""Discharge rules, pure: the gate, the summary each recipient may see, follow-up within 72
hours, the six-week review, and readmissions linked to the episode before.

Targets: discharge information to the GP within 3 days; the care plan to everyone named in it
within 24 hours; follow-up within 72 hours of leaving home treatment or a ward (NHS Standard
Contract); episodes reviewed at 6 weeks; readmission within 28 days linked to the last episode.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from contracts import (
    DischargeDecided,
    DischargeRefused,
    DischargeSummaryIssued,
    EpisodeClosed,
    EpisodeReviewDue,
    FollowUpBreached,
    FollowUpSource,
    GateCondition,
    InformationCategory,
    NotificationSent,
    OnwardCare,
    Purpose,
    ReadmissionLinked,
    Signpost,
    SummaryContent,
    SummaryHeadings,
)
from shared.privacy import consent
from shared.privacy.disclosure import Copy, Disclosure
from shared.runtime.errors import InvalidEvent, NotYetKnown

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


def known(episode: Episode | None, patient_id: UUID) -> Episode:
    """Every discharge event must name an episode this service knows, for this patient."""
    if episode is None:
        raise NotYetKnown("unknown episode: no home-treatment episode with this id is known to the discharge service")
    if episode.patient_id != patient_id:
        raise InvalidEvent("the episode belongs to a different patient")
    return episode


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


def recipients(episode: Episode, carers: list[str]) -> list[str]:
    """Always the patient, the GP and the CMHT; the onward team; every carer on record."""
    teams = [f"cmht:{episode.trust}"] if episode.trust else []
    if episode.onward_to is OnwardCare.RECOVERY_TEAM and episode.trust:
        teams.append(f"recovery-team:{episode.trust}")
    return ["patient", "gp", *teams, *(f"carer:{carer}" for carer in carers)]


def invitations(
    episode: Episode, carers: list[str], state: consent.ConsentState, text: str, now: datetime
) -> list[Disclosure]:
    """The patient, and each carer whose consent covers the discharge arrangements, is invited."""
    disclosures = []
    for recipient in ["patient", *(f"carer:{carer}" for carer in carers)]:
        purpose = Purpose.CARER_SUPPORT if recipient.startswith("carer:") else Purpose.DIRECT_CARE
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
    issued = []
    for recipient in everyone:
        purpose = Purpose.CARER_SUPPORT if recipient.startswith("carer:") else Purpose.DIRECT_CARE
        decision = consent.decide(state, recipient, purpose, set(HEADING_CATEGORY.values()), now)
        headings = {name: value for name, value in full.items() if value and decision.allows(HEADING_CATEGORY[name])}
        if not headings:
            issued.append(Disclosure(recipient, purpose, decision, frozenset(), None))
            continue
        if decision.allows(C.DISCHARGE_ARRANGEMENTS):
            headings["who_was_informed"] = tuple(everyone)
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


def patient_letter(episode: Episode, signposting: tuple[Signpost, ...]) -> str:
    """What the patient is told, in plain words, always."""
    onward = {
        OnwardCare.CMHT: "the community mental health team will be in touch",
        OnwardCare.RECOVERY_TEAM: "the recovery team will be in touch",
        OnwardCare.GP: "your GP will follow up with you",
        OnwardCare.NONE: "no other service has been arranged, as we agreed with you",
        None: "",
    }[episode.onward_to]
    crisis = "; ".join(episode.crisis_contacts) or "the crisis lines below"
    other = "; ".join(f"{s.name}{f' ({s.phone})' if s.phone else ''}" for s in signposting)
    more_time = " You told us you wanted more time: we have written that down and shared it with your GP." if episode.patient_wants_more_time else ""
    return (
        f"You have been discharged from home treatment. After this, {onward}. Someone will contact you "
        f"within 3 days to see how you are.{more_time} If things get worse, contact: {crisis}. "
        f"Other support: {other}."
    )


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
