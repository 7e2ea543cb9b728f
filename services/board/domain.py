"""The board's rules, pure: what the HTCR team lead sees of the referrals waiting for assessment,
today's and tomorrow's visits and the discharges held at the gate, folded from carepath's events in whatever order they
arrive, and the words on the board.

A referral waits from its acceptance until its assessment starts or its episode closes. The three
facts come on three topics (referral.events, assessment.events, discharge.events), which Kafka
does not order against each other, so each fact is kept as it arrives and the row is derived
from the facts: the same facts give the same row whatever their order. Breached ones come first
and are marked; an ED referral says how long the person has already spent in the ED.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from contracts import (
    AssessmentStarted,
    DischargeRefused,
    EpisodeClosed,
    GateCondition,
    ReferralAccepted,
    ReferralSource,
    ResponseTargetBreached,
    Trust,
    Urgency,
    VisitCompleted,
    VisitMissed,
    VisitRunningLate,
    VisitScheduled,
)

ReferralFact = ReferralAccepted | AssessmentStarted | ResponseTargetBreached | EpisodeClosed


@dataclass(frozen=True)
class Referral:
    """One episode's referral as the board knows it: a field per fact, each None until it arrives."""

    episode_id: UUID
    patient_id: UUID | None = None
    trust: Trust | None = None
    source: ReferralSource | None = None
    urgency: Urgency | None = None
    accepted_at: datetime | None = None
    assess_by: datetime | None = None
    ed_arrived_at: datetime | None = None
    assessment_started_at: datetime | None = None
    breach_detected_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def waiting(self) -> bool:
        """Accepted, not yet assessed, episode still open: on the board."""
        return self.accepted_at is not None and self.assessment_started_at is None and self.closed_at is None


def fold_referral(referral: Referral, fact: ReferralFact) -> Referral:
    """The referral with one more fact. Each fact sets only its own fields, and a repeated fact
    sets them to what they were: redelivery and any order of arrival give the same referral."""
    match fact:
        case ReferralAccepted():
            return replace(referral, patient_id=fact.patient_id, trust=fact.trust, source=fact.source, urgency=Urgency(fact.urgency),
                           accepted_at=fact.accepted_at, assess_by=fact.assess_by, ed_arrived_at=fact.ed_arrived_at)
        case AssessmentStarted():
            earliest = min(filter(None, (referral.assessment_started_at, fact.started_at)))
            return replace(referral, patient_id=fact.patient_id, assessment_started_at=earliest)
        case ResponseTargetBreached():
            return replace(referral, patient_id=fact.patient_id, breach_detected_at=fact.detected_at)
        case EpisodeClosed():
            return replace(referral, patient_id=fact.patient_id, closed_at=fact.closed_at)
    raise TypeError(f"the board does not fold {type(fact).__name__}")


@dataclass(frozen=True)
class WaitingRow:
    """A line of the board's "waiting for assessment" list, with the words it shows."""

    episode_id: UUID
    patient_id: UUID
    urgency: str
    clock: str
    breached: bool
    minutes_left: int  # negative once breached
    in_ed: str | None


URGENCY_WORDS = {Urgency.EMERGENCY: "emergency", Urgency.VERY_URGENT: "very urgent", Urgency.URGENT: "urgent",
                 Urgency.ROUTINE: "routine"}


def waiting_row(referral: Referral, now: datetime) -> WaitingRow:
    """The row of a waiting referral at `now`: the time left on its clock, or how late it is."""
    if not referral.waiting or referral.assess_by is None or referral.accepted_at is None or referral.patient_id is None \
            or referral.urgency is None:
        raise ValueError("only a referral waiting for its assessment has a row on the board")
    left = referral.assess_by - now
    target = _duration(referral.assess_by - referral.accepted_at)
    breached = left <= timedelta(0) or referral.breach_detected_at is not None
    if breached:
        clock = f"breached: {_duration(-left)} past the {target} target" if left < timedelta(0) else f"breached at the {target} target"
    else:
        clock = f"{_duration(left)} left of {target}"
    in_ed = f"in the ED {_duration(now - referral.ed_arrived_at)}" if referral.ed_arrived_at else None
    return WaitingRow(referral.episode_id, referral.patient_id, URGENCY_WORDS[referral.urgency], clock, breached,
                      _whole_minutes(left), in_ed)


def waiting_list(referrals: Iterable[Referral], now: datetime) -> list[WaitingRow]:
    """Every waiting referral's row: the breached first, most overdue first, then least time left."""
    rows = [waiting_row(referral, now) for referral in referrals if referral.waiting]
    return sorted(rows, key=lambda row: (not row.breached, row.minutes_left, str(row.episode_id)))


