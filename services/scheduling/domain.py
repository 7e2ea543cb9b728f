"""Scheduling rules, pure: the care plan, continuity-first assignment, late and missed visits,
and escalation.

The standards behind them (CORE fidelity items on information and frequency): a named key
worker and a small core team; at least 7 contacts in the first week and about 5 a week after;
visits up to twice a day; a window of at most one hour, fixed the day before; the patient told
if staff are more than 15 minutes late.

Events reach the service on topics that are not ordered with each other, so each rule here also
says what happens when its prerequisite comes late (`NotYetKnown`), when the episode has already
closed, and when the rota is read after the plan it should have shaped.
"""

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from contracts import (
    AssessmentCompleted,
    CarePlanAgreed,
    CarerStrain,
    ContactsBelowPlan,
    EscalationAction,
    EscalationRaised,
    EscalationReason,
    Event,
    Pathway,
    RiskChange,
    Skill,
    VisitCompleted,
    VisitMissed,
    VisitOutcomeRecorded,
    VisitRequested,
    VisitRunningLate,
    VisitScheduled,
    VisitStarted,
    VisitStatus,
)
from shared.runtime.errors import InvalidEvent, NotYetKnown

WINDOW = timedelta(hours=1)
FIRST_SLOT, LAST_SLOT = 9, 19  # windows open on the hour, 09:00 to 19:00 local time
VISITS_FIRST_WEEK = 7
VISITS_PER_WEEK_AFTER = 5
PLANNED_MINUTES = 60
CORE_TEAM_SIZE = 3
LATE_AFTER = timedelta(minutes=15)
CUT_SHORT_BELOW = 0.5  # of the planned length
# A key worker chosen after the plan was made (the rota read late) is told to the patient once
# the choice has stood this long: a rota arriving one member at a time settles first.
KEY_WORKER_SETTLES = timedelta(minutes=10)


@dataclass(frozen=True)
class Staff:
    staff_id: str
    skills: frozenset[Skill]
    team_lead: bool = False
    display_name: str | None = None

    def can_visit(self, needs: Iterable[Skill]) -> bool:
        return self.skills.issuperset(needs)


