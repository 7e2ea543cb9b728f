"""The board, pure, continued: episodes (Trust, key worker, the latest plan), follow-up clocks
after discharge, carers at breaking point, contacts below the plan this week, and the board as
one team may see it, each row decided by the consent function for that team."""

import itertools
from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter

from contracts import (
    CarePlanAgreed,
    ConsentRecorded,
    EpisodeClosed,
    EscalationAction,
    EscalationRaised,
    EscalationReason,
    FollowUpCompleted,
    InformationCategory,
    Purpose,
    ReferralAccepted,
    ReferralSource,
    Trust,
    Urgency,
    VisitCompleted,
    VisitScheduled,
)
from services.board.domain import (
    PROJECTIONS,
    Carer,
    Episode,
    Facts,
    FollowUps,
    Referral,
    Visit,
    below_plan,
    board,
    carers_at_breaking_point,
    fold_carer,
    fold_episode,
    fold_follow_ups,
    fold_referral,
    fold_visit,
    follow_ups_due,
)
from shared.privacy.consent import ConsentState, Recorded

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
PATIENT, EPISODE = uuid4(), uuid4()


def folded(model, fold, key, *facts):
    state = model(key)
    for fact in facts:
        state = fold(state, fact)
    return state


def accepted(hours_ago: float = 1, patient_id=PATIENT, episode_id=EPISODE, trust=Trust.BELFAST) -> ReferralAccepted:
    at = NOW - timedelta(hours=hours_ago)
    return ReferralAccepted(referral_id="GP-BT-2026-000123", patient_id=patient_id, episode_id=episode_id, trust=trust,
                            source=ReferralSource.GP, urgency=Urgency.VERY_URGENT, accepted_at=at, assess_by=at + timedelta(hours=4))


def plan(days_ago: float, first_week: int = 7, after: int = 5, key_worker: str = "staff-0042") -> CarePlanAgreed:
    return CarePlanAgreed(patient_id=PATIENT, episode_id=EPISODE, key_worker=key_worker, core_team=(key_worker,),
                          visits_first_week=first_week, visits_per_week_after=after, planned_minutes=60, required_skills=(),
                          agreed_at=NOW - timedelta(days=days_ago))


def closed(hours_ago: float, episode_id=EPISODE) -> EpisodeClosed:
    return EpisodeClosed(patient_id=PATIENT, episode_id=episode_id, visits_completed=3, closed_at=NOW - timedelta(hours=hours_ago))


def test_an_episode_takes_its_trust_from_the_referral_and_the_latest_plan_in_any_order() -> None:
    facts = (accepted(), plan(3, key_worker="staff-0001"), plan(1, key_worker="staff-0002"), plan(3, key_worker="staff-0001"))
    episodes = {folded(Episode, fold_episode, EPISODE, *order) for order in itertools.permutations(facts)}
    assert len(episodes) == 1
    [episode] = episodes
    assert (episode.trust, episode.key_worker, episode.plan_agreed_at) == (Trust.BELFAST, "staff-0002", NOW - timedelta(days=1))


def test_a_follow_up_is_due_72_hours_after_discharge_and_says_how_long_is_left() -> None:
    follow_ups = folded(FollowUps, fold_follow_ups, PATIENT, closed(30))
    [row] = follow_ups_due([follow_ups], NOW)
    assert (row.due, row.overdue, row.discharged) == ("due within 42 h", False, "discharged from home treatment 30 h ago")


def test_a_follow_up_not_made_in_72_hours_is_overdue_and_listed_first() -> None:
    late = folded(FollowUps, fold_follow_ups, PATIENT, closed(77))
    other = folded(FollowUps, fold_follow_ups, uuid4(), closed(2).model_copy(update={"patient_id": uuid4()}))
    rows = follow_ups_due([other, late], NOW)
    assert [row.overdue for row in rows] == [True, False]
    assert rows[0].due == "overdue by 5 h"


def test_a_contact_after_the_discharge_stops_its_clock_whichever_arrives_first() -> None:
    contact = FollowUpCompleted(patient_id=PATIENT, followup_id=uuid4(), contact_at=NOW - timedelta(hours=10), within_target=True)
    for order in itertools.permutations((closed(30), contact, contact)):
        assert follow_ups_due([folded(FollowUps, fold_follow_ups, PATIENT, *order)], NOW) == []


def test_a_contact_before_a_later_discharge_does_not_stop_that_discharges_clock() -> None:
    contact = FollowUpCompleted(patient_id=PATIENT, followup_id=uuid4(), contact_at=NOW - timedelta(days=20), within_target=True)
    follow_ups = folded(FollowUps, fold_follow_ups, PATIENT, closed(24 * 30), contact, closed(6, episode_id=uuid4()))
    assert [row.discharged for row in follow_ups_due([follow_ups], NOW)] == ["discharged from home treatment 6 h ago"]


def escalation(hours_ago: float, *reasons: EscalationReason, action=EscalationAction.MORE_VISITS) -> EscalationRaised:
    return EscalationRaised(patient_id=PATIENT, episode_id=EPISODE, visit_id=uuid4(), reasons=reasons, action=action,
                            raised_at=NOW - timedelta(hours=hours_ago))


def test_a_carer_at_breaking_point_is_listed_with_what_was_done_and_the_offer_of_an_assessment() -> None:
    carer = folded(Carer, fold_carer, EPISODE, escalation(3, EscalationReason.CARER_AT_BREAKING_POINT))
    [row] = carers_at_breaking_point([carer], NOW)
    assert row.concern == "carer at breaking point, recorded 3 h ago: more visits arranged; offer a carer's assessment"


