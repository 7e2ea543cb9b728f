"""The board, pure: the waiting list (each referral's clock in words, breached first, ED time
shown, the same whatever order the facts arrive in and however often) and the day's visits
(local time, the key worker, and what the team must act on first)."""

import itertools
from datetime import UTC, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

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
    VisitScheduled,
)
from services.board.domain import (
    Discharge,
    Referral,
    Visit,
    discharges_waiting,
    fold_referral,
    fold_discharge,
    fold_visit,
    visit_row,
    visits_on,
    waiting_list,
    waiting_row,
)

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def accepted(hours_ago: float, *, target_hours: int = 4, urgency: Urgency = Urgency.VERY_URGENT, ed_hours_ago: float | None = None,
             **ids) -> ReferralAccepted:
    at = NOW - timedelta(hours=hours_ago)
    return ReferralAccepted(
        referral_id="GP-BT-2026-000123", patient_id=ids.get("patient_id", uuid4()), episode_id=ids.get("episode_id", uuid4()),
        trust=Trust.BELFAST, source=ReferralSource.EMERGENCY_DEPARTMENT if ed_hours_ago else ReferralSource.GP, urgency=urgency,
        accepted_at=at, assess_by=at + timedelta(hours=target_hours),
        ed_arrived_at=NOW - timedelta(hours=ed_hours_ago) if ed_hours_ago else None,
    )


def referral_of(*facts) -> Referral:
    referral = Referral(facts[0].episode_id)
    for fact in facts:
        referral = fold_referral(referral, fact)
    return referral


def test_a_referral_accepted_an_hour_ago_on_a_4_hour_clock_has_3_hours_left() -> None:
    row = waiting_row(referral_of(accepted(1)), NOW)
    assert (row.clock, row.breached, row.minutes_left, row.urgency, row.in_ed) == ("3 h left of 4 h", False, 180, "very urgent", None)


def test_a_referral_past_its_deadline_says_how_late_it_is_and_is_breached() -> None:
    row = waiting_row(referral_of(accepted(4 + 12 / 60)), NOW)
    assert (row.clock, row.breached, row.minutes_left) == ("breached: 12 min past the 4 h target", True, -12)


def test_an_ed_referral_says_how_long_the_person_has_been_in_the_ed() -> None:
    row = waiting_row(referral_of(accepted(0.5, ed_hours_ago=2 + 5 / 60)), NOW)
    assert row.in_ed == "in the ED 2 h 05 min" and row.clock == "3 h 30 min left of 4 h"


def test_an_urgent_referral_reads_in_hours_of_its_24_hour_target_and_in_days_only_beyond_two() -> None:
    assert waiting_row(referral_of(accepted(2, target_hours=24, urgency=Urgency.URGENT)), NOW).clock == "22 h left of 24 h"
    late = waiting_row(referral_of(accepted(24 + 26.5, target_hours=24, urgency=Urgency.URGENT)), NOW)
    assert late.clock == "breached: 26 h past the 24 h target"
    forgotten = waiting_row(referral_of(accepted(24 + 76, target_hours=24, urgency=Urgency.URGENT)), NOW)
    assert forgotten.clock == "breached: 3 days 4 h past the 24 h target"


def test_a_breach_the_referral_service_detected_marks_the_row_breached_even_if_this_clock_disagrees() -> None:
    referral = accepted(3.9)
    breach = ResponseTargetBreached(referral_id=referral.referral_id, patient_id=referral.patient_id, episode_id=referral.episode_id,
                                    trust=Trust.BELFAST, urgency=referral.urgency, assess_by=referral.assess_by, detected_at=NOW,
                                    minutes_late=0)
    assert waiting_row(referral_of(referral, breach), NOW).breached


def test_the_list_shows_breached_first_most_overdue_first_then_least_time_left() -> None:
    calm, soon, late, later = accepted(0.5), accepted(3.5), accepted(4.2), accepted(6)
    rows = waiting_list([referral_of(fact) for fact in (calm, late, soon, later)], NOW)
    assert [row.episode_id for row in rows] == [later.episode_id, late.episode_id, soon.episode_id, calm.episode_id]


