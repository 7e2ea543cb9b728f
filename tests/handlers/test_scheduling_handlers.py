"""The scheduling service's handlers and jobs on a small fake store: what each one stores,
emits and tells people, and that each takes its team's planning lock."""

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from contracts import (
    AssessmentCompleted,
    CarePlanAgreed,
    ContactsBelowPlan,
    NotificationSent,
    Pathway,
    Shift,
    ShiftsRostered,
    Trust,
    VisitMissed,
    VisitRunningLate,
    VisitScheduled,
)
from services.scheduling import domain, handlers, planning
from shared.runtime.errors import InvalidEvent
from tests.fakes import FakeContext, FixedClock

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
DEPS = handlers.Dependencies(tz=ZoneInfo("Europe/Belfast"), missed_grace=timedelta(minutes=30))
TEAM = "htcr:belfast"


def team_on_shift(*staff_ids: str) -> planning.Roster:
    shifts = [(s, datetime(2026, 11, 26, 8, tzinfo=UTC) + timedelta(days=d), datetime(2026, 11, 26, 20, tzinfo=UTC) + timedelta(days=d))
              for s in staff_ids for d in range(10)]
    return planning.Roster.build([planning.Staff(s, frozenset()) for s in staff_ids], shifts)


@dataclass
class FakeStore:
    """The scheduling store's methods over dictionaries."""

    team_roster: planning.Roster = field(default_factory=lambda: team_on_shift("a", "b", "c"))
    episodes: dict[UUID, domain.Episode] = field(default_factory=dict)
    visits: dict[UUID, VisitScheduled] = field(default_factory=dict)
    due: list[domain.Visit] = field(default_factory=list)
    marked: dict[UUID, str] = field(default_factory=dict)  # visit id: "missed", "late" or "cancelled"
    plans: list[CarePlanAgreed] = field(default_factory=list)
    weeks: list[domain.PlanWeeks] = field(default_factory=list)
    completed_in_week: int = 0
    checked: dict[UUID, int] = field(default_factory=dict)
    locked: list[str] = field(default_factory=list)
    staff: dict[str, str] = field(default_factory=dict)

    async def lock_teams(self, teams) -> None:  # noqa: ANN001
        self.locked += list(teams)

    async def roster(self, team: str, start: datetime, end: datetime) -> planning.Roster:
        return self.team_roster

    async def add_episode(self, assessment: AssessmentCompleted, team: str | None) -> domain.Episode | None:
        if assessment.episode_id in self.episodes:
            return None
        self.episodes[assessment.episode_id] = domain.Episode(assessment.episode_id, assessment.patient_id, team,
                                                              easy_read=assessment.easy_read)
        return self.episodes[assessment.episode_id]

    async def save_plan(self, plan: CarePlanAgreed, first_day: date, named: bool) -> None:
        self.plans.append(plan)
        self.episodes[plan.episode_id] = replace(self.episodes[plan.episode_id], key_worker=plan.key_worker, core_team=plan.core_team)

    async def add_visits(self, *visits: VisitScheduled) -> None:
        self.visits.update({visit.visit_id: visit for visit in visits})

    async def staff_team(self, staff_id: str) -> str | None:
        return self.staff.get(staff_id)

    async def episode(self, episode_id: UUID) -> domain.Episode | None:
        return self.episodes.get(episode_id)

    async def due_for_checks(self, now: datetime) -> list[domain.Visit]:
        return [visit for visit in self.due if visit.visit_id not in self.marked]

    async def teams_of(self, episode_ids) -> list[str]:  # noqa: ANN001
        return sorted({self.episodes[e].team for e in episode_ids if self.episodes[e].team})

    async def closed_among(self, episode_ids) -> set[UUID]:  # noqa: ANN001
        return {e for e in episode_ids if self.episodes[e].closed}

    async def cancel_visit(self, visit_id: UUID) -> None:
        self.marked[visit_id] = "cancelled"

    async def mark_missed(self, visit_id: UUID, at: datetime) -> None:
        self.marked[visit_id] = "missed"

    async def mark_late(self, visit_id: UUID, at: datetime) -> None:
        self.marked[visit_id] = "late"

    async def episodes_with_weeks_ended(self, today: date) -> list[domain.PlanWeeks]:
        return [weeks for weeks in self.weeks if self.checked.get(weeks.episode_id, weeks.weeks_checked) < (today - weeks.plan_start).days // 7]

    async def completed_between(self, episode_id: UUID, start: datetime, end: datetime) -> int:
        return self.completed_in_week

    async def weeks_checked(self, episode_id: UUID, weeks: int) -> None:
        self.checked[episode_id] = weeks


def context(store: FakeStore, at: datetime = NOW) -> FakeContext:
    return FakeContext(store, DEPS, clock=FixedClock(at))


def notes(ctx: FakeContext) -> list[tuple[str, str]]:
    return [(note.recipient, note.kind) for note in ctx.events(NotificationSent)]


def completed(**fields: object) -> AssessmentCompleted:
    return AssessmentCompleted(**{
        "assessment_id": uuid4(), "patient_id": uuid4(), "episode_id": uuid4(), "outcome": Pathway.HOME_TREATMENT,
        "assessed_at": NOW, "trust": Trust.BELFAST, **fields,
    })


async def test_a_home_treatment_assessment_gets_a_plan_its_visits_and_a_message_to_the_patient() -> None:
    store, assessment = FakeStore(), completed()
    ctx = FakeContext.for_event(assessment, store, DEPS, clock=FixedClock(NOW))
    await handlers.on_assessment_completed(ctx, assessment)
    (plan,) = ctx.events(CarePlanAgreed)
    assert plan.key_worker in {"a", "b", "c"} and len(ctx.events(VisitScheduled)) == 7 == len(store.visits)
    assert notes(ctx) == [("patient", "care-plan")]
    assert store.locked == [TEAM] and ctx.committing_soon, "planning must hold the team's lock and commit soon"


async def test_an_assessment_planned_for_already_plans_nothing_more() -> None:
    store, assessment = FakeStore(), completed()
    await handlers.on_assessment_completed(context(store), assessment)
    again = context(store)
    await handlers.on_assessment_completed(again, assessment)
    assert again.emitted == [] and len(store.plans) == 1


async def test_a_plan_with_nobody_on_shift_asks_the_team_lead_to_assign_each_visit() -> None:
    store, assessment = FakeStore(team_roster=planning.Roster({}, {})), completed()
    ctx = context(store)
    await handlers.on_assessment_completed(ctx, assessment)
    assert notes(ctx) == [("patient", "care-plan")] + [("team-lead:htcr:belfast", "visit-unassigned")] * 7


async def test_shifts_for_staff_the_rota_never_recorded_are_refused() -> None:
    rostered = ShiftsRostered(staff_id="nobody", shifts=(Shift(starts_at=NOW, ends_at=NOW + timedelta(hours=8)),), rostered_at=NOW)
    with pytest.raises(InvalidEvent, match="has not recorded"):
        await handlers.on_shifts_rostered(context(FakeStore()), rostered)


def open_episode(store: FakeStore, closed: bool = False) -> domain.Episode:
    episode = domain.Episode(uuid4(), uuid4(), TEAM, key_worker="a", core_team=("a", "b"), closed_at=NOW if closed else None)
    store.episodes[episode.episode_id] = episode
    return episode


def visit_due(episode: domain.Episode, start: datetime) -> domain.Visit:
    return domain.Visit(uuid4(), episode.patient_id, episode.episode_id, None, "a", start, start + domain.WINDOW)


async def test_a_missed_visit_is_marked_replaced_and_told_to_the_patient_and_team_lead_once() -> None:
    store = FakeStore()
    missed = visit_due(open_episode(store), NOW - timedelta(hours=2))
    store.due = [missed]
    ctx = context(store)
    await handlers.check_visits(ctx)
    await handlers.check_visits(ctx)
    assert store.marked == {missed.visit_id: "missed"} and len(ctx.events(VisitMissed)) == 1
    (replacement,) = ctx.events(VisitScheduled)
    assert replacement.replaces_visit_id == missed.visit_id
    assert notes(ctx) == [("patient", "visit-missed"), ("team-lead:htcr:belfast", "visit-missed")]


async def test_a_late_visit_tells_only_the_patient() -> None:
    store = FakeStore()
    late = visit_due(open_episode(store), NOW - timedelta(minutes=20))
    store.due = [late]
    ctx = context(store)
    await handlers.check_visits(ctx)
    assert store.marked == {late.visit_id: "late"} and len(ctx.events(VisitRunningLate)) == 1
    assert notes(ctx) == [("patient", "visit-late")]


async def test_a_visit_of_a_closed_episode_is_cancelled_and_nobody_is_told() -> None:
    store = FakeStore()
    stale = visit_due(open_episode(store, closed=True), NOW - timedelta(hours=2))
    store.due = [stale]
    ctx = context(store)
    await handlers.check_visits(ctx)
    assert store.marked == {stale.visit_id: "cancelled"} and ctx.emitted == []


async def test_each_ended_week_below_plan_alerts_the_team_lead_and_is_checked_once() -> None:
    store = FakeStore(completed_in_week=3)
    episode = open_episode(store)
    store.weeks = [domain.PlanWeeks(episode.episode_id, episode.patient_id, TEAM, date(2026, 11, 12), 0, 7, 5)]
    ctx = context(store)
    await handlers.check_weeks(ctx)
    await handlers.check_weeks(ctx)
    assert [(b.week, b.planned, b.completed) for b in ctx.events(ContactsBelowPlan)] == [(1, 7, 3), (2, 5, 3)]
    assert notes(ctx) == [("team-lead:htcr:belfast", "contacts-below-plan")] * 2
    assert store.checked == {episode.episode_id: 2}
