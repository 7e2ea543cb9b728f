"""Scheduling rules, pure: visits and episodes, visit windows, outcomes and escalation, late and
missed visits, weeks below plan, and when a key worker's name is told. Who visits (the rota,
continuity-first assignment, revising plans) is `planning`; what people read is `messages`.

The standards behind them (CORE fidelity items on information and frequency): a named key
worker and a small core team; at least 7 contacts in the first week and about 5 a week after;
visits up to twice a day; a window of at most one hour, fixed the day before; the patient told
if staff are more than 15 minutes late.

Events reach the service on topics that are not ordered with each other, so each rule here also
says what happens when its prerequisite comes late (`NotYetKnown`), when the episode has already
closed, and when the rota is read after the plan it should have shaped.

(About 330 lines: each rule sits beside the rules for its late and closed cases, which are
read together; who visits is already apart, in `planning`.)
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from contracts import (
    CarerStrain,
    ContactsBelowPlan,
    EscalationAction,
    EscalationRaised,
    EscalationReason,
    Event,
    RiskChange,
    Skill,
    VisitCompleted,
    VisitMissed,
    VisitOutcomeRecorded,
    VisitRequested,
    VisitRunningLate,
    VisitStarted,
    VisitStatus,
)
from shared.runtime.errors import InvalidEvent, NotYetKnown

WINDOW = timedelta(hours=1)
VISITS_FIRST_WEEK = 7  # days with a visit in the first week; some have two (`EARLY_DAYS`)
EARLY_DAYS = 3  # the first days, on which those who need it are visited twice
BETWEEN_VISITS = timedelta(hours=6)  # a day's second visit opens at least this long after its first
VISITS_PER_WEEK_AFTER = 5
PLANNED_MINUTES = 60
CORE_TEAM_SIZE = 3
LATE_AFTER = timedelta(minutes=15)
CONFIRM_FROM = time(12)  # local time, the day before a visit: its window and who is coming are confirmed
CUT_SHORT_BELOW = 0.5  # of the planned length
# A key worker chosen after the plan was made (the rota read late) is told to the patient once
# the choice has stood this long: a rota arriving one member at a time settles first.
KEY_WORKER_SETTLES = timedelta(minutes=10)


@dataclass(frozen=True)
class Visit:
    visit_id: UUID
    patient_id: UUID
    episode_id: UUID
    status: VisitStatus | None  # the outcome recorded; None while scheduled, missed or cancelled
    staff_id: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    planned_minutes: int = PLANNED_MINUTES
    started: bool = False
    late_notified: bool = False
    cancelled: bool = False  # at discharge; staff may still have gone
    outcome_recorded: bool = False  # the first outcome is kept, whatever its status
    replaces_visit_id: UUID | None = None
    confirmed: bool = False  # the patient has been told, the day before, its window and who is coming
    easy_read: bool = False  # the episode's messages to the patient are in easy read


@dataclass(frozen=True)
class Episode:
    """What scheduling knows of an episode: its patient and team, the plan's people, whether the
    patient has been told the key worker's name, and whether the episode is closed. An episode
    whose closure was read before the assessment that opened it is known only as closed."""

    episode_id: UUID
    patient_id: UUID
    team: str | None
    required_skills: tuple[Skill, ...] = ()
    key_worker: str | None = None
    core_team: tuple[str, ...] = ()
    closed_at: datetime | None = None
    plan_start: date | None = None  # local day of the first planned visit; None: no plan
    visits_first_week: int | None = None
    visits_per_week_after: int | None = None
    planned_minutes: int = PLANNED_MINUTES
    key_worker_chosen_at: datetime | None = None
    key_worker_named_at: datetime | None = None  # the patient was told the name
    visited: bool = False  # a visit of the episode has started or has an outcome
    easy_read: bool = False  # the patient's messages are in easy read (the assessment says so, not why)

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def provisional(self) -> bool:
        """The plan's people may still be re-chosen: nobody has visited and no name was given."""
        return self.key_worker_named_at is None and not self.visited


