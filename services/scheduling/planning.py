"""Who visits, pure: the rota as a roster, the key worker and core team chosen by continuity
first, each visit given to someone on shift with the skills the patient needs and not already
booked, and plans revised when the rota is read after the plan it should have shaped.

The standards behind it (CORE fidelity items on information and frequency): a named key worker
and a small core team; at least 7 contacts in the first week and about 5 a week after; a window
of at most one hour, fixed the day before.

(About 330 lines: the roster, the first plan and its revision share the choice of people and
slots, so they are kept in one module rather than split across three that import each other.)
"""

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from contracts import AssessmentCompleted, CarePlanAgreed, Event, Pathway, Role, Skill, VisitScheduled
from services.scheduling.domain import (
    BETWEEN_VISITS,
    CORE_TEAM_SIZE,
    DAYTIME,
    EARLY_DAYS,
    PLANNED_MINUTES,
    VISITS_FIRST_WEEK,
    VISITS_PER_WEEK_AFTER,
    WINDOW,
    Episode,
    ServiceHours,
    Visit,
    week_of,
)


@dataclass(frozen=True)
class Staff:
    staff_id: str
    skills: frozenset[Skill]
    team_lead: bool = False
    display_name: str | None = None
    role: Role | None = None  # as patients are told it, in easy read ("Niamh is a nurse")

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
    booked: dict[str, set[int]] = field(default_factory=dict)  # per member, booked slots' starts in epoch seconds
    # Answers already worked out: a plan asks about the same few slots of each member many times.
    _covered: dict[tuple[str, datetime], bool] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        staff: Iterable[Staff],
        shifts: Iterable[tuple[str, datetime, datetime]],
        booked: Iterable[tuple[str, datetime]] = (),
    ) -> "Roster":
        # A slot is a whole hour that starts at or after the shift starts and ends by its end.
        return cls.from_hours(
            staff,
            ((staff_id, _hour_at_or_after(start), int(end.timestamp() // _HOUR)) for staff_id, start, end in shifts),
            ((staff_id, (_second_of(start),)) for staff_id, start in booked),
        )

    @classmethod
    def from_hours(
        cls,
        staff: Iterable[Staff],
        shift_hours: Iterable[tuple[str, int, int]],
        booked_seconds: Iterable[tuple[str, Iterable[int]]] = (),
    ) -> "Roster":
        """The roster as the database can give it without a datetime per row: each shift as its
        first and stop slot hour, each member's bookings as epoch seconds."""
        runs: dict[str, list[tuple[int, int]]] = {}
        for staff_id, first, stop in shift_hours:
            if first < stop:
                runs.setdefault(staff_id, []).append((first, stop))
        roster = cls({s.staff_id: s for s in staff}, {staff_id: _merged(r) for staff_id, r in runs.items()}, {})
        for staff_id, seconds in booked_seconds:
            roster.booked.setdefault(staff_id, set()).update(seconds)
        return roster

    def available(self, staff_id: str, slot: datetime, needs: Iterable[Skill]) -> bool:
        member = self.staff.get(staff_id)
        return (
            member is not None
            and member.can_visit(needs)
            and _second_of(slot) not in self.booked.get(staff_id, ())
            and self._covers(staff_id, slot)
        )

    def book(self, staff_id: str, slot: datetime) -> None:
        self.booked.setdefault(staff_id, set()).add(_second_of(slot))

    def release(self, staff_id: str, slot: datetime) -> None:
        self.booked.get(staff_id, set()).discard(_second_of(slot))

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


def _second_of(moment: datetime) -> int:
    return math.floor(moment.timestamp())


def _merged(runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Runs sorted, overlapping and touching ones joined (each slot counted once)."""
    joined: list[tuple[int, int]] = []
    for first, stop in sorted(runs):
        if joined and first <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], stop))
        else:
            joined.append((first, stop))
    return joined


def choose_team(roster: Roster, needs: Iterable[Skill], start: datetime, end: datetime) -> tuple[str | None, tuple[str, ...]]:
    """The key worker and core team: those able to visit with the most hours on shift this week
    (ties by staff id, so the choice depends on the roster alone). Someone with no shift that
    week is neither: they could not visit, and a name given for them would soon be wrong."""
    needs = tuple(needs)
    hours = {s.staff_id: roster.hours_on_shift(s.staff_id, start, end) for s in roster.staff.values() if s.can_visit(needs)}
    ranked = sorted((sid for sid, h in hours.items() if h > 0), key=lambda sid: (-hours[sid], sid))
    return (ranked[0] if ranked else None), tuple(ranked[:CORE_TEAM_SIZE])


def _by_familiarity(roster: Roster, preferred: tuple[str, ...]) -> tuple[str, ...]:
    return (*preferred, *sorted(sid for sid in roster.staff if sid not in preferred))


def assign(
    roster: Roster, day: date, tz: ZoneInfo, not_before: datetime, preferred: tuple[str, ...], needs: tuple[Skill, ...],
    hours: ServiceHours = DAYTIME, *, planned: bool = True,
) -> tuple[datetime, str | None]:
    """The earliest slot of the day (in the team's visiting hours, or `planned=False` its open
    hours) for the most familiar person free then: the key worker, then the core team, then
    anyone with the skills. Books it in the roster."""
    slots = hours.slots(day, tz, not_before, planned=planned)
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

    def first_day(self, tz: ZoneInfo) -> date:
        """The local day of the plan's first visit, from which its weeks are counted."""
        return self.visits[0].window_start.astimezone(tz).date()


def plan_home_treatment(
    assessment: AssessmentCompleted, roster: Roster, tz: ZoneInfo, now: datetime, closed_at: datetime | None = None,
    hours: ServiceHours = DAYTIME,
) -> Plan | None:
    """A new home-treatment episode: the key worker, core team and first week of visits, one on
    each of the first seven days the team visits, from tomorrow (arranged the day before). Someone
    stepping down from a ward is seen at home the same day: in the visiting hours left today,
    else in the hours the team is open, else tomorrow. Where the assessment asks for two visits
    a day, each of the first three days has a second, at least six hours after the first, if
    the day's hours allow. An episode already closed (its closure read before this assessment)
    gets no plan."""
    if assessment.outcome is not Pathway.HOME_TREATMENT or closed_at is not None:
        return None
    needs, ids = assessment.required_skills, (assessment.patient_id, assessment.episode_id)
    today = now.astimezone(tz).date()
    planned_today = hours.slots(today, tz, now)
    same_day = assessment.step_down and bool(planned_today or hours.slots(today, tz, now, planned=False))
    days = hours.visit_days(today if same_day else today + timedelta(days=1), VISITS_FIRST_WEEK)
    key_worker, core = choose_team(roster, needs, *week_of(days[0], tz))
    visits: list[VisitScheduled] = []
    for n, day in enumerate(days):
        first = visit_on(roster, day, tz, now, *ids, core, needs, hours=hours, planned=not (day == today and not planned_today))
        visits.append(first)
        later = first.window_start + BETWEEN_VISITS
        if n < EARLY_DAYS and assessment.visits_a_day_at_first > 1 and hours.slots(day, tz, later):
            visits.append(visit_on(roster, day, tz, later, *ids, core, needs, hours=hours))
    visits = tuple(visits)
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
    *,
    hours: ServiceHours = DAYTIME,
    planned: bool = True,
) -> VisitScheduled:
    """A visit on the day, at the first slot not before `now` (`assign`)."""
    start, staff_id = assign(roster, day, tz, now, core, needs, hours, planned=planned)
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


def revise_plans(  # about 60 lines: one pass over the team's plans, in order; the rules below are its steps
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