def test_an_escalation_for_risk_alone_puts_no_carer_on_the_list() -> None:
    carer = folded(Carer, fold_carer, EPISODE, escalation(1, EscalationReason.RISK_INCREASED))
    assert carers_at_breaking_point([carer], NOW) == []


def scheduled(hours_from_now: float, **update) -> VisitScheduled:
    start = NOW + timedelta(hours=hours_from_now)
    return VisitScheduled(visit_id=uuid4(), patient_id=PATIENT, episode_id=EPISODE, window_start=start,
                          window_end=start + timedelta(hours=1), planned_minutes=60, staff_id="staff-0042", **update)


def completed(visit: VisitScheduled) -> VisitCompleted:
    return VisitCompleted(visit_id=visit.visit_id, patient_id=PATIENT, episode_id=EPISODE, actual_minutes=55,
                          completed_at=visit.window_start + timedelta(minutes=50))


def visits(*facts) -> list[Visit]:
    by_id: dict = {}
    for fact in facts:
        by_id[fact.visit_id] = fold_visit(by_id.get(fact.visit_id, Visit(fact.visit_id)), fact)
    return list(by_id.values())


def test_a_patient_whose_contacts_made_and_booked_fall_short_of_the_plan_this_week_is_listed() -> None:
    episode = folded(Episode, fold_episode, EPISODE, accepted(), plan(days_ago=3, first_week=7))
    done = [scheduled(-50), scheduled(-26)]
    booked = scheduled(6)
    row = below_plan(episode, visits(*done, *map(completed, done), booked), NOW)
    assert (row.week, row.planned, row.completed, row.still_booked) == (1, 7, 2, 1)
    assert row.words == "week 1: 2 of 7 contacts so far, 1 more booked; 4 short of the plan; the week ends Fri 11 Dec"


def test_a_patient_whose_booked_contacts_meet_the_plan_this_week_is_not_listed() -> None:
    episode = folded(Episode, fold_episode, EPISODE, accepted(), plan(days_ago=9, first_week=7, after=2))
    assert below_plan(episode, visits(scheduled(3), scheduled(27)), NOW) is None  # week 2: 2 planned, 2 booked


def test_every_projection_round_trips_through_its_stored_json() -> None:
    """The read model keeps each fold as JSON: what is read back is what was folded."""
    states = [folded(Referral, fold_referral, EPISODE, accepted()), folded(Episode, fold_episode, EPISODE, accepted(), plan(1)),
              folded(FollowUps, fold_follow_ups, PATIENT, closed(3)),
              folded(Carer, fold_carer, EPISODE, escalation(3, EscalationReason.CARER_AT_BREAKING_POINT)), *visits(scheduled(2))]
    for state in states:
        adapter = TypeAdapter(type(state))
        assert adapter.validate_json(adapter.dump_json(state)) == state
    assert {p.model for ps in PROJECTIONS.values() for p in ps} >= {type(s) for s in states}


def facts_of_one_patient() -> Facts:
    return Facts(episodes=(folded(Episode, fold_episode, EPISODE, accepted(), plan(3)),),
                 referrals=(folded(Referral, fold_referral, EPISODE, accepted(5)),), visits=tuple(visits(scheduled(1))))


def consent(*decisions: Recorded) -> dict:
    return {PATIENT: ConsentState(decisions)}


def test_the_board_shows_a_caring_team_its_rows_by_default_and_records_each_view() -> None:
    shown, viewed = board("htcr:belfast", facts_of_one_patient(), {}, NOW, LONDON)
    assert [r.patient_id for r in shown.waiting] == [PATIENT] and [r.patient_id for r in shown.today] == [PATIENT]
    assert {(v.patient_id, v.list_name) for v in viewed} >= {(PATIENT, "waiting for assessment"), (PATIENT, "today")}
    assert shown.withheld == () and shown.local_time == "Mon 7 Dec, 08:00"


def test_a_deny_of_risk_for_the_team_withholds_the_waiting_row_but_names_the_patient_and_why() -> None:
    deny = Recorded(recipient="htcr:belfast", categories=frozenset({InformationCategory.RISK}), permit=False, consent_id=uuid4())
    shown, viewed = board("htcr:belfast", facts_of_one_patient(), consent(deny), NOW, LONDON)
    assert shown.waiting == () and [r.patient_id for r in shown.today] == [PATIENT]
    [withheld] = shown.withheld
    assert (withheld.patient_id, withheld.list_name, withheld.reason) == (PATIENT, "waiting for assessment", "recorded consent: a deny wins")
    assert any(v.list_name == "waiting for assessment" and not v.decision.permitted for v in viewed)


def test_a_patient_who_asked_that_the_team_is_not_told_is_not_on_its_board_at_all() -> None:
    hidden = Recorded(recipient="htcr:belfast", categories=frozenset(InformationCategory), permit=False, consent_id=uuid4(),
                      do_not_tell=True, purpose=Purpose.DIRECT_CARE)
    shown, _ = board("htcr:belfast", facts_of_one_patient(), consent(hidden), NOW, LONDON)
    assert (shown.waiting, shown.today, shown.withheld) == ((), (), ())


def test_a_decision_for_another_team_changes_nothing_on_this_board() -> None:
    elsewhere = Recorded(recipient="ward:belfast", categories=frozenset(InformationCategory), permit=False, consent_id=uuid4(),
                         do_not_tell=True)
    shown, _ = board("htcr:belfast", facts_of_one_patient(), consent(elsewhere), NOW, LONDON)
    assert len(shown.waiting) == 1 and shown.withheld == ()