@dataclass(frozen=True)
class ServiceHours:
    """When a Trust's home treatment team visits (`trust_rules.toml`), as local hours [from, to):
    planned visits in its visiting hours; a visit a clinician asks for, one after a carer reaches
    breaking point, and the same-day first visit of someone stepping down from a ward at any
    hour it is open ((0, 24) for a team that runs round the clock). Only on its days (Monday 0)."""

    visiting: tuple[int, int] = (9, 20)
    open: tuple[int, int] = (9, 20)
    days: frozenset[int] = frozenset(range(7))

    def slots(self, day: date, tz: ZoneInfo, not_before: datetime, *, planned: bool = True) -> list[datetime]:
        """The window starts of a day, in UTC, that are not in the past: each whole local hour in
        the visiting (or open) hours whose window ends by their end. Counted hour by hour in UTC,
        so a day the clocks change has the hours it really has."""
        if day.weekday() not in self.days:
            return []
        first, end = self.visiting if planned else self.open
        at = datetime.combine(day, time(0), tzinfo=tz).astimezone(not_before.tzinfo)
        midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(not_before.tzinfo)
        starts = []
        while at < midnight:
            hour = at.astimezone(tz).hour
            if first <= hour < end and at >= not_before:
                starts.append(at)
            at += WINDOW
        return starts

    def visit_days(self, first: date, count: int) -> list[date]:
        """The first `count` days the team visits, from `first` on."""
        days = (first + timedelta(days=n) for n in range(7 * count))
        return [day for day in days if day.weekday() in self.days][:count]


DAYTIME = ServiceHours()  # the first wave's hours: 09:00 to 20:00, every day


def slots_on(day: date, tz: ZoneInfo, not_before: datetime, hours: ServiceHours = DAYTIME, *, planned: bool = True) -> list[datetime]:
    """The window starts of a day, in UTC, that are not in the past (`ServiceHours.slots`)."""
    return hours.slots(day, tz, not_before, planned=planned)


def week_of(plan_start: date, tz: ZoneInfo, week: int = 1) -> tuple[datetime, datetime]:
    """A week of the plan (1: the first, over which the key worker's and core team's hours are
    counted), from local midnight to local midnight."""
    start = datetime.combine(plan_start + timedelta(days=7 * (week - 1)), time(0), tzinfo=tz)
    return start, start + timedelta(days=7)


def next_visit_day(tz: ZoneInfo, now: datetime, hours: ServiceHours = DAYTIME, *, planned: bool = True) -> date:
    """Today if a window is still to come, else the next day the team visits."""
    today = now.astimezone(tz).date()
    return today if hours.slots(today, tz, now, planned=planned) else hours.visit_days(today + timedelta(days=1), 1)[0]


def visit_request_day(
    episode: Episode | None, request: VisitRequested, tz: ZoneInfo, now: datetime, hours: ServiceHours = DAYTIME
) -> date:
    """The day a clinician's extra visit is booked on, at the first hour the team is open (any
    hour, for a team that runs round the clock). An episode not heard of yet may still be on its
    way; a closed episode takes no new visit (discharge is the end of home treatment: a visit
    booked after it would be missed, replaced and messaged to the patient without end)."""
    if episode is None:
        raise NotYetKnown("no home-treatment episode with this id is known to the scheduling service")
    if episode.patient_id != request.patient_id:
        raise InvalidEvent("the episode belongs to a different patient")
    if episode.closed:
        raise InvalidEvent("the episode is closed: no visit is booked after discharge")
    if request.day < now.astimezone(tz).date() or not hours.slots(request.day, tz, now, planned=False):
        raise InvalidEvent("the requested day has no visit window left in the team's hours")
    return request.day


def record_outcome(visit: Visit | None, outcome: VisitOutcomeRecorded) -> list[VisitCompleted]:
    """A completed visit becomes a VisitCompleted; an outcome already recorded changes nothing.
    (What an outcome does as a whole, unknown visits included, is `decide_outcome`.)"""
    if visit is None:
        raise InvalidEvent("no visit with this id was scheduled")
    if visit.patient_id != outcome.patient_id or visit.episode_id != outcome.episode_id:
        raise InvalidEvent("the visit belongs to a different patient or episode")
    if visit.status is not None or visit.outcome_recorded or outcome.status is not VisitStatus.COMPLETED:
        return []
    return [
        VisitCompleted(
            visit_id=visit.visit_id,
            patient_id=visit.patient_id,
            episode_id=visit.episode_id,
            actual_minutes=outcome.actual_minutes,
            completed_at=outcome.recorded_at,
            cut_short=outcome.actual_minutes < visit.planned_minutes * CUT_SHORT_BELOW,
        )
    ]


