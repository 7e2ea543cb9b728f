"""Scheduling rules: the plan, continuity, skills, no double booking, lateness and misses, and
what happens when events arrive out of order: closed episodes, repeated outcomes, a late rota."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import (
    AssessmentCompleted,
    CarerStrain,
    EscalationAction,
    EscalationReason,
    Pathway,
    RiskChange,
    Skill,
    VisitOutcomeRecorded,
    VisitRequested,
    VisitStarted,
    VisitStatus,
)
from services.scheduling import domain, messages, planning
from services.scheduling.planning import Roster, Staff
from shared.runtime.errors import InvalidEvent, NotYetKnown

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
    plan = planning.plan_home_treatment(assessment(), team, TZ, NOW)
    assert plan is not None and plan.agreed.key_worker is not None
    assert len(plan.visits) >= 7 and plan.agreed.visits_first_week >= 7
    assert all(v.window_end - v.window_start <= timedelta(hours=1) for v in plan.visits)
    assert plan.visits[0].window_start.date() == date(2026, 11, 27)  # arranged the day before
    assert plan.first_day(TZ) == date(2026, 11, 27)  # the weeks of the plan count from this day


def test_when_the_key_worker_is_on_shift_every_visit_is_theirs() -> None:
    team = roster(staff("a"), staff("b"), staff("c"), staff("d"), staff("e"))
    plan = planning.plan_home_treatment(assessment(), team, TZ, NOW)
    assert {v.staff_id for v in plan.visits} == {plan.agreed.key_worker}


def test_on_the_key_workers_days_off_the_core_team_covers() -> None:
    shifts = [s for s in day_shifts("a") if s[1].day % 2 == 0] + [s for m in "bcde" for s in day_shifts(m)]
    team = roster(*(staff(m) for m in "abcde"), shifts=shifts)
    plan = planning.plan_home_treatment(assessment(), team, TZ, NOW)
    assert {v.staff_id for v in plan.visits} <= set(plan.agreed.core_team)


def test_a_patient_needing_learning_disability_skills_only_gets_staff_with_them() -> None:
    team = roster(staff("a"), staff("ld-1", Skill.LEARNING_DISABILITY), staff("ld-2", Skill.LEARNING_DISABILITY))
    plan = planning.plan_home_treatment(assessment(skills=(Skill.LEARNING_DISABILITY,)), team, TZ, NOW)
    assert {v.staff_id for v in plan.visits} <= {"ld-1", "ld-2"}
    assert "a" not in plan.agreed.core_team


def test_nobody_is_booked_twice_in_one_slot_however_many_patients() -> None:
    team = roster(staff("a"), staff("b"))
    visits = [v for _ in range(30) for v in planning.plan_home_treatment(assessment(), team, TZ, NOW).visits]
    booked = [(v.staff_id, v.window_start) for v in visits if v.staff_id]
    assert len(booked) == len(set(booked))
    assert any(v.staff_id is None for v in visits)  # 30 patients outrun two people: unassigned, not double-booked


def test_no_plan_for_other_pathways() -> None:
    assert planning.plan_home_treatment(assessment(outcome=Pathway.CMHT), roster(staff("a")), TZ, NOW) is None


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


def test_staff_with_no_shift_in_the_plans_first_week_are_neither_key_worker_nor_core_team() -> None:
    """A name given for someone who cannot visit that week would soon be wrong."""
    team = roster(staff("a"), staff("b"), shifts=day_shifts("b"))
    plan = planning.plan_home_treatment(assessment(), team, TZ, NOW)
    assert plan.agreed.key_worker == "b" and plan.agreed.core_team == ("b",)
    nobody = planning.plan_home_treatment(assessment(), roster(staff("a"), shifts=[]), TZ, NOW)
    assert nobody.agreed.key_worker is None and nobody.agreed.core_team == () and not nobody.names_key_worker
    told = messages.plan_text(nobody, Roster({}, {}), TZ)
    assert "We will tell you who your named worker is soon." in told and "share your visits" not in told


# Closed episodes

CLOSED_AT = NOW - timedelta(hours=2)


def episode(closed: bool = False, **fields) -> domain.Episode:
    return domain.Episode(uuid4(), uuid4(), "htcr:belfast", closed_at=CLOSED_AT if closed else None, **fields)


def request_for(ep: domain.Episode, day: date = date(2026, 11, 27)) -> VisitRequested:
    return VisitRequested(request_id=uuid4(), patient_id=ep.patient_id, episode_id=ep.episode_id, day=day, requested_by="s-1")


def test_a_visit_request_for_a_closed_episode_is_refused() -> None:
    """Refused for good (dead-lettered), with a reason that names no patient."""
    closed = episode(closed=True)
    with pytest.raises(InvalidEvent) as refused:
        domain.visit_request_day(closed, request_for(closed), TZ, NOW)
    assert "closed" in refused.value.reason and str(closed.patient_id) not in refused.value.reason


def test_a_visit_request_for_an_episode_not_heard_of_yet_waits_for_it() -> None:
    with pytest.raises(NotYetKnown):
        domain.visit_request_day(None, request_for(episode()), TZ, NOW)


def test_a_visit_request_for_an_open_episode_is_booked_on_the_day_asked_unless_it_has_no_window_left() -> None:
    open_episode = episode()
    assert domain.visit_request_day(open_episode, request_for(open_episode), TZ, NOW) == date(2026, 11, 27)
    with pytest.raises(InvalidEvent):
        domain.visit_request_day(open_episode, request_for(open_episode, date(2026, 11, 25)), TZ, NOW)
    with pytest.raises(InvalidEvent):
        domain.visit_request_day(open_episode, request_for(episode()), TZ, NOW)  # another patient's episode


def test_an_assessment_read_after_its_episode_closed_plans_nothing() -> None:
    """episode.closed may be read before the assessment that opened the episode."""
    assert planning.plan_home_treatment(assessment(), roster(staff("a")), TZ, NOW, closed_at=CLOSED_AT) is None


def visit_of(ep: domain.Episode, **fields) -> domain.Visit:
    start = NOW - timedelta(hours=3)
    return domain.Visit(uuid4(), ep.patient_id, ep.episode_id, None, "a", start, start + timedelta(hours=1), **fields)


def outcome_of(visit: domain.Visit, **fields) -> VisitOutcomeRecorded:
    return VisitOutcomeRecorded(
        visit_id=visit.visit_id, patient_id=visit.patient_id, episode_id=visit.episode_id, status=VisitStatus.COMPLETED,
        actual_minutes=50, recorded_at=NOW, **fields,
    )


def test_an_escalation_on_an_open_episode_is_raised_and_books_one_more_visit() -> None:
    ep = episode()
    visit = visit_of(ep)
    decision = domain.decide_outcome(visit, ep, outcome_of(visit, carer_strain=CarerStrain.BREAKING_POINT), NOW)
    assert decision.record and decision.book_visit and decision.after_closure is None
    assert decision.escalation.action is EscalationAction.MORE_VISITS and decision.completed is not None


def test_an_outcome_for_a_visit_cancelled_at_discharge_is_recorded_and_escalates_but_books_nothing() -> None:
    """The staff did go: the visit counts, the risk is seen, and the team lead decides what next."""
    ep = episode(closed=True)
    visit = visit_of(ep, cancelled=True)
    decision = domain.decide_outcome(visit, ep, outcome_of(visit, risk_change=RiskChange.INCREASED), NOW)
    assert decision.record and decision.completed is not None and not decision.book_visit
    assert decision.escalation.reasons == (EscalationReason.RISK_INCREASED,)
    assert decision.escalation.action is EscalationAction.ADMISSION_REQUEST
    told = messages.escalation_after_closure("htcr:belfast", decision.after_closure, NOW)
    assert [note.recipient for note in told] == ["team-lead:htcr:belfast"]
    assert "closed" in told[0].text and "rising risk" in told[0].text
    assert [type(e).__name__ for e in decision.events] == ["VisitCompleted", "EscalationRaised"]


def test_a_second_outcome_for_the_same_visit_changes_nothing_even_if_it_differs() -> None:
    """Re-sent under a new event id, or reporting more: the first outcome stands, nothing is emitted."""
    ep = episode()
    visit = visit_of(ep, outcome_recorded=True)
    again = domain.decide_outcome(visit, ep, outcome_of(visit, risk_change=RiskChange.INCREASED), NOW)
    assert again == domain.OutcomeDecision() and again.events == () and not again.book_visit
    seen = replace(visit, status=VisitStatus.NOT_SEEN, outcome_recorded=False)  # recorded before outcomes were flagged
    assert domain.decide_outcome(seen, ep, outcome_of(seen), NOW).events == ()


def test_an_outcome_for_a_visit_not_known_yet_waits_for_it_unless_its_episode_is_closed() -> None:
    ep = episode()
    ghost = visit_of(ep)
    with pytest.raises(NotYetKnown):
        domain.decide_outcome(None, ep, outcome_of(ghost), NOW)
    with pytest.raises(NotYetKnown):
        domain.decide_outcome(None, None, outcome_of(ghost), NOW)
    closed = episode(closed=True)
    with pytest.raises(InvalidEvent):  # no visit can be booked on a closed episode: none is coming
        domain.decide_outcome(None, closed, outcome_of(visit_of(closed)), NOW)


def test_an_outcome_naming_another_patients_visit_is_refused() -> None:
    ep = episode()
    visit = visit_of(ep)
    with pytest.raises(InvalidEvent):
        domain.decide_outcome(visit, ep, outcome_of(visit).model_copy(update={"patient_id": uuid4()}), NOW)


def test_an_arrival_at_a_visit_not_known_yet_waits_for_it_and_one_at_a_cancelled_visit_is_recorded() -> None:
    ep = episode()
    visit = visit_of(ep)
    started = VisitStarted(visit_id=visit.visit_id, patient_id=visit.patient_id, episode_id=visit.episode_id, started_at=NOW)
    with pytest.raises(NotYetKnown):
        domain.accept_start(None, ep, started)
    with pytest.raises(InvalidEvent):
        domain.accept_start(None, replace(ep, closed_at=CLOSED_AT), started)
    domain.accept_start(replace(visit, cancelled=True), replace(ep, closed_at=CLOSED_AT), started)  # no error


def test_the_visit_check_cancels_a_visit_still_open_on_a_closed_episode_without_a_miss_or_a_new_visit() -> None:
    """Not missed, not replaced, nobody told that a new visit is booked."""
    long_past = open_visit(NOW - timedelta(hours=5))
    check = domain.check_visit(long_past, True, NOW, timedelta(minutes=30))
    assert check == domain.VisitCheck(cancel=True)
    assert domain.check_visit(long_past, False, NOW, timedelta(minutes=30)).missed is not None
    assert domain.check_visit(open_visit(NOW - timedelta(minutes=20)), False, NOW, timedelta(minutes=30)).late is not None


# The rota read after the plan

def uneven_team() -> tuple[list[Staff], list]:
    """Five people with different hours in the plan's week, so the ranking is not by id."""
    days = {"a": range(0, 3), "b": range(0, 6), "c": range(0, 9), "d": range(0, 5), "e": range(0, 9, 2)}
    members = [staff(m) for m in days]
    shifts = [s for m, ds in days.items() for d, s in enumerate(day_shifts(m)) if d in ds]
    return members, shifts


