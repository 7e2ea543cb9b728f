"""Scheduling rules, pure: the care plan, continuity-first assignment, late and missed visits,
and escalation.

The standards behind them (CORE fidelity items on information and frequency): a named key
worker and a small core team; at least 7 contacts in the first week and about 5 a week after;
visits up to twice a day; a window of at most one hour, fixed the day before; the patient told
if staff are more than 15 minutes late.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
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
    Pathway,
    RiskChange,
    Skill,
    VisitCompleted,
    VisitMissed,
    VisitOutcomeRecorded,
    VisitRunningLate,
    VisitScheduled,
    VisitStatus,
)
from shared.errors import InvalidEvent

WINDOW = timedelta(hours=1)
FIRST_SLOT, LAST_SLOT = 9, 19  # windows open on the hour, 09:00 to 19:00 local time
VISITS_FIRST_WEEK = 7
VISITS_PER_WEEK_AFTER = 5
PLANNED_MINUTES = 60
CORE_TEAM_SIZE = 3
LATE_AFTER = timedelta(minutes=15)
CUT_SHORT_BELOW = 0.5  # of the planned length


@dataclass(frozen=True)
class Staff:
    staff_id: str
    skills: frozenset[Skill]
    team_lead: bool = False
    display_name: str | None = None

    def can_visit(self, needs: Iterable[Skill]) -> bool:
        return set(needs) <= self.skills


@dataclass
class Roster:
    """A team's staff, the hour slots each is on shift for, and the slots already booked."""

    staff: dict[str, Staff]
    on_shift: dict[str, set[datetime]]  # slot starts covered by a shift
    booked: dict[str, set[datetime]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        staff: Iterable[Staff],
        shifts: Iterable[tuple[str, datetime, datetime]],
        booked: Iterable[tuple[str, datetime]] = (),
    ) -> "Roster":
        roster = cls({s.staff_id: s for s in staff}, {}, {})
        for staff_id, start, end in shifts:
            slot = start.replace(minute=0, second=0, microsecond=0)
            slot += timedelta(hours=1) if slot < start else timedelta(0)
            while slot + WINDOW <= end:
                roster.on_shift.setdefault(staff_id, set()).add(slot)
                slot += WINDOW
        for staff_id, start in booked:
            roster.booked.setdefault(staff_id, set()).add(start)
        return roster

    def available(self, staff_id: str, slot: datetime, needs: Iterable[Skill]) -> bool:
        member = self.staff.get(staff_id)
        return (
            member is not None
            and member.can_visit(needs)
            and slot in self.on_shift.get(staff_id, ())
            and slot not in self.booked.get(staff_id, ())
        )

    def book(self, staff_id: str, slot: datetime) -> None:
        self.booked.setdefault(staff_id, set()).add(slot)

    def hours_on_shift(self, staff_id: str, start: datetime, end: datetime) -> int:
        return sum(1 for slot in self.on_shift.get(staff_id, ()) if start <= slot < end)


@dataclass(frozen=True)
class Visit:
    visit_id: UUID
    patient_id: UUID
    episode_id: UUID
    status: VisitStatus | None  # None while scheduled
    staff_id: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    planned_minutes: int = PLANNED_MINUTES
    started: bool = False
    late_notified: bool = False


def slots_on(day: date, tz: ZoneInfo, not_before: datetime) -> list[datetime]:
    """The window starts of a day, in UTC, that are not in the past."""
    starts = [datetime.combine(day, time(hour), tzinfo=tz) for hour in range(FIRST_SLOT, LAST_SLOT + 1)]
    return [start.astimezone(not_before.tzinfo) for start in starts if start >= not_before]


def choose_team(roster: Roster, needs: Iterable[Skill], start: datetime, end: datetime) -> tuple[str | None, tuple[str, ...]]:
    """The key worker and core team: those able to visit with the most hours on shift this week."""
    needs = tuple(needs)
    able = [s.staff_id for s in roster.staff.values() if s.can_visit(needs)]
    ranked = sorted(able, key=lambda sid: (-roster.hours_on_shift(sid, start, end), sid))
    return (ranked[0] if ranked else None), tuple(ranked[:CORE_TEAM_SIZE])


def assign(
    roster: Roster, day: date, tz: ZoneInfo, not_before: datetime, preferred: tuple[str, ...], needs: tuple[Skill, ...]
) -> tuple[datetime, str | None]:
    """The earliest slot of the day for the most familiar person free then: the key worker,
    then the core team, then anyone with the skills. Books it in the roster."""
    slots = slots_on(day, tz, not_before)
    if not slots:
        raise ValueError("no slot left on that day")
    others = tuple(sorted(sid for sid in roster.staff if sid not in preferred))
    for staff_id in (*preferred, *others):
        for slot in slots:
            if roster.available(staff_id, slot, needs):
                roster.book(staff_id, slot)
                return slot, staff_id
    return slots[0], None  # nobody free: the visit stands, unassigned, and the team lead is told


@dataclass(frozen=True)
class Plan:
    agreed: CarePlanAgreed
    visits: tuple[VisitScheduled, ...]


def plan_home_treatment(assessment: AssessmentCompleted, roster: Roster, tz: ZoneInfo, now: datetime) -> Plan | None:
    """A new home-treatment episode: the key worker, core team and first week of visits."""
    if assessment.outcome is not Pathway.HOME_TREATMENT:
        return None
    needs = assessment.required_skills
    first_day = now.astimezone(tz).date() + timedelta(days=1)  # arranged the day before
    days = [first_day + timedelta(days=n) for n in range(VISITS_FIRST_WEEK)]
    week_start = datetime.combine(first_day, time(0), tzinfo=tz)
    key_worker, core = choose_team(roster, needs, week_start, week_start + timedelta(days=7))
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


def plan_text(plan: Plan, roster: Roster, tz: ZoneInfo) -> str:
    """The plan in words the patient can read."""
    key = roster.staff.get(plan.agreed.key_worker or "")
    who = f"Your named worker is {key.display_name or 'a member of the team'}" if key else "Your named worker will be confirmed"
    first = plan.visits[0].window_start.astimezone(tz)
    return (
        f"Your home treatment plan. We will visit you {plan.agreed.visits_first_week} times in the next week, "
        f"about {plan.agreed.planned_minutes} minutes each time, then about {plan.agreed.visits_per_week_after} "
        f"times a week. {who}, and a small team of {len(plan.agreed.core_team)} will share your visits. "
        f"Each visit has a one-hour window, confirmed the day before; the first is {first:%A %d %B} between "
        f"{first:%H:%M} and {(first + WINDOW):%H:%M}. If we are more than 15 minutes late, we will tell you."
    )


def record_outcome(visit: Visit | None, outcome: VisitOutcomeRecorded) -> list[VisitCompleted]:
    """A completed visit becomes a VisitCompleted; an outcome already recorded changes nothing."""
    if visit is None:
        raise InvalidEvent("no visit with this id was scheduled")
    if visit.patient_id != outcome.patient_id or visit.episode_id != outcome.episode_id:
        raise InvalidEvent("the visit belongs to a different patient or episode")
    if visit.status is not None or outcome.status is not VisitStatus.COMPLETED:
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
