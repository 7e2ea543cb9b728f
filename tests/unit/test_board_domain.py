"""The board's waiting list, pure: each referral's clock in words, breached first, ED time shown,
and the same list whatever order the facts arrive in, and however often."""

import itertools
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts import AssessmentStarted, EpisodeClosed, ReferralAccepted, ReferralSource, ResponseTargetBreached, Trust, Urgency
from services.board.domain import Referral, fold, waiting_list, waiting_row

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
        referral = fold(referral, fact)
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
