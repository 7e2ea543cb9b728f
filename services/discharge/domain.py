"""Discharge rules, pure: the gate, the summary each recipient may see, the follow-up clock,
the six-week review, and readmissions linked to the episode before.

Targets: discharge information to the GP within 3 days; the care plan to everyone named in it
within 24 hours; follow-up after leaving home treatment or a ward within 48 hours where a risk of
suicide was identified (NICE NG53), else the Trust's standard (72 hours, NHS Standard Contract, by
default; trust_rules.toml); notice before home treatment ends (48 hours, CORE fidelity) unless the
patient asks for it sooner; episodes reviewed at 6 weeks; readmission within 28 days linked to the
last episode.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

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
from services.discharge.rules import TrustRules
from shared.easy_read import clock
from shared.runtime.errors import named_episode

BELFAST = ZoneInfo("Europe/Belfast")  # a planned day is a day in Northern Ireland
# A follow-up clock stored before each clock carried its own due time: the standard of the time.
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
    patient_told_at: datetime | None = None  # the earliest record that the patient was told
    planned_for: date | None = None  # the day of the latest proposal
    patient_asked_to_end_sooner: bool = False
    suicide_risk_identified: bool = False
    onward_to: OnwardCare | None = None
    crisis_contacts_given: bool = False
    patient_view: str | None = None
    patient_wants_more_time: bool = False
    summary: SummaryContent | None = None
    crisis_contacts: tuple[str, ...] = ()
    easy_read: bool = False  # the patient's messages are in easy read (the assessment says so, not why)


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
    due_by: datetime | None = None  # None only on a clock stored before it carried one

    @property
    def due(self) -> datetime:
        return self.due_by or self.discharged_at + FOLLOW_UP_WITHIN


def follow_up_due(rules: TrustRules, discharged_at: datetime, suicide_risk_identified: bool) -> datetime:
    """When a discharge's follow-up contact is due: the Trust's suicide-risk target (48 hours by
    default, NICE NG53) where a risk of suicide was identified, else its standard (72 hours by
    default). Chosen once, when the clock starts, and carried with it."""
    return discharged_at + (rules.suicide_risk_follow_up if suicide_risk_identified else rules.follow_up)


def known(episode: Episode | None, patient_id: UUID) -> Episode:
    """Every discharge event must name an episode this service knows, for this patient."""
    return named_episode(episode, patient_id, "unknown episode: no home-treatment episode with this id is known to the discharge service")


def treatment_ends(episode: Episode, now: datetime) -> datetime:
    """When home treatment ends, for the notice rule: the start of the planned day (Europe/Belfast),
    or the discharge's own time if it is completed before that day (or with no day planned). The
    earlier of the two, as the patient has only the notice they had when it really ends."""
    if episode.planned_for is None:
        return now
    return min(datetime.combine(episode.planned_for, time(0), BELFAST), now)


def notice_given(episode: Episode, rules: TrustRules, now: datetime) -> bool:
    """The patient was first told at least the Trust's notice (48 hours by default) before home
    treatment ends, or asked for it to end sooner. The first time they were told is the earliest
    record of it, whichever arrived first, so the answer does not depend on arrival order."""
    if not rules.discharge_notice or episode.patient_asked_to_end_sooner:
        return True
    told = episode.patient_told_at
    return told is not None and treatment_ends(episode, now) - told >= rules.discharge_notice


def missing(episode: Episode, rules: TrustRules, now: datetime) -> tuple[GateCondition, ...]:
    return tuple(
        condition
        for condition, met in (
            (GateCondition.PATIENT_TOLD, episode.patient_told),
            (GateCondition.FOLLOW_ON_CARE_ARRANGED, episode.onward_to is not None),
            (GateCondition.CRISIS_CONTACTS_GIVEN, episode.crisis_contacts_given),
            (GateCondition.NOTICE_GIVEN, notice_given(episode, rules, now)),
        )
        if not met
    )


def complete(
    episode: Episode, decision: DischargeDecided, now: datetime, rules: TrustRules
) -> EpisodeClosed | DischargeRefused | None:
    """Closes the episode if every condition is met, starting its follow-up clock; otherwise
    refuses, naming what is missing and why. A decision for an episode already closed changes nothing."""
    if episode.closed_at is not None:
        return None
    gaps = missing(episode, rules, now)
    if gaps:
        return DischargeRefused(
            patient_id=episode.patient_id, episode_id=episode.episode_id, missing=gaps, refused_at=now,
            explanation=refusal_text(episode, gaps, rules, now),
        )
    return EpisodeClosed(
        patient_id=episode.patient_id, episode_id=episode.episode_id, visits_completed=episode.visits_completed, closed_at=now,
        due_at=follow_up_due(rules, now, episode.suicide_risk_identified),
    )


def refusal_text(episode: Episode, gaps: Iterable[GateCondition], rules: TrustRules, now: datetime) -> str:
    """Why the discharge was refused, a sentence for each condition not met, for the clinician."""
    notice = _hours(rules.discharge_notice)
    sentences = {
        GateCondition.PATIENT_TOLD: "The patient has not been told: no conversation with them and no acknowledgement from them is recorded.",
        GateCondition.FOLLOW_ON_CARE_ARRANGED: "No follow-on care is arranged, nor a reason recorded why none is needed.",
        GateCondition.CRISIS_CONTACTS_GIVEN: "The patient has not been given the numbers to call if the crisis returns.",
        GateCondition.NOTICE_GIVEN: f"The patient must be told at least {notice} hours before home treatment ends, unless they ask for it to end sooner.",
    }
    told = episode.patient_told_at
    if told is not None:
        ends = treatment_ends(episode, now)
        when = f"on {ends.astimezone(BELFAST):%A %d %B} (from midnight)" if ends < now else "now"
        gap = ends - told
        given = ("1 hour's notice" if _hours(gap) == 1 else f"{_hours(gap)} hours' notice") if gap >= timedelta(hours=1) else "no notice"
        sentences[GateCondition.NOTICE_GIVEN] = (
            f"The patient was first told on {told.astimezone(BELFAST):%A %d %B at %H:%M} and home treatment would end {when}: "
            f"{given}, not the {notice} hours they must have, unless they ask for it to end sooner."
        )
    return " ".join(sentences[gap] for gap in GateCondition if gap in gaps)


def _hours(span: timedelta) -> int:
    return int(span.total_seconds() // 3600)


def _in_words(span: timedelta) -> str:
    """A clock's length as a patient reads it: whole days as days, else hours."""
    hours = _hours(span)
    return f"{hours // 24} days" if hours % 24 == 0 and hours >= 48 else f"{hours} hours"


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
    episode: Episode, carers: list[str], state: consent.ConsentState, text: str, now: datetime, easy_text: str | None = None
) -> list[Disclosure]:
    """The patient, and each carer whose consent covers the discharge arrangements, is invited.
    The patient's invitation is in easy read (`easy_text`) where they need it; a carer's is the
    standard one, as the need is the patient's."""
    disclosures = []
    for recipient in [Recipient.patient(), *(Recipient.carer(carer) for carer in carers)]:
        purpose = recipient.purpose
        decision = consent.decide(state, recipient, purpose, {C.DISCHARGE_ARRANGEMENTS}, now)
        easy = episode.easy_read and easy_text is not None and recipient == Recipient.patient()
        note = NotificationSent(
            recipient=recipient, patient_id=episode.patient_id, episode_id=episode.episode_id,
            kind="discharge-meeting", text=easy_text if easy and easy_text else text, sent_at=now, easy_read=easy,
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


def _to_patient(episode: Episode, kind: str, text: str, now: datetime, easy: list[str] | None = None) -> NotificationSent:
    """The patient's message: the standard wording, or in easy read (a sentence to a line) where they need it."""
    easy_read = episode.easy_read and easy is not None
    return NotificationSent(
        recipient=Recipient.patient(), patient_id=episode.patient_id, episode_id=episode.episode_id, kind=kind,
        text="\n".join(easy) if easy_read and easy else text, sent_at=now, easy_read=easy_read,
    )


def discharge_planned(episode: Episode, proposal: DischargeProposed, now: datetime) -> NotificationSent:
    """The patient hears of a planned discharge before it happens, and is asked to confirm."""
    more_time = " You told us you would like more time. We have written that down, and we will think about it." if proposal.patient_wants_more_time else ""
    day = proposal.planned_for
    easy = [
        "We plan to end your home treatment.",
        f"We plan to end it on {day:%A} {day.day} {day:%B}.",
        "We will talk with you about it first.",
        "We will agree who will help you after that.",
        *(["You told us you would like more time.", "We have written that down.", "We will think about it."]
          if proposal.patient_wants_more_time else []),
        "Please tell us you have read this.",
    ]
    return _to_patient(episode, "discharge-planned", (
        f"We are planning to end your home treatment on {day:%A} {day.day} {day:%B}. We will talk it through "
        f"with you first, and agree who will support you after.{more_time} Please let us know you have read this."
    ), now, easy)


def meeting_text(meeting: DischargeMeetingArranged) -> str:
    at = meeting.meeting_at
    return f"We will meet to plan the end of home treatment. The meeting is on {at:%A} {at.day} {at:%B} at {at:%H:%M}."


def easy_meeting_text(meeting: DischargeMeetingArranged) -> str:
    """The patient's invitation in easy read, a sentence to a line, at the local time."""
    at = meeting.meeting_at.astimezone(BELFAST)
    return "\n".join((
        "We would like to meet with you.",
        "Together we will plan the end of your home treatment.",
        f"The meeting is on {at:%A} {at.day} {at:%B}.",
        f"It is at {clock(at)}.",
    ))


def discharged(episode: Episode, closed: EpisodeClosed, signposting: tuple[Signpost, ...], now: datetime) -> NotificationSent:
    within = (closed.due_at or closed.closed_at + FOLLOW_UP_WITHIN) - closed.closed_at
    return _to_patient(episode, "discharged", patient_letter(episode, signposting, within), now,
                       easy_read_letter(episode, signposting, within))


def patient_letter(episode: Episode, signposting: tuple[Signpost, ...], follow_up_within: timedelta) -> str:
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
        f"within {_in_words(follow_up_within)} to see how you are.{more_time}",
        *crisis,
        *other,
    ))