@dataclass
class Roster:
    """A team's staff, the hour slots each is on shift for, and the slots already booked.

    Shifts are kept as runs of whole hours (hour numbers counted from the epoch, UTC), not as a
    set of slots: a team's rota over the planning horizon is thousands of slots, and every plan
    reads it."""

    staff: dict[str, Staff]
    on_shift: dict[str, list[tuple[int, int]]]  # per member, sorted runs [first, stop) of slot hours
    booked: dict[str, set[datetime]] = field(default_factory=dict)
    # Answers already worked out: a plan asks about the same few slots of each member many times.
    _covered: dict[tuple[str, datetime], bool] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        staff: Iterable[Staff],
        shifts: Iterable[tuple[str, datetime, datetime]],
        booked: Iterable[tuple[str, datetime]] = (),
    ) -> "Roster":
        runs: dict[str, list[tuple[int, int]]] = {}
        for staff_id, start, end in shifts:
            # A slot is a whole hour that starts at or after the shift starts and ends by its end.
            first, stop = _hour_at_or_after(start), int(end.timestamp() // _HOUR)
            if first < stop:
                runs.setdefault(staff_id, []).append((first, stop))
        roster = cls({s.staff_id: s for s in staff}, {staff_id: _merged(r) for staff_id, r in runs.items()}, {})
        for staff_id, start in booked:
            roster.booked.setdefault(staff_id, set()).add(start)
        return roster

    def available(self, staff_id: str, slot: datetime, needs: Iterable[Skill]) -> bool:
        member = self.staff.get(staff_id)
        return (
            member is not None
            and member.can_visit(needs)
            and slot not in self.booked.get(staff_id, ())
            and self._covers(staff_id, slot)
        )

    def book(self, staff_id: str, slot: datetime) -> None:
        self.booked.setdefault(staff_id, set()).add(slot)

    def release(self, staff_id: str, slot: datetime) -> None:
        self.booked.get(staff_id, set()).discard(slot)

    def hours_on_shift(self, staff_id: str, start: datetime, end: datetime) -> int:
        """Slots on shift starting in [start, end)."""
        lo, hi = _hour_at_or_after(start), _hour_at_or_after(end)
        return sum(max(0, min(stop, hi) - max(first, lo)) for first, stop in self.on_shift.get(staff_id, ()))

    def _covers(self, staff_id: str, slot: datetime) -> bool:
        known = self._covered.get((staff_id, slot))
        if known is None:
            seconds = slot.timestamp()
            hour = int(seconds // _HOUR)
            runs = self.on_shift.get(staff_id, ())
            at = bisect_right(runs, (hour, math.inf)) - 1
            # Slots start on the hour.
            known = self._covered[staff_id, slot] = not seconds % _HOUR and at >= 0 and runs[at][0] <= hour < runs[at][1]
        return known


_HOUR = 3600


def _hour_at_or_after(moment: datetime) -> int:
    return math.ceil(moment.timestamp() / _HOUR)


def _merged(runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Runs sorted, overlapping and touching ones joined (each slot counted once)."""
    joined: list[tuple[int, int]] = []
    for first, stop in sorted(runs):
        if joined and first <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], stop))
        else:
            joined.append((first, stop))
    return joined


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

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def provisional(self) -> bool:
        """The plan's people may still be re-chosen: nobody has visited and no name was given."""
        return self.key_worker_named_at is None and not self.visited


def slots_on(day: date, tz: ZoneInfo, not_before: datetime) -> list[datetime]:
    """The window starts of a day, in UTC, that are not in the past."""
    starts = [datetime.combine(day, time(hour), tzinfo=tz) for hour in range(FIRST_SLOT, LAST_SLOT + 1)]
    return [start.astimezone(not_before.tzinfo) for start in starts if start >= not_before]


def choose_team(roster: Roster, needs: Iterable[Skill], start: datetime, end: datetime) -> tuple[str | None, tuple[str, ...]]:
    """The key worker and core team: those able to visit with the most hours on shift this week
    (ties by staff id, so the choice depends on the roster alone). Someone with no shift that
    week is neither: they could not visit, and a name given for them would soon be wrong."""
    needs = tuple(needs)
    hours = {s.staff_id: roster.hours_on_shift(s.staff_id, start, end) for s in roster.staff.values() if s.can_visit(needs)}
    ranked = sorted((sid for sid, h in hours.items() if h > 0), key=lambda sid: (-hours[sid], sid))
    return (ranked[0] if ranked else None), tuple(ranked[:CORE_TEAM_SIZE])


def week_of(plan_start: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The plan's first week, over which the key worker's and core team's hours are counted."""
    start = datetime.combine(plan_start, time(0), tzinfo=tz)
    return start, start + timedelta(days=7)


def _by_familiarity(roster: Roster, preferred: tuple[str, ...]) -> tuple[str, ...]:
    return (*preferred, *sorted(sid for sid in roster.staff if sid not in preferred))


def assign(
    roster: Roster, day: date, tz: ZoneInfo, not_before: datetime, preferred: tuple[str, ...], needs: tuple[Skill, ...]
) -> tuple[datetime, str | None]:
    """The earliest slot of the day for the most familiar person free then: the key worker,
    then the core team, then anyone with the skills. Books it in the roster."""
    slots = slots_on(day, tz, not_before)
    if not slots:
        raise ValueError("no slot left on that day")
    for staff_id in _by_familiarity(roster, preferred):
        member = roster.staff.get(staff_id)
        if member is None or not member.can_visit(needs):
            continue
        for slot in slots:
            if roster.available(staff_id, slot, needs):
                roster.book(staff_id, slot)
                return slot, staff_id
    return slots[0], None  # nobody free: the visit stands, unassigned, and the team lead is told


def assign_at(roster: Roster, slot: datetime, preferred: tuple[str, ...], needs: tuple[Skill, ...]) -> str | None:
    """The most familiar person free for a window already given: the key worker, then the core
    team, then anyone with the skills. Books it in the roster."""
    for staff_id in _by_familiarity(roster, preferred):
        if roster.available(staff_id, slot, needs):
            roster.book(staff_id, slot)
            return staff_id
    return None


@dataclass(frozen=True)
class Plan:
    agreed: CarePlanAgreed
    visits: tuple[VisitScheduled, ...]

    @property
    def names_key_worker(self) -> bool:
        """The plan's message tells the patient their key worker's name (see `plan_text`)."""
        return self.agreed.key_worker is not None


def plan_home_treatment(
    assessment: AssessmentCompleted, roster: Roster, tz: ZoneInfo, now: datetime, closed_at: datetime | None = None
) -> Plan | None:
    """A new home-treatment episode: the key worker, core team and first week of visits. An
    episode already closed (its closure read before this assessment) gets no plan."""
    if assessment.outcome is not Pathway.HOME_TREATMENT or closed_at is not None:
        return None
    needs = assessment.required_skills
    first_day = now.astimezone(tz).date() + timedelta(days=1)  # arranged the day before
    days = [first_day + timedelta(days=n) for n in range(VISITS_FIRST_WEEK)]
    key_worker, core = choose_team(roster, needs, *week_of(first_day, tz))
    visits = tuple(
        visit_on(roster, day, tz, now, assessment.patient_id, assessment.episode_id, core, needs) for day in days
    )
    agreed = CarePlanAgreed(
        patient_id=assessment.patient_id,
        episode_id=assessment.episode_id,
        key_worker=key_worker,
        core_team=core,
        visits_first_week=len(visits),
        visits_per_week_after=VISITS_PER_WEEK_AFTER,
        planned_minutes=PLANNED_MINUTES,
        required_skills=needs,
        agreed_at=now,
    )
    return Plan(agreed, visits)


def visit_on(
    roster: Roster,
    day: date,
    tz: ZoneInfo,
    now: datetime,
    patient_id: UUID,
    episode_id: UUID,
    core: tuple[str, ...],
    needs: tuple[Skill, ...],
    replaces: UUID | None = None,
) -> VisitScheduled:
    start, staff_id = assign(roster, day, tz, now, core, needs)
    return VisitScheduled(
        visit_id=uuid4(),
        patient_id=patient_id,
        episode_id=episode_id,
        window_start=start,
        window_end=start + WINDOW,
        planned_minutes=PLANNED_MINUTES,
        staff_id=staff_id,
        replaces_visit_id=replaces,
    )


def next_visit_day(tz: ZoneInfo, now: datetime) -> date:
    """Today if a window is still to come, else tomorrow."""
    today = now.astimezone(tz).date()
    return today if slots_on(today, tz, now) else today + timedelta(days=1)


def visit_request_day(episode: Episode | None, request: VisitRequested, tz: ZoneInfo, now: datetime) -> date:
    """The day a clinician's extra visit is booked on. An episode not heard of yet may still be
    on its way; a closed episode takes no new visit (discharge is the end of home treatment: a
    visit booked after it would be missed, replaced and messaged to the patient without end)."""
    if episode is None:
        raise NotYetKnown("no home-treatment episode with this id is known to the scheduling service")
    if episode.patient_id != request.patient_id:
        raise InvalidEvent("the episode belongs to a different patient")
    if episode.closed:
        raise InvalidEvent("the episode is closed: no visit is booked after discharge")
    if request.day < now.astimezone(tz).date() or not slots_on(request.day, tz, now):
        raise InvalidEvent("the requested day has no visit window left")
    return request.day


def plan_text(plan: Plan, roster: Roster, tz: ZoneInfo) -> str:
    """The plan in words the patient can read."""
    key = roster.staff.get(plan.agreed.key_worker or "")
    who = f"Your named worker is {key.display_name or 'a member of the team'}" if key else "Your named worker will be confirmed"
    team = f"a small team of {len(plan.agreed.core_team)}" if plan.agreed.core_team else "a small team"
    first = plan.visits[0].window_start.astimezone(tz)
    return (
        f"Your home treatment plan. We will visit you {plan.agreed.visits_first_week} times in the next week, "
        f"about {plan.agreed.planned_minutes} minutes each time, then about {plan.agreed.visits_per_week_after} "
        f"times a week. {who}, and {team} will share your visits. "
        f"Each visit has a one-hour window, confirmed the day before; the first is {first:%A %d %B} between "
        f"{first:%H:%M} and {(first + WINDOW):%H:%M}. If we are more than 15 minutes late, we will tell you."
    )


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
    team_lead_text: str | None = None

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
        team_lead_text=escalation_after_closure_text(raised) if raised is not None and closed else None,
    )


_REASON_WORDS = {
    EscalationReason.RISK_INCREASED: "rising risk",
    EscalationReason.CARER_AT_BREAKING_POINT: "a carer at breaking point",
}


def escalation_after_closure_text(raised: EscalationRaised) -> str:
    """For the team lead: an escalation nobody else will act on, as the episode is closed."""
    what = " and ".join(_REASON_WORDS[reason] for reason in raised.reasons)
    asks = " It asks for an admission to be considered." if raised.action is EscalationAction.ADMISSION_REQUEST else ""
    return (
        f"A visit outcome recorded after this home-treatment episode was closed reports {what}.{asks} "
        "No visit was booked, as the episode is closed: please decide whether the patient needs care again."
    )


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


@dataclass(frozen=True)
class Revision:
    """A plan after a rota change: its people, and the visits whose staff changed."""

    plan: Episode
    key_worker: str | None
    core_team: tuple[str, ...]
    visits: tuple[VisitScheduled, ...]  # as now scheduled; the same windows, new staff
    agreed: CarePlanAgreed | None  # the revised plan, when its key worker or core team changed

    @property
    def key_worker_changed(self) -> bool:
        return self.key_worker != self.plan.key_worker

    @property
    def events(self) -> tuple[Event, ...]:
        return (*([self.agreed] if self.agreed else []), *self.visits)


def roster_from(plans: Iterable[Episode], tz: ZoneInfo, now: datetime) -> datetime:
    """How far back a rota change must read shifts: to the first week of every plan whose people
    may be re-chosen, so their hours are counted as they were when the plan was made."""
    starts = [week_of(p.plan_start, tz)[0] for p in plans if p.plan_start and (p.provisional or p.key_worker is None)]
    return min([now - timedelta(hours=1), *starts])


def revise_plans(
    plans: Sequence[Episode], visits: Iterable[Visit], roster: Roster, tz: ZoneInfo, now: datetime
) -> list[Revision]:
    """When a team's rota changes (staff or shifts recorded), its open plans catch up with it, in
    the order they were made, with the functions used at planning -- so the result depends only
    on the roster, whichever of rota and assessment was read first.

    - A plan with no key worker yet gets one, and a core team (`choose_team`, over the plan's
      first week).
    - A provisional plan -- nobody has visited and the patient has not been told a name -- is
      re-chosen at every rota change, and its visits ahead re-assigned to its people. So a rota
      read one member at a time ends with the key worker and core team the whole rota gives,
      as it would have given had it come first. The name is told only once it has stood for
      `KEY_WORKER_SETTLES`; a name once told is kept (the patient has been told who to expect),
      as is a key worker once somebody has visited (continuity is then under way).
    - Any other plan keeps its people; only its visits ahead with nobody assigned get someone.

    A visit keeps its window (the patient may have been told it); only who makes it changes.
    Visits ahead are those not started whose window opens after now; other plans' bookings stand.
    Only the visits whose staff changed are returned; those left unassigned are for the team lead.
    """
    ahead: dict[UUID, list[Visit]] = {}
    for visit in sorted(visits, key=lambda v: (v.window_start, v.visit_id)):
        if visit.status is None and not visit.cancelled and not visit.started and visit.window_start > now:
            ahead.setdefault(visit.episode_id, []).append(visit)
    revisions = []
    for plan in plans:
        if plan.closed or plan.plan_start is None:
            continue
        needs = plan.required_skills
        if plan.provisional or plan.key_worker is None:
            key_worker, core = choose_team(roster, needs, *week_of(plan.plan_start, tz))
        else:
            key_worker, core = plan.key_worker, plan.core_team
        moving = [v for v in ahead.get(plan.episode_id, []) if plan.provisional or v.staff_id is None]
        for visit in moving:
            if visit.staff_id is not None:
                roster.release(visit.staff_id, visit.window_start)
        changed = []
        for visit in moving:
            staff_id = assign_at(roster, visit.window_start, core, needs)
            if staff_id != visit.staff_id:
                changed.append(_scheduled(replace(visit, staff_id=staff_id)))
        agreed = None
        if (key_worker, core) != (plan.key_worker, plan.core_team):
            agreed = CarePlanAgreed(
                patient_id=plan.patient_id,
                episode_id=plan.episode_id,
                key_worker=key_worker,
                core_team=core,
                visits_first_week=plan.visits_first_week or VISITS_FIRST_WEEK,
                visits_per_week_after=plan.visits_per_week_after if plan.visits_per_week_after is not None else VISITS_PER_WEEK_AFTER,
                planned_minutes=plan.planned_minutes,
                required_skills=needs,
                agreed_at=now,
            )
        if agreed or changed:
            revisions.append(Revision(plan, key_worker, core, tuple(changed), agreed))
    return revisions


def _scheduled(visit: Visit) -> VisitScheduled:
    assert visit.window_start is not None and visit.window_end is not None
    return VisitScheduled(
        visit_id=visit.visit_id,
        patient_id=visit.patient_id,
        episode_id=visit.episode_id,
        window_start=visit.window_start,
        window_end=visit.window_end,
        planned_minutes=visit.planned_minutes,
        staff_id=visit.staff_id,
        replaces_visit_id=visit.replaces_visit_id,
    )


def name_due(plan: Episode, now: datetime) -> bool:
    """A key worker chosen after the plan's message is told to the patient once the choice has
    stood for `KEY_WORKER_SETTLES` (a rota arriving member by member settles first), or at once
    when a visit has taken place (the choice can no longer change)."""
    if plan.closed or plan.key_worker is None or plan.key_worker_named_at is not None:
        return False
    settled = plan.key_worker_chosen_at is None or now - plan.key_worker_chosen_at >= KEY_WORKER_SETTLES
    return settled or plan.visited


def named_worker_text(display_name: str | None, core_team_size: int) -> str:
    """The patient's named worker, confirmed after the plan's message said it would be."""
    name = display_name or "a member of the team"
    among = display_name or "your named worker"
    team = f" A small team of {core_team_size}, {among} among them, will share your visits." if core_team_size > 1 else ""
    return f"Your named worker for home treatment is {name}.{team} The times of your visits are unchanged."