def _whole_minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _duration(delta: timedelta) -> str:
    """A duration as a team reads it on a board, in the targets' own units: `12 min`, `3 h 05 min`,
    `24 h`, `26 h`; beyond two days, `3 days 4 h`."""
    minutes = max(0, int(delta.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        days, hours = divmod(hours, 24)
        return f"{days} days" if hours == 0 else f"{days} days {hours} h"
    if hours >= 24:
        return f"{hours} h"
    if hours:
        return f"{hours} h" if minutes == 0 else f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


# --- Today's and tomorrow's visits ------------------------------------------------------------

VisitFact = VisitScheduled | VisitRunningLate | VisitCompleted | VisitMissed
LATE_AFTER = timedelta(minutes=15)  # as scheduling tells the patient: nobody there 15 minutes into the window


@dataclass(frozen=True)
class Visit:
    """A visit as the board knows it. Its facts share one topic and one key (scheduling.events,
    the patient), so Kafka keeps them in order: a later plan's assignment replaces an earlier one.
    A fact delivered again sets what it set before."""

    visit_id: UUID
    episode_id: UUID | None = None
    patient_id: UUID | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    staff_id: str | None = None
    late_detected_at: datetime | None = None
    completed_at: datetime | None = None
    cut_short: bool = False
    missed_at: datetime | None = None


def fold_visit(visit: Visit, fact: VisitFact) -> Visit:
    match fact:
        case VisitScheduled():
            return replace(visit, episode_id=fact.episode_id, patient_id=fact.patient_id, window_start=fact.window_start,
                           window_end=fact.window_end, staff_id=fact.staff_id)
        case VisitRunningLate():
            return replace(visit, episode_id=fact.episode_id, patient_id=fact.patient_id, late_detected_at=fact.detected_at)
        case VisitCompleted():
            return replace(visit, episode_id=fact.episode_id, patient_id=fact.patient_id, completed_at=fact.completed_at,
                           cut_short=fact.cut_short)
        case VisitMissed():
            return replace(visit, episode_id=fact.episode_id, patient_id=fact.patient_id, missed_at=fact.detected_at,
                           staff_id=visit.staff_id or fact.staff_id)
    raise TypeError(f"the board does not fold {type(fact).__name__}")


@dataclass(frozen=True)
class VisitRow:
    """A line of the day's visits: when, who, and what the team must do about it."""

    visit_id: UUID
    patient_id: UUID
    window: str
    visitor: str
    key_worker: str
    status: str
    needs_action: bool


def visit_row(visit: Visit, key_worker: str | None, now: datetime, tz: ZoneInfo) -> VisitRow:
    """The visit at `now`, in the team's local time. An unassigned, late or missed visit needs
    someone to act; a completed one says if it was cut short."""
    if visit.window_start is None or visit.window_end is None or visit.patient_id is None:
        raise ValueError("only a scheduled visit has a row on the board")
    window = f"{visit.window_start.astimezone(tz):%H:%M}–{visit.window_end.astimezone(tz):%H:%M}"
    if visit.completed_at is not None:
        status, act = ("seen, cut short" if visit.cut_short else "seen"), False
    elif visit.missed_at is not None:
        status, act = "missed: nobody recorded a visit", True
    elif visit.staff_id is None:
        status, act = "nobody assigned: the team lead must find someone", True
    elif visit.late_detected_at is not None or now >= visit.window_start + LATE_AFTER:
        status, act = f"running late: nobody there {_duration(now - visit.window_start)} into the window", True
    else:
        status, act = "planned", False
    visitor = visit.staff_id or "unassigned"
    named = "none named" if key_worker is None else key_worker + (" (visiting)" if key_worker == visit.staff_id else "")
    return VisitRow(visit.visit_id, visit.patient_id, window, visitor, named, status, act)


def visits_on(visits: Iterable[Visit], day: date, key_workers: Mapping[UUID, str | None], closed: Collection[UUID],
              now: datetime, tz: ZoneInfo) -> list[VisitRow]:
    """The day's visits (the team's local day) of open episodes, in window order, those needing
    someone to act first."""
    start = datetime.combine(day, time(0), tz)
    end = start + timedelta(days=1)
    todays = [visit for visit in visits if visit.window_start is not None and start <= visit.window_start < end
              and visit.episode_id not in closed]
    rows = [(visit, visit_row(visit, key_workers.get(visit.episode_id), now, tz)) for visit in todays]
    return [row for _, row in sorted(rows, key=lambda pair: (not pair[1].needs_action, pair[0].window_start, str(pair[0].visit_id)))]


# --- Discharges waiting on a gate item -----------------------------------------------------------

GATE_WORDS = {
    GateCondition.PATIENT_TOLD: "the patient has not been told",
    GateCondition.FOLLOW_ON_CARE_ARRANGED: "no follow-on care arranged",
    GateCondition.CRISIS_CONTACTS_GIVEN: "no crisis contacts given",
}


@dataclass(frozen=True)
class Discharge:
    """An episode's discharge as the board knows it: what the gate last found missing, and
    whether the episode has closed. Both facts are on discharge.events under the patient's key,
    so they arrive in order; a repeat sets what it set before."""

    episode_id: UUID
    patient_id: UUID | None = None
    missing: tuple[GateCondition, ...] = ()
    refused_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def waiting(self) -> bool:
        return self.refused_at is not None and self.closed_at is None


def fold_discharge(discharge: Discharge, fact: DischargeRefused | EpisodeClosed) -> Discharge:
    match fact:
        case DischargeRefused():
            return replace(discharge, patient_id=fact.patient_id, missing=fact.missing, refused_at=fact.refused_at)
        case EpisodeClosed():
            return replace(discharge, patient_id=fact.patient_id, closed_at=fact.closed_at)
    raise TypeError(f"the board does not fold {type(fact).__name__}")


@dataclass(frozen=True)
class DischargeRow:
    episode_id: UUID
    patient_id: UUID
    waiting_on: str
    since: str


def discharges_waiting(discharges: Iterable[Discharge], now: datetime) -> list[DischargeRow]:
    """Each discharge the gate held back and that has not happened since: what it waits on, in
    the gate's order, and for how long; the longest waiting first."""
    waiting = sorted((d for d in discharges if d.waiting), key=lambda d: (d.refused_at, str(d.episode_id)))
    return [
        DischargeRow(d.episode_id, d.patient_id, "; ".join(GATE_WORDS[c] for c in GateCondition if c in d.missing),
                     f"held {_duration(now - d.refused_at)} ago")
        for d in waiting if d.patient_id is not None and d.refused_at is not None
    ]