def test_an_assessment_started_or_an_episode_closed_takes_the_referral_off_the_list() -> None:
    waiting = accepted(1)
    started = AssessmentStarted(patient_id=waiting.patient_id, episode_id=waiting.episode_id, started_at=NOW)
    closed = EpisodeClosed(patient_id=waiting.patient_id, episode_id=waiting.episode_id, visits_completed=0, closed_at=NOW)
    assert waiting_list([referral_of(waiting, started)], NOW) == []
    assert waiting_list([referral_of(waiting, closed)], NOW) == []
    with pytest.raises(ValueError, match="only a referral waiting"):
        waiting_row(referral_of(waiting, started), NOW)


def test_an_assessment_started_before_its_referral_arrived_keeps_it_off_the_list_in_every_order_and_repetition() -> None:
    waiting = accepted(5)
    started = AssessmentStarted(patient_id=waiting.patient_id, episode_id=waiting.episode_id, started_at=NOW - timedelta(hours=2))
    breach = ResponseTargetBreached(referral_id=waiting.referral_id, patient_id=waiting.patient_id, episode_id=waiting.episode_id,
                                    trust=Trust.BELFAST, urgency=waiting.urgency, assess_by=waiting.assess_by,
                                    detected_at=NOW - timedelta(hours=1), minutes_late=0)
    facts = (waiting, started, breach, started)  # the start delivered twice
    folded = {referral_of(*order) for order in itertools.permutations(facts)}
    assert len(folded) == 1
    [only] = folded
    assert not only.waiting and only.assessment_started_at == started.started_at and only.breach_detected_at == breach.detected_at


def test_a_referral_known_only_from_its_assessment_is_not_on_the_list_yet() -> None:
    started = AssessmentStarted(patient_id=uuid4(), episode_id=uuid4(), started_at=NOW)
    assert waiting_list([referral_of(started)], NOW) == []


# --- visits ---------------------------------------------------------------------------------

LONDON = ZoneInfo("Europe/London")


def scheduled(start_hour: float, staff_id: str | None = "staff-0042", *, day_offset: int = 0, **ids) -> VisitScheduled:
    start = datetime.combine(NOW.date() + timedelta(days=day_offset), time(0), LONDON) + timedelta(hours=start_hour)
    return VisitScheduled(visit_id=ids.get("visit_id", uuid4()), patient_id=ids.get("patient_id", uuid4()),
                          episode_id=ids.get("episode_id", uuid4()), window_start=start, window_end=start + timedelta(hours=1),
                          planned_minutes=60, staff_id=staff_id)


def visit_of(*facts) -> Visit:
    visit = Visit(facts[0].visit_id)
    for fact in facts:
        visit = fold_visit(visit, fact)
    return visit


def test_a_planned_visit_shows_its_window_in_local_time_its_visitor_and_the_key_worker() -> None:
    row = visit_row(visit_of(scheduled(10)), "staff-0042", NOW, LONDON)  # NOW is 08:00 UTC, 08:00 in London in December
    assert (row.window, row.visitor, row.key_worker, row.status, row.needs_action) == (
        "10:00–11:00", "staff-0042", "staff-0042 (visiting)", "planned", False)


def test_an_unassigned_visit_asks_the_team_lead_to_act() -> None:
    row = visit_row(visit_of(scheduled(14, None)), "staff-0007", NOW, LONDON)
    assert (row.visitor, row.key_worker, row.needs_action) == ("unassigned", "staff-0007", True)
    assert row.status == "nobody assigned: the team lead must find someone"


def test_a_visit_nobody_has_reached_15_minutes_into_its_window_is_running_late_before_scheduling_says_so() -> None:
    visit = visit_of(scheduled(7.5))  # 07:30-08:30; at 08:00 nobody has recorded it
    assert visit_row(visit, None, NOW, LONDON).status == "running late: nobody there 30 min into the window"
    assert visit_row(visit, None, NOW - timedelta(minutes=20), LONDON).status == "planned"