def easy_read_letter(episode: Episode, signposting: tuple[Signpost, ...], follow_up_within: timedelta) -> list[str]:
    """The patient's letter in easy read: the same facts as `patient_letter`, a sentence to a line."""
    onward = {
        OnwardCare.CMHT: ["The community mental health team will get in touch with you."],
        OnwardCare.RECOVERY_TEAM: ["The recovery team will get in touch with you."],
        OnwardCare.GP: ["Your GP will keep in touch with you."],
        OnwardCare.NONE: ["We agreed with you that no other team will get in touch."],
        None: [],
    }[episode.onward_to]
    more_time = (["You told us you wanted more time.", "We have written that down.", "We have told your GP."]
                 if episode.patient_wants_more_time else [])
    if episode.crisis_contacts:
        crisis = ["If things get worse, contact one of these.", *(f"- {contact}." for contact in episode.crisis_contacts)]
    else:
        crisis = ["If things get worse, call one of the numbers below." if signposting else "If things get worse, call your GP."]
    other = ["You can get other help here too.", *(f"- {s.name}{f': {s.phone}' if s.phone else ''}." for s in signposting)] \
        if signposting else []
    return [
        "Your home treatment has ended.",
        *onward,
        f"Someone will contact you in the next {_in_words(follow_up_within)}.",
        "They will ask how you are.",
        *more_time,
        *crisis,
        *other,
    ]


def follow_up_breach(followup: FollowUp, now: datetime) -> FollowUpBreached | None:
    """A clock past its own due time with no contact. (Once: the caller marks it breached.)"""
    due = followup.due
    if now < due:
        return None
    return FollowUpBreached(
        patient_id=followup.patient_id,
        followup_id=followup.followup_id,
        source=followup.source,
        discharged_at=followup.discharged_at,
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
        text=(f"No follow-up contact within {_hours(breach.due_at - breach.discharged_at)} hours of discharge "
              f"({breach.hours_late} h late). Please contact the patient today."),
    )]


def follow_ups_completed(contact: FollowUpContactRecorded, stopped: Iterable[tuple[UUID, datetime]]) -> list[FollowUpCompleted]:
    """Each follow-up clock the contact stopped (id, the clock's own due time), and whether it was in time."""
    return [
        FollowUpCompleted(
            patient_id=contact.patient_id, followup_id=followup_id, contact_at=contact.contact_at,
            within_target=contact.contact_at <= due_by,
        )
        for followup_id, due_by in stopped
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
