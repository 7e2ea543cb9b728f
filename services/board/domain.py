"""The board's rules, pure: what the HTCR team lead sees of the referrals waiting for assessment,
today's and tomorrow's visits and the discharges held at the gate, folded from carepath's events in whatever order they
arrive, and the words on the board.

A referral waits from its acceptance until its assessment starts or its episode closes. The three
facts come on three topics (referral.events, assessment.events, discharge.events), which Kafka
does not order against each other, so each fact is kept as it arrives and the row is derived
from the facts: the same facts give the same row whatever their order. Breached ones come first
and are marked; an ED referral says how long the person has already spent in the ED.
"""

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from contracts import (
    AssessmentStarted,
    CarePlanAgreed,
    DischargeRefused,
    EpisodeClosed,
    EscalationAction,
    EscalationRaised,
    EscalationReason,
    FollowUpCompleted,
    InformationCategory,
    Purpose,
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
from services.board.view import Board, BelowPlanRow, CarerRow, DischargeRow, FollowUpRow, VisitRow, WaitingRow, WithheldRow
from shared.privacy.consent import ConsentState, Decision, decide

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
    GateCondition.NOTICE_GIVEN: "the patient has not had the notice they are due",
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


def discharges_waiting(discharges: Iterable[Discharge], now: datetime) -> list[DischargeRow]:
    """Each discharge the gate held back and that has not happened since: what it waits on, in
    the gate's order, and for how long; the longest waiting first."""
    waiting = sorted((d for d in discharges if d.waiting), key=lambda d: (d.refused_at, str(d.episode_id)))
    return [
        DischargeRow(d.episode_id, d.patient_id, "; ".join(GATE_WORDS[c] for c in GateCondition if c in d.missing),
                     f"held {_duration(now - d.refused_at)} ago")
        for d in waiting if d.patient_id is not None and d.refused_at is not None
    ]


# --- An episode: its Trust, key worker and care plan ------------------------------------------

@dataclass(frozen=True)
class Episode:
    """What the board needs of an episode to place its rows: the Trust (so the team), the key
    worker and the agreed contacts (the latest plan: a re-plan replaces an earlier one), and
    whether it has closed. From referral.events, scheduling.events and discharge.events."""

    episode_id: UUID
    patient_id: UUID | None = None
    trust: Trust | None = None
    key_worker: str | None = None
    plan_agreed_at: datetime | None = None
    visits_first_week: int | None = None
    visits_per_week_after: int | None = None
    closed_at: datetime | None = None


EpisodeFact = ReferralAccepted | CarePlanAgreed | EpisodeClosed


def fold_episode(episode: Episode, fact: EpisodeFact) -> Episode:
    match fact:
        case ReferralAccepted():
            return replace(episode, patient_id=fact.patient_id, trust=fact.trust)
        case CarePlanAgreed():
            if episode.plan_agreed_at is not None and fact.agreed_at < episode.plan_agreed_at:
                return replace(episode, patient_id=fact.patient_id)  # an older plan, delivered again
            return replace(episode, patient_id=fact.patient_id, key_worker=fact.key_worker, plan_agreed_at=fact.agreed_at,
                           visits_first_week=fact.visits_first_week, visits_per_week_after=fact.visits_per_week_after)
        case EpisodeClosed():
            return replace(episode, patient_id=fact.patient_id, closed_at=fact.closed_at)
    raise TypeError(f"the board does not fold {type(fact).__name__}")


# --- Follow-ups after discharge ------------------------------------------------------------------

FOLLOW_UP_WITHIN = timedelta(hours=72)  # for an episode closed before its event carried its own due time


@dataclass(frozen=True)
class FollowUps:
    """A patient's follow-up clocks, as the board knows them: each discharge from home treatment
    starts one (due when its event says: 48 hours with a risk of suicide, else the Trust's
    standard; 72 hours for an event without it); the first follow-up contact after it stops it.
    Contacts carry no episode id, so clocks are kept per patient (the key every one of these
    facts has) and as sorted sets: any order and any repetition give the same clocks."""

    patient_id: UUID
    discharges: tuple[datetime, ...] = ()
    contacts: tuple[datetime, ...] = ()
    due: tuple[tuple[datetime, datetime], ...] = ()  # (discharged, due by) where the event said

    def due_by(self, discharged: datetime) -> datetime:
        return dict(self.due).get(discharged, discharged + FOLLOW_UP_WITHIN)

    @property
    def open(self) -> tuple[datetime, ...]:
        """The discharges no contact has followed yet."""
        return tuple(at for at in self.discharges if not any(contact >= at for contact in self.contacts))


def fold_follow_ups(follow_ups: FollowUps, fact: EpisodeClosed | FollowUpCompleted) -> FollowUps:
    match fact:
        case EpisodeClosed():
            due = {*follow_ups.due, *([(fact.closed_at, fact.due_at)] if fact.due_at else [])}
            return replace(follow_ups, discharges=tuple(sorted({*follow_ups.discharges, fact.closed_at})), due=tuple(sorted(due)))
        case FollowUpCompleted():
            return replace(follow_ups, contacts=tuple(sorted({*follow_ups.contacts, fact.contact_at})))
    raise TypeError(f"the board does not fold {type(fact).__name__}")


def follow_ups_due(follow_ups: Iterable[FollowUps], now: datetime) -> list[FollowUpRow]:
    """Every follow-up not yet made: due within its clock, or overdue (first, most overdue first)."""
    rows = []
    for patient in follow_ups:
        for discharged in patient.open:
            left = patient.due_by(discharged) - now
            overdue = left <= timedelta(0)
            due = f"overdue by {_duration(-left)}" if overdue else f"due within {_duration(left)}"
            rows.append(FollowUpRow(patient.patient_id, f"discharged from home treatment {_duration(now - discharged)} ago", due,
                                    overdue, _whole_minutes(left)))
    return sorted(rows, key=lambda row: (row.minutes_left, str(row.patient_id)))


# --- Carers at breaking point ----------------------------------------------------------------------

@dataclass(frozen=True)
class Carer:
    """An episode's latest escalation for a carer at breaking point (scheduling.events: in order)."""

    episode_id: UUID
    patient_id: UUID | None = None
    raised_at: datetime | None = None
    action: str | None = None


def fold_carer(carer: Carer, fact: EscalationRaised) -> Carer:
    if EscalationReason.CARER_AT_BREAKING_POINT not in fact.reasons:
        return carer
    if carer.raised_at is not None and fact.raised_at <= carer.raised_at:
        return carer  # an earlier escalation, or the same one again
    return replace(carer, patient_id=fact.patient_id, raised_at=fact.raised_at, action=fact.action.value)


ACTION_WORDS = {EscalationAction.MORE_VISITS.value: "more visits arranged",
                EscalationAction.ADMISSION_REQUEST.value: "admission requested"}


def carers_at_breaking_point(carers: Iterable[Carer], now: datetime) -> list[CarerRow]:
    """Each open episode whose carer was last recorded at breaking point, the most recent first."""
    raised = sorted((c for c in carers if c.raised_at is not None and c.patient_id is not None),
                    key=lambda c: (-c.raised_at.timestamp(), str(c.episode_id)))
    return [CarerRow(c.patient_id, c.episode_id, f"carer at breaking point, recorded {_duration(now - c.raised_at)} ago: "
                     f"{ACTION_WORDS.get(c.action, c.action)}; offer a carer's assessment", True) for c in raised]


# --- Contacts below the plan this week ------------------------------------------------------------

WEEK = timedelta(days=7)


def below_plan(episode: Episode, visits: Iterable[Visit], now: datetime) -> BelowPlanRow | None:
    """An open episode with a plan, this week of it (weeks count from the plan's agreement): the
    contacts made so far and those still booked this week, against those agreed. A row only when
    even the booked ones would leave it short."""
    if episode.plan_agreed_at is None or episode.closed_at is not None or episode.patient_id is None or now < episode.plan_agreed_at:
        return None
    week = (now - episode.plan_agreed_at) // WEEK + 1
    starts = episode.plan_agreed_at + (week - 1) * WEEK
    ends = starts + WEEK
    planned = episode.visits_first_week if week == 1 else episode.visits_per_week_after
    mine = [visit for visit in visits if visit.episode_id == episode.episode_id]
    completed = sum(1 for v in mine if v.completed_at is not None and starts <= v.completed_at < ends)
    booked = sum(1 for v in mine if v.completed_at is None and v.missed_at is None and v.window_start is not None
                 and now <= v.window_start < ends)
    short = (planned or 0) - completed - booked
    if short <= 0:
        return None
    words = (f"week {week}: {completed} of {planned} contacts so far, {booked} more booked; "
             f"{short} short of the plan; the week ends {ends:%a} {ends.day} {ends:%b}")
    return BelowPlanRow(episode.patient_id, episode.episode_id, week, planned, completed, booked, words)


# --- The board as one team may see it ---------------------------------------------------------------

C = InformationCategory
# What each list tells the viewing team about a patient, as a category of information: the same
# consent decision as any disclosure says whether the team may see it (by default a caring team
# may: all are in the minimum necessary for direct care).
LIST_SHOWS = {
    "waiting for assessment": C.RISK,  # the urgency of a triaged crisis
    "visits": C.CONTACT_DETAILS,  # when and by whom the person is seen at home
    "follow-ups": C.DISCHARGE_ARRANGEMENTS,
    "discharges": C.DISCHARGE_ARRANGEMENTS,
    "carers": C.RISK,
    "contacts below plan": C.CONTACT_DETAILS,
}


@dataclass(frozen=True)
class Viewed:
    """One patient's row as decided for the viewing team: what the audit trail records."""

    patient_id: UUID
    list_name: str
    decision: Decision


@dataclass(frozen=True)
class Facts:
    """Everything the read model holds for one team, as folded."""

    episodes: tuple[Episode, ...] = ()
    referrals: tuple[Referral, ...] = ()
    visits: tuple[Visit, ...] = ()
    discharges: tuple[Discharge, ...] = ()
    follow_ups: tuple[FollowUps, ...] = ()
    carers: tuple[Carer, ...] = ()


def board(team: str, facts: Facts, consent: Mapping[UUID, ConsentState], now: datetime, tz: ZoneInfo) -> tuple[Board, list[Viewed]]:
    """The team's board at `now`, every row decided by the consent function for the team: a row
    the team may not see is withheld (its id and the reason only); a patient who asked that the
    team is not told is left off altogether. Returns each decision too, to be audited."""
    open_episodes = {e.episode_id: e for e in facts.episodes if e.closed_at is None}
    closed = {e.episode_id for e in facts.episodes if e.closed_at is not None}
    key_workers = {e.episode_id: e.key_worker for e in facts.episodes}
    today = now.astimezone(tz).date()
    lists = {
        "waiting for assessment": waiting_list((r for r in facts.referrals if r.episode_id in open_episodes), now),
        "today": visits_on(facts.visits, today, key_workers, closed, now, tz),
        "tomorrow": visits_on(facts.visits, today + timedelta(days=1), key_workers, closed, now, tz),
        "follow-ups": follow_ups_due(facts.follow_ups, now),
        "discharges": discharges_waiting((d for d in facts.discharges if d.episode_id in open_episodes), now),
        "carers": carers_at_breaking_point((c for c in facts.carers if c.episode_id in open_episodes), now),
        "contacts below plan": [row for e in open_episodes.values() if (row := below_plan(e, facts.visits, now))],
    }
    shown: dict[str, list] = {}
    withheld: list[WithheldRow] = []
    viewed: list[Viewed] = []
    for name, rows in lists.items():
        shown[name] = []
        category = LIST_SHOWS["visits" if name in ("today", "tomorrow") else name]
        for row in rows:
            decision = decide(consent.get(row.patient_id, ConsentState()), team, Purpose.DIRECT_CARE, {category}, now)
            viewed.append(Viewed(row.patient_id, name, decision))
            if decision.allows(category):
                shown[name].append(row)
            elif not decision.not_told:
                withheld.append(WithheldRow(row.patient_id, name, decision.reason))
    local = now.astimezone(tz)
    return Board(
        trust=Trust(team.split(":", 1)[1]), team=team, at=now, local_time=f"{local:%a} {local.day} {local:%b}, {local:%H:%M}",
        waiting=tuple(shown["waiting for assessment"]), today=tuple(shown["today"]), tomorrow=tuple(shown["tomorrow"]),
        follow_ups=tuple(shown["follow-ups"]), discharges=tuple(shown["discharges"]), carers=tuple(shown["carers"]),
        below_plan=tuple(shown["contacts below plan"]), withheld=tuple(withheld),
    ), viewed


# --- Which event folds into what ---------------------------------------------------------------------

@dataclass(frozen=True)
class Projection:
    """One thing on the board an event folds into: its kind, its id in the event, and the fold."""

    kind: str
    model: type
    key: Callable[[Any], UUID]
    fold: Callable[[Any, Any], Any]


REFERRAL = Projection("referral", Referral, lambda e: e.episode_id, fold_referral)
EPISODE = Projection("episode", Episode, lambda e: e.episode_id, fold_episode)
VISIT = Projection("visit", Visit, lambda e: e.visit_id, fold_visit)
DISCHARGE = Projection("discharge", Discharge, lambda e: e.episode_id, fold_discharge)
FOLLOW_UPS = Projection("follow-ups", FollowUps, lambda e: e.patient_id, fold_follow_ups)
CARER = Projection("carer", Carer, lambda e: e.episode_id, fold_carer)

PROJECTIONS: Mapping[type, tuple[Projection, ...]] = {
    ReferralAccepted: (REFERRAL, EPISODE),
    AssessmentStarted: (REFERRAL,),
    ResponseTargetBreached: (REFERRAL,),
    CarePlanAgreed: (EPISODE,),
    VisitScheduled: (VISIT,),
    VisitRunningLate: (VISIT,),
    VisitCompleted: (VISIT,),
    VisitMissed: (VISIT,),
    EscalationRaised: (CARER,),
    DischargeRefused: (DISCHARGE,),
    EpisodeClosed: (REFERRAL, EPISODE, DISCHARGE, FOLLOW_UPS),
    FollowUpCompleted: (FOLLOW_UPS,),
}