def escalation(outcome: VisitOutcomeRecorded, now: datetime) -> EscalationRaised | None:
    """Rising risk asks for an admission to be considered; a carer at breaking point, more visits."""
    reasons = []
    if outcome.risk_change is RiskChange.INCREASED:
        reasons.append(EscalationReason.RISK_INCREASED)
    if outcome.carer_strain is CarerStrain.BREAKING_POINT:
        reasons.append(EscalationReason.CARER_AT_BREAKING_POINT)
    if not reasons:
        return None
    action = (
        EscalationAction.ADMISSION_REQUEST if EscalationReason.RISK_INCREASED in reasons else EscalationAction.MORE_VISITS
    )
    return EscalationRaised(
        patient_id=outcome.patient_id,
        episode_id=outcome.episode_id,
        visit_id=outcome.visit_id,
        reasons=tuple(reasons),
        action=action,
        raised_at=now,
    )


def _known_visit(visit: Visit | None, episode: Episode | None, patient_id: UUID, episode_id: UUID) -> Visit:
    """The visit an event from the staff app names. Visits are booked only here, so one not known
    yet may still be on its way (e.g. a database restored behind the staff app) -- unless its
    episode is closed, when none can be booked any more."""
    if visit is None:
        if episode is not None and episode.closed:
            raise InvalidEvent("no visit with this id was scheduled, and its episode is closed")
        raise NotYetKnown("no visit with this id is known to the scheduling service")
    if visit.patient_id != patient_id or visit.episode_id != episode_id:
        raise InvalidEvent("the visit belongs to a different patient or episode")
    return visit


def accept_start(visit: Visit | None, episode: Episode | None, started: VisitStarted) -> None:
    """An arrival is recorded for any visit known, even one cancelled at discharge: staff went."""
    _known_visit(visit, episode, started.patient_id, started.episode_id)


@dataclass(frozen=True)
class OutcomeDecision:
    """What one visit outcome does: record it, tell (completion, escalation), book, alert."""

    record: bool = False
    completed: VisitCompleted | None = None
    escalation: EscalationRaised | None = None
    book_visit: bool = False  # one more visit: today if a window is left, else tomorrow
    after_closure: EscalationRaised | None = None  # raised on a closed episode: the team lead decides

    @property
    def events(self) -> tuple[Event, ...]:
        return tuple(event for event in (self.completed, self.escalation) if event is not None)


def decide_outcome(visit: Visit | None, episode: Episode | None, outcome: VisitOutcomeRecorded, now: datetime) -> OutcomeDecision:
    """A visit outcome counts once per visit. The first one recorded stands: a second for the
    same visit -- re-sent under a new event id, or reporting something different -- changes
    nothing and emits nothing, so one visit never escalates twice nor books two extra visits.
    (A correction belongs in the clinical record; a new concern seen at a later contact comes
    with that contact's own outcome.)

    A visit cancelled at discharge that staff went to anyway is recorded, and its escalation is
    raised so the risk is seen; but a closed episode books nothing, so the team lead is told
    instead, to decide whether the patient needs care again."""
    visit = _known_visit(visit, episode, outcome.patient_id, outcome.episode_id)
    if visit.outcome_recorded or visit.status is not None:
        return OutcomeDecision()
    completed = next(iter(record_outcome(visit, outcome)), None)
    raised = escalation(outcome, now)
    closed = episode is None or episode.closed
    return OutcomeDecision(
        record=True,
        completed=completed,
        escalation=raised,
        book_visit=raised is not None and not closed,
        after_closure=raised if closed else None,
    )