def episode_of(plan: planning.Plan) -> domain.Episode:
    agreed = plan.agreed
    return domain.Episode(
        agreed.episode_id, agreed.patient_id, "htcr:belfast", agreed.required_skills, agreed.key_worker, agreed.core_team,
        plan_start=plan.visits[0].window_start.astimezone(TZ).date(), visits_first_week=agreed.visits_first_week,
        visits_per_week_after=agreed.visits_per_week_after, key_worker_chosen_at=NOW if agreed.key_worker else None,
        key_worker_named_at=NOW if plan.names_key_worker else None,
    )


def visits_in(plan: planning.Plan) -> list[domain.Visit]:
    return [
        domain.Visit(v.visit_id, v.patient_id, v.episode_id, None, v.staff_id, v.window_start, v.window_end, v.planned_minutes)
        for v in plan.visits
    ]


def rota_read(ep: domain.Episode, visits: list[domain.Visit], members, shifts, at: datetime):
    """What the service does on a rota event: the roster with the plan's bookings, revised, stored."""
    booked = [(v.staff_id, v.window_start) for v in visits if v.staff_id]
    revisions = planning.revise_plans([ep], visits, Roster.build(members, shifts, booked), TZ, at)
    for revision in revisions:
        ep = replace(ep, key_worker=revision.key_worker, core_team=revision.core_team,
                     key_worker_chosen_at=at if revision.key_worker_changed else ep.key_worker_chosen_at)
        moved = {v.visit_id: v.staff_id for v in revision.visits}
        visits = [replace(v, staff_id=moved.get(v.visit_id, v.staff_id)) for v in visits]
    return ep, visits, revisions