def test_a_missed_visit_needs_action_and_a_completed_one_says_if_it_was_cut_short() -> None:
    plan = scheduled(6)
    missed = VisitMissed(visit_id=plan.visit_id, patient_id=plan.patient_id, episode_id=plan.episode_id, staff_id="staff-0042",
                         window_end=plan.window_end, detected_at=NOW)
    done = VisitCompleted(visit_id=plan.visit_id, patient_id=plan.patient_id, episode_id=plan.episode_id, actual_minutes=20,
                          completed_at=NOW, cut_short=True)
    assert visit_row(visit_of(plan, missed), None, NOW, LONDON).status == "missed: nobody recorded a visit"
    row = visit_row(visit_of(plan, done), None, NOW, LONDON)
    assert (row.status, row.needs_action) == ("seen, cut short", False)


def test_a_later_plan_that_reassigns_the_visit_replaces_the_earlier_and_a_repeat_changes_nothing() -> None:
    first = scheduled(12, None)
    revised = first.model_copy(update={"staff_id": "staff-0099"})
    assert visit_of(first, revised, revised).staff_id == "staff-0099"


def test_the_days_visits_are_those_of_its_local_day_of_open_episodes_needing_action_first() -> None:
    calm, unassigned, tomorrow, closed = scheduled(11), scheduled(15, None), scheduled(10, day_offset=1), scheduled(9)
    visits = [visit_of(plan) for plan in (calm, unassigned, tomorrow, closed)]
    today = visits_on(visits, NOW.date(), {}, {closed.episode_id}, NOW, LONDON)
    assert [row.visit_id for row in today] == [unassigned.visit_id, calm.visit_id]
    assert [row.visit_id for row in visits_on(visits, NOW.date() + timedelta(days=1), {}, set(), NOW, LONDON)] == [tomorrow.visit_id]


def test_a_visit_just_after_local_midnight_in_summer_is_on_that_local_day() -> None:
    summer = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    plan = scheduled(0)
    just_after = plan.model_copy(update={"window_start": datetime(2026, 6, 30, 23, 30, tzinfo=UTC),  # 00:30 BST on 1 July
                                         "window_end": datetime(2026, 7, 1, 0, 30, tzinfo=UTC)})
    rows = visits_on([visit_of(just_after)], summer.date(), {}, set(), summer, LONDON)
    assert [row.window for row in rows] == ["00:30–01:30"]


# --- discharges held at the gate ------------------------------------------------------------------


def refused(hours_ago: float, *missing: GateCondition, **ids) -> DischargeRefused:
    return DischargeRefused(patient_id=ids.get("patient_id", uuid4()), episode_id=ids.get("episode_id", uuid4()), missing=missing,
                            refused_at=NOW - timedelta(hours=hours_ago))


def discharge_of(*facts) -> Discharge:
    discharge = Discharge(facts[0].episode_id)
    for fact in facts:
        discharge = fold_discharge(discharge, fact)
    return discharge


def test_a_held_discharge_says_what_it_waits_on_in_the_gates_order_and_for_how_long() -> None:
    held = refused(3.5, GateCondition.CRISIS_CONTACTS_GIVEN, GateCondition.PATIENT_TOLD)
    [row] = discharges_waiting([discharge_of(held)], NOW)
    assert row.waiting_on == "the patient has not been told; no crisis contacts given"
    assert row.since == "held 3 h 30 min ago"


def test_a_later_refusal_replaces_what_was_missing_and_a_closed_episode_leaves_the_list() -> None:
    first = refused(5, GateCondition.PATIENT_TOLD, GateCondition.FOLLOW_ON_CARE_ARRANGED)
    second = refused(1, GateCondition.FOLLOW_ON_CARE_ARRANGED, episode_id=first.episode_id, patient_id=first.patient_id)
    closed = EpisodeClosed(patient_id=first.patient_id, episode_id=first.episode_id, visits_completed=4, closed_at=NOW)
    assert [row.waiting_on for row in discharges_waiting([discharge_of(first, second, second)], NOW)] == ["no follow-on care arranged"]
    assert discharges_waiting([discharge_of(first, second, closed)], NOW) == []


def test_the_longest_held_discharge_comes_first() -> None:
    recent, old = refused(1, GateCondition.PATIENT_TOLD), refused(30, GateCondition.PATIENT_TOLD)
    rows = discharges_waiting([discharge_of(recent), discharge_of(old)], NOW)
    assert [row.episode_id for row in rows] == [old.episode_id, recent.episode_id] and rows[0].since == "held 30 h ago"
