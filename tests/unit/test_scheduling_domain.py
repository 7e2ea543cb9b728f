"""Scheduling rules: the plan, continuity, skills, no double booking, lateness and misses."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from contracts import AssessmentCompleted, CarerStrain, EscalationAction, Pathway, RiskChange, Skill, VisitOutcomeRecorded, VisitStatus
from services.scheduling import domain
from services.scheduling.domain import Roster, Staff

TZ = ZoneInfo("Europe/Belfast")
NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # a Thursday afternoon (GMT)


def day_shifts(staff_id: str, days: int = 9, start_hour: int = 8, end_hour: int = 20):
    first = datetime(2026, 11, 26, tzinfo=UTC)
    return [
        (staff_id, first + timedelta(days=d, hours=start_hour), first + timedelta(days=d, hours=end_hour)) for d in range(days)
    ]


def roster(*members: Staff, shifts=None) -> Roster:
    shifts = shifts if shifts is not None else [s for m in members for s in day_shifts(m.staff_id)]
    return Roster.build(members, shifts)


def assessment(skills=(), outcome=Pathway.HOME_TREATMENT) -> AssessmentCompleted:
    return AssessmentCompleted(
        assessment_id=uuid4(), patient_id=uuid4(), episode_id=uuid4(), outcome=outcome, assessed_at=NOW, required_skills=skills
    )


def staff(staff_id: str, *skills: Skill) -> Staff:
    return Staff(staff_id, frozenset(skills))


def test_a_new_episode_gets_a_key_worker_and_seven_visits_in_week_one_each_within_an_hour() -> None:
    team = roster(staff("a"), staff("b"), staff("c"), staff("d"))
    plan = domain.plan_home_treatment(assessment(), team, TZ, NOW)
    assert plan is not None and plan.agreed.key_worker is not None
    assert len(plan.visits) >= 7 and plan.agreed.visits_first_week >= 7
    assert all(v.window_end - v.window_start <= timedelta(hours=1) for v in plan.visits)
    assert plan.visits[0].window_start.date() == date(2026, 11, 27)  # arranged the day before


def test_when_the_key_worker_is_on_shift_every_visit_is_theirs() -> None:
    team = roster(staff("a"), staff("b"), staff("c"), staff("d"), staff("e"))
    plan = domain.plan_home_treatment(assessment(), team, TZ, NOW)
    assert {v.staff_id for v in plan.visits} == {plan.agreed.key_worker}


def test_on_the_key_workers_days_off_the_core_team_covers() -> None:
    shifts = [s for s in day_shifts("a") if s[1].day % 2 == 0] + [s for m in "bcde" for s in day_shifts(m)]
    team = roster(*(staff(m) for m in "abcde"), shifts=shifts)
    plan = domain.plan_home_treatment(assessment(), team, TZ, NOW)
    assert {v.staff_id for v in plan.visits} <= set(plan.agreed.core_team)


def test_a_patient_needing_learning_disability_skills_only_gets_staff_with_them() -> None:
    team = roster(staff("a"), staff("ld-1", Skill.LEARNING_DISABILITY), staff("ld-2", Skill.LEARNING_DISABILITY))
    plan = domain.plan_home_treatment(assessment(skills=(Skill.LEARNING_DISABILITY,)), team, TZ, NOW)
    assert {v.staff_id for v in plan.visits} <= {"ld-1", "ld-2"}
    assert "a" not in plan.agreed.core_team


def test_nobody_is_booked_twice_in_one_slot_however_many_patients() -> None:
    team = roster(staff("a"), staff("b"))
    visits = [v for _ in range(30) for v in domain.plan_home_treatment(assessment(), team, TZ, NOW).visits]
    booked = [(v.staff_id, v.window_start) for v in visits if v.staff_id]
    assert len(booked) == len(set(booked))
    assert any(v.staff_id is None for v in visits)  # 30 patients outrun two people: unassigned, not double-booked


def test_no_plan_for_other_pathways() -> None:
    assert domain.plan_home_treatment(assessment(outcome=Pathway.CMHT), roster(staff("a")), TZ, NOW) is None


def open_visit(start: datetime, **fields) -> domain.Visit:
    return domain.Visit(uuid4(), uuid4(), uuid4(), None, "a", start, start + timedelta(hours=1), **fields)


def test_a_visit_not_started_15_minutes_in_is_late_once() -> None:
    visit = open_visit(NOW)
    assert domain.running_late(visit, NOW + timedelta(minutes=14)) is None
    assert domain.running_late(visit, NOW + timedelta(minutes=15)) is not None
    assert domain.running_late(open_visit(NOW, late_notified=True), NOW + timedelta(minutes=20)) is None
    assert domain.running_late(open_visit(NOW, started=True), NOW + timedelta(minutes=20)) is None


def test_a_visit_with_no_outcome_after_the_window_and_grace_is_missed() -> None:
    visit = open_visit(NOW)
    grace = timedelta(minutes=30)
    assert domain.missed(visit, NOW + timedelta(minutes=89), grace) is None
    assert domain.missed(visit, NOW + timedelta(minutes=90), grace).staff_id == "a"


def outcome(**fields) -> VisitOutcomeRecorded:
    return VisitOutcomeRecorded(
        visit_id=uuid4(), patient_id=uuid4(), episode_id=uuid4(), status=VisitStatus.COMPLETED, actual_minutes=50,
        recorded_at=NOW, **fields,
    )


def test_a_carer_at_breaking_point_raises_an_escalation_for_more_visits() -> None:
    raised = domain.escalation(outcome(carer_strain=CarerStrain.BREAKING_POINT), NOW)
    assert raised is not None and raised.action is EscalationAction.MORE_VISITS


def test_rising_risk_asks_for_admission_to_be_considered() -> None:
    assert domain.escalation(outcome(risk_change=RiskChange.INCREASED), NOW).action is EscalationAction.ADMISSION_REQUEST


def test_an_ordinary_visit_raises_nothing() -> None:
    assert domain.escalation(outcome(carer_strain=CarerStrain.COPING), NOW) is None


def test_a_visit_under_half_its_planned_length_is_counted_as_cut_short() -> None:
    visit = domain.Visit(uuid4(), uuid4(), uuid4(), None, planned_minutes=60)
    short = outcome().model_copy(update={"visit_id": visit.visit_id, "patient_id": visit.patient_id, "episode_id": visit.episode_id, "actual_minutes": 20})
    assert domain.record_outcome(visit, short)[0].cut_short


def test_each_ended_week_of_the_plan_is_checked_once() -> None:
    start = date(2026, 11, 27)
    assert domain.weeks_ended(start, 0, date(2026, 12, 3)) == []
    assert domain.weeks_ended(start, 0, date(2026, 12, 4)) == [1]
    assert domain.weeks_ended(start, 1, date(2026, 12, 11)) == [2]


def test_a_week_with_fewer_contacts_than_planned_is_a_shortfall() -> None:
    assert domain.planned_in_week(1, 7, 5) == 7 and domain.planned_in_week(2, 7, 5) == 5
    below = domain.shortfall(uuid4(), uuid4(), 1, planned=7, completed=4, now=NOW)
    assert (below.planned, below.completed) == (7, 4)
    assert domain.shortfall(uuid4(), uuid4(), 2, planned=5, completed=5, now=NOW) is None