@dataclass(frozen=True)
class PlanWeeks:
    """An open plan with weeks ended since it was last checked against what it promised."""

    episode_id: UUID
    patient_id: UUID
    team: str | None
    plan_start: date
    weeks_checked: int
    visits_first_week: int
    visits_per_week_after: int

    def due(self, today: date) -> list[int]:
        return weeks_ended(self.plan_start, self.weeks_checked, today)

    def below_plan(self, week: int, completed: int, now: datetime) -> ContactsBelowPlan | None:
        planned = planned_in_week(week, self.visits_first_week, self.visits_per_week_after)
        return shortfall(self.patient_id, self.episode_id, week, planned, completed, now)


def weeks_ended(plan_start: date, weeks_checked: int, today: date) -> list[int]:
    """Week numbers (1-based) of the plan that have ended by today and are not checked yet."""
    ended = (today - plan_start).days // 7
    return list(range(weeks_checked + 1, ended + 1))


def planned_in_week(week: int, first_week: int, after: int) -> int:
    return first_week if week == 1 else after


def shortfall(
    patient_id: UUID, episode_id: UUID, week: int, planned: int, completed: int, now: datetime
) -> ContactsBelowPlan | None:
    if completed >= planned:
        return None
    return ContactsBelowPlan(
        patient_id=patient_id, episode_id=episode_id, week=week, planned=planned, completed=completed, detected_at=now
    )


def running_late(visit: Visit, now: datetime) -> VisitRunningLate | None:
    assert visit.window_start is not None
    if visit.status is None and not visit.started and not visit.late_notified and now >= visit.window_start + LATE_AFTER:
        return VisitRunningLate(
            visit_id=visit.visit_id,
            patient_id=visit.patient_id,
            episode_id=visit.episode_id,
            window_start=visit.window_start,
            detected_at=now,
        )
    return None


def missed(visit: Visit, now: datetime, grace: timedelta) -> VisitMissed | None:
    assert visit.window_end is not None
    if visit.status is None and now >= visit.window_end + grace:
        return VisitMissed(
            visit_id=visit.visit_id,
            patient_id=visit.patient_id,
            episode_id=visit.episode_id,
            staff_id=visit.staff_id,
            window_end=visit.window_end,
            detected_at=now,
        )
    return None


@dataclass(frozen=True)
class VisitCheck:
    """What the visit check does with one visit whose window has opened."""

    cancel: bool = False  # its episode is closed: cancelled quietly
    missed: VisitMissed | None = None  # a new visit is booked; the patient and team lead are told
    late: VisitRunningLate | None = None  # the patient is told


def check_visit(visit: Visit, episode_closed: bool, now: datetime, grace: timedelta) -> VisitCheck:
    """A visit still open on a closed episode (booked as the episode closed, or by an older
    version of this service) is cancelled, as discharge cancels the visits ahead: it is not
    missed, nothing replaces it and nobody is told a new visit is booked. Otherwise a visit is
    missed once its window and the grace period have passed, or late 15 minutes in."""
    if episode_closed:
        return VisitCheck(cancel=visit.status is None and not visit.cancelled)
    if (miss := missed(visit, now, grace)) is not None:
        return VisitCheck(missed=miss)
    return VisitCheck(late=running_late(visit, now))


def name_due(plan: Episode, now: datetime) -> bool:
    """A key worker chosen after the plan's message is told to the patient once the choice has
    stood for `KEY_WORKER_SETTLES` (a rota arriving member by member settles first), or at once
    when a visit has taken place (the choice can no longer change)."""
    if plan.closed or plan.key_worker is None or plan.key_worker_named_at is not None:
        return False
    settled = plan.key_worker_chosen_at is None or now - plan.key_worker_chosen_at >= KEY_WORKER_SETTLES
    return settled or plan.visited


def confirmation_window(tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime] | None:
    """The visits to confirm now: from midday, those of tomorrow (local midnight to midnight),
    the day before as the plan promises; None before midday. A visit booked for tomorrow later
    in the day is confirmed at the next check."""
    local = now.astimezone(tz)
    if local.time() < CONFIRM_FROM:
        return None
    tomorrow = local.date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(0), tzinfo=tz)
    return start.astimezone(now.tzinfo), datetime.combine(tomorrow + timedelta(days=1), time(0), tzinfo=tz).astimezone(now.tzinfo)