def test_a_plan_made_before_the_rota_gets_once_it_is_read_the_people_it_would_have_had_with_the_rota_first() -> None:
    """Key worker, core team, and (for one patient) every visit's window and staff converge."""
    members, shifts = uneven_team()
    patient = assessment()
    rota_first = planning.plan_home_treatment(patient, Roster.build(members, shifts), TZ, NOW)
    rota_late = planning.plan_home_treatment(patient, Roster({}, {}), TZ, NOW)
    assert rota_late.agreed.key_worker is None and all(v.staff_id is None for v in rota_late.visits)

    ep, visits, [revision] = rota_read(episode_of(rota_late), visits_in(rota_late), members, shifts, NOW + timedelta(minutes=5))
    assert (ep.key_worker, ep.core_team) == (rota_first.agreed.key_worker, rota_first.agreed.core_team) == ("c", ("c", "b", "d"))
    assert revision.agreed.key_worker == "c" and revision.agreed.visits_first_week == 7
    assert {(v.window_start, v.staff_id) for v in visits} == {(v.window_start, v.staff_id) for v in rota_first.visits}


def test_a_rota_read_one_member_at_a_time_ends_with_the_people_the_whole_rota_gives() -> None:
    """While nobody has visited and no name was told, each rota event re-chooses the plan's people."""
    members, shifts = uneven_team()
    patient = assessment()
    rota_first = planning.plan_home_treatment(patient, Roster.build(members, shifts), TZ, NOW)
    rota_late = planning.plan_home_treatment(patient, Roster({}, {}), TZ, NOW)
    ep, visits = episode_of(rota_late), visits_in(rota_late)
    at = NOW
    for n, member in enumerate(members, start=1):  # each member recorded, then their shifts
        at += timedelta(seconds=1)
        ep, visits, _ = rota_read(ep, visits, members[:n], [s for s in shifts if s[0] in {m.staff_id for m in members[:n - 1]}], at)
        at += timedelta(seconds=1)
        ep, visits, _ = rota_read(ep, visits, members[:n], [s for s in shifts if s[0] in {m.staff_id for m in members[:n]}], at)
    assert (ep.key_worker, ep.core_team) == (rota_first.agreed.key_worker, rota_first.agreed.core_team)
    assert {(v.window_start, v.staff_id) for v in visits} == {(v.window_start, v.staff_id) for v in rota_first.visits}
    assert not domain.name_due(ep, at) and domain.name_due(ep, at + domain.KEY_WORKER_SETTLES)


def test_a_rota_event_that_changes_nothing_for_a_plan_announces_nothing() -> None:
    members, shifts = uneven_team()
    rota_late = planning.plan_home_treatment(assessment(), Roster({}, {}), TZ, NOW)
    ep, visits, _ = rota_read(episode_of(rota_late), visits_in(rota_late), members, shifts, NOW)
    assert rota_read(ep, visits, members, shifts, NOW + timedelta(minutes=1))[2] == []


def test_a_patient_told_a_name_keeps_their_key_worker_and_only_visits_nobody_had_get_someone() -> None:
    shifts = [s for d, s in enumerate(day_shifts("a")) if d % 2 == 0]
    plan = planning.plan_home_treatment(assessment(), roster(staff("a"), shifts=shifts), TZ, NOW)
    assert plan.names_key_worker and any(v.staff_id is None for v in plan.visits)
    members, more = [staff("a"), staff("z")], shifts + day_shifts("z")  # z has more hours than a
    ep, visits, [revision] = rota_read(episode_of(plan), visits_in(plan), members, more, NOW + timedelta(hours=1))
    assert revision.agreed is None and (ep.key_worker, ep.core_team) == ("a", ("a",))
    before = {v.visit_id: v.staff_id for v in plan.visits}
    assert all(v.staff_id == "z" for v in visits if before[v.visit_id] is None)
    assert all(v.staff_id == before[v.visit_id] for v in visits if before[v.visit_id] is not None)


def test_once_a_visit_has_taken_place_the_key_worker_is_kept_but_a_plan_without_one_still_gets_one() -> None:
    members, shifts = uneven_team()
    plan = planning.plan_home_treatment(assessment(), roster(staff("a"), shifts=day_shifts("a")), TZ, NOW)
    visited = replace(episode_of(plan), key_worker_named_at=None, visited=True)
    assert rota_read(visited, visits_in(plan), members + [staff("a")], shifts, NOW)[0].key_worker == "a"
    empty = planning.plan_home_treatment(assessment(), Roster({}, {}), TZ, NOW)
    ep, _, _ = rota_read(replace(episode_of(empty), visited=True), visits_in(empty), members, shifts, NOW)
    assert ep.key_worker == "c"


def test_late_assignment_keeps_every_windows_time_and_leaves_visits_started_or_past_alone() -> None:
    members, shifts = uneven_team()
    plan = planning.plan_home_treatment(assessment(), Roster({}, {}), TZ, NOW)
    visits = visits_in(plan)
    visits[0] = replace(visits[0], started=True)
    later = visits[1].window_start + timedelta(minutes=1)  # the second window has opened
    _, after, [revision] = rota_read(episode_of(plan), visits, members, shifts, later)
    assert [v.window_start for v in after] == [v.window_start for v in visits]
    assert after[0].staff_id is None and after[1].staff_id is None
    assert {v.visit_id for v in revision.visits} == {v.visit_id for v in visits[2:]}


def test_plans_made_before_the_rota_catch_up_in_order_without_double_booking_anyone() -> None:
    members, shifts = uneven_team()
    plans = [planning.plan_home_treatment(assessment(), Roster({}, {}), TZ, NOW) for _ in range(4)]
    revisions = planning.revise_plans(
        [episode_of(p) for p in plans], [v for p in plans for v in visits_in(p)], Roster.build(members, shifts), TZ, NOW
    )
    assert [r.key_worker for r in revisions] == ["c"] * 4  # continuity first, as at planning
    booked = [(v.staff_id, v.window_start) for r in revisions for v in r.visits if v.staff_id]
    assert len(booked) == len(set(booked)) and booked


def test_a_key_worker_chosen_late_is_told_once_the_choice_has_settled_or_at_once_after_a_visit() -> None:
    chosen = episode(key_worker="c", core_team=("c", "b"), plan_start=date(2026, 11, 27), key_worker_chosen_at=NOW)
    assert not domain.name_due(chosen, NOW + timedelta(minutes=9))
    assert domain.name_due(chosen, NOW + domain.KEY_WORKER_SETTLES)
    assert domain.name_due(replace(chosen, visited=True), NOW)
    assert not domain.name_due(replace(chosen, key_worker_named_at=NOW), NOW + timedelta(days=1))
    assert not domain.name_due(replace(chosen, closed_at=NOW), NOW + timedelta(days=1))
    text = messages.named_worker_text("Niamh", 3)
    assert "Your named worker for home treatment is Niamh" in text and "Your visit times have not changed." in text
    assert "Your named worker and 2 others from the team will share your visits." in messages.named_worker_text(None, 3)


# The roster keeps shifts as runs of hours; what it answers must be what a plain set of every
# slot on shift would answer, for any shifts (odd minutes, overlaps, touching, other time zones).
_MINUTES = st.integers(min_value=0, max_value=3 * 24 * 60)


@st.composite
def _shifts(draw):
    base = datetime(2026, 3, 28, tzinfo=UTC)  # the clocks go forward in the UK the next morning
    shifts = []
    for staff_id in draw(st.lists(st.sampled_from("abc"), max_size=6)):
        start = base + timedelta(minutes=draw(_MINUTES), seconds=draw(st.sampled_from([0, 0, 1, 59])))
        end = start + timedelta(minutes=draw(st.integers(min_value=0, max_value=16 * 60)))
        zone = draw(st.sampled_from([UTC, TZ]))
        shifts.append((staff_id, start.astimezone(zone), end.astimezone(zone)))
    return shifts


def _slot_sets(shifts) -> dict[str, set[datetime]]:
    slots: dict[str, set[datetime]] = {}
    for staff_id, start, end in shifts:
        slot = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        slot += timedelta(hours=1) if slot < start else timedelta(0)
        while slot + domain.WINDOW <= end:
            slots.setdefault(staff_id, set()).add(slot)
            slot += domain.WINDOW
    return slots


@settings(max_examples=300, deadline=None)
@given(shifts=_shifts(), ask_from=_MINUTES, ask_hours=st.integers(min_value=0, max_value=72))
def test_a_roster_answers_as_the_set_of_every_slot_on_shift_would(shifts, ask_from, ask_hours) -> None:
    """Whether someone is on shift for a slot, and how many hours they are on shift in a week,
    come out the same as from the set of every whole-hour slot inside one of their shifts."""
    team = Roster.build([staff("a"), staff("b"), staff("c")], shifts)
    expected = _slot_sets(shifts)
    start = datetime(2026, 3, 28, tzinfo=UTC) + timedelta(minutes=ask_from)
    end = start + timedelta(hours=ask_hours)
    slot = start.replace(minute=0, second=0, microsecond=0)
    for staff_id in "abc":
        theirs = expected.get(staff_id, set())
        assert team.hours_on_shift(staff_id, start, end) == sum(start <= s < end for s in theirs)
        for candidate in (slot + timedelta(hours=h) for h in range(-1, 20)):
            assert team.available(staff_id, candidate, ()) == (candidate in theirs)
        assert not team.available(staff_id, slot + timedelta(minutes=30), ())  # slots start on the hour
