"""The one consent decision: defaults, recorded permits, periods, withdrawal, a deny that
always wins, and "do not tell". Properties are checked over generated consent histories."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import InformationCategory as C
from contracts import BreakGlassRequested, Purpose
from shared.privacy import consent
from shared.privacy.consent import ConsentState, Recorded, check_receipt, decide
from shared.runtime.errors import InvalidEvent

ALL = frozenset(C)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_without_consent_a_caring_team_gets_the_minimum_for_direct_care() -> None:
    decision = decide(ConsentState(), "ward:belfast", Purpose.DIRECT_CARE, ALL, NOW)
    assert C.RISK in decision.permitted and C.MEDICATION in decision.permitted
    assert C.CLINICAL_DETAIL in decision.denied and decision.consent_version == 0


def test_without_consent_a_carer_gets_general_information_only() -> None:
    assert decide(ConsentState(), "carer:c1", Purpose.CARER_SUPPORT, ALL, NOW).permitted == {C.CARER_GENERAL_INFORMATION}


def test_an_unknown_recipient_gets_nothing() -> None:
    assert decide(ConsentState(), "voluntary:aware-ni", Purpose.DIRECT_CARE, ALL, NOW).permitted == frozenset()


def test_a_recorded_permit_adds_categories_for_that_recipient_only() -> None:
    state = ConsentState().recorded(Recorded("carer:c1", frozenset({C.DISCHARGE_ARRANGEMENTS}), permit=True))
    assert C.DISCHARGE_ARRANGEMENTS in decide(state, "carer:c1", Purpose.CARER_SUPPORT, ALL, NOW).permitted
    assert C.DISCHARGE_ARRANGEMENTS not in decide(state, "carer:c2", Purpose.CARER_SUPPORT, ALL, NOW).permitted
    assert decide(state, "carer:c1", Purpose.CARER_SUPPORT, ALL, NOW).consent_version == 1


def test_a_deny_for_a_named_person_wins_over_any_permit_before_or_after() -> None:
    deny = Recorded("carer:c1", frozenset({C.CARER_GENERAL_INFORMATION, C.RISK}), permit=False)
    permit = Recorded("carer:c1", frozenset({C.RISK}), permit=True)
    for order in ((deny, permit), (permit, deny)):
        decision = decide(ConsentState(order), "carer:c1", Purpose.CARER_SUPPORT, ALL, NOW)
        assert C.RISK in decision.denied and C.CARER_GENERAL_INFORMATION in decision.denied


def test_do_not_tell_blocks_everything_and_says_so() -> None:
    state = ConsentState().recorded(
        Recorded("carer:c1", frozenset({C.CARER_GENERAL_INFORMATION}), permit=False, do_not_tell=True)
    ).recorded(Recorded("carer:c1", ALL, permit=True))
    decision = decide(state, "carer:c1", Purpose.CARER_SUPPORT, ALL, NOW)
    assert decision.permitted == frozenset() and decision.not_told


def test_a_withdrawn_permit_permits_nothing_and_raises_the_version() -> None:
    consent_id = uuid4()
    given_ = ConsentState().recorded(Recorded("carer:c1", frozenset({C.RISK}), permit=True, consent_id=consent_id))
    withdrawn = given_.withdrawn(consent_id)
    assert C.RISK in decide(given_, "carer:c1", Purpose.CARER_SUPPORT, ALL, NOW).permitted
    after = decide(withdrawn, "carer:c1", Purpose.CARER_SUPPORT, ALL, NOW)
    assert C.RISK not in after.permitted and after.consent_version == 2


def test_a_permit_counts_only_within_its_period_and_for_its_purpose() -> None:
    state = ConsentState().recorded(
        Recorded("carer:c1", frozenset({C.RISK}), permit=True, purpose=Purpose.CARER_SUPPORT,
                 valid_from=NOW, valid_until=NOW + timedelta(days=30))
    )
    assert C.RISK not in decide(state, "carer:c1", Purpose.CARER_SUPPORT, ALL, NOW - timedelta(seconds=1)).permitted
    assert C.RISK in decide(state, "carer:c1", Purpose.CARER_SUPPORT, ALL, NOW).permitted
    assert C.RISK not in decide(state, "carer:c1", Purpose.CARER_SUPPORT, ALL, NOW + timedelta(days=30)).permitted
    assert C.RISK not in decide(state, "carer:c1", Purpose.DIRECT_CARE, ALL, NOW).permitted


RECIPIENTS = ["carer:c1", "carer:c2", "ward:belfast", "gp", "voluntary:aware-ni"]
decisions = st.builds(
    Recorded,
    recipient=st.sampled_from(RECIPIENTS),
    categories=st.frozensets(st.sampled_from(list(C)), min_size=1),
    permit=st.booleans(),
    consent_id=st.uuids(),
    purpose=st.none() | st.sampled_from(list(Purpose)),
    do_not_tell=st.booleans(),
    withdrawn=st.booleans(),
).map(lambda d: d if not d.permit else Recorded(**{**d.__dict__, "do_not_tell": False}))


@settings(max_examples=500)
@given(history=st.lists(decisions, max_size=12), recipient=st.sampled_from(RECIPIENTS), purpose=st.sampled_from(list(Purpose)))
def test_no_history_lets_a_live_deny_be_outvoted_or_a_withdrawn_permit_count(history, recipient, purpose) -> None:
    """Over generated histories: anything a live deny names is denied; nothing is permitted
    beyond the default plus live permits; permitted and denied split what was asked."""
    state = ConsentState(tuple(history))
    decision = decide(state, recipient, purpose, ALL, NOW)
    live = [d for d in history if d.applies(recipient, purpose, NOW)]
    denied_live = frozenset().union(*(d.categories for d in live if not d.permit))
    permitted_live = frozenset().union(*(d.categories for d in live if d.permit))
    default = decide(ConsentState(), recipient, purpose, ALL, NOW).permitted
    assert not (decision.permitted & denied_live)
    assert decision.permitted <= default | permitted_live
    assert decision.permitted | decision.denied == ALL and not (decision.permitted & decision.denied)
    if any(d.do_not_tell for d in live):
        assert decision.permitted == frozenset() and decision.not_told


def test_break_glass_opens_a_staff_team_for_its_period_only_and_is_marked() -> None:
    glass = Recorded("ward:belfast", frozenset({C.CLINICAL_DETAIL}), permit=True, valid_from=NOW,
                     valid_until=NOW + timedelta(hours=1), override=True)
    state = ConsentState((glass,))
    during = decide(state, "ward:belfast", Purpose.DIRECT_CARE, ALL, NOW + timedelta(minutes=30))
    assert C.CLINICAL_DETAIL in during.permitted and during.override
    after = decide(state, "ward:belfast", Purpose.DIRECT_CARE, ALL, NOW + timedelta(hours=1))
    assert C.CLINICAL_DETAIL not in after.permitted and not after.override
    plain = decide(state, "ward:belfast", Purpose.DIRECT_CARE, {C.RISK}, NOW)
    assert not plain.override  # the override is only marked where it was what permitted something


def test_a_copy_decided_on_current_consent_is_accepted_on_receipt() -> None:
    state = ConsentState((Recorded("ward:belfast", frozenset({C.CLINICAL_DETAIL}), True, uuid4()),))
    verdict = check_receipt(state, "ward:belfast", Purpose.DIRECT_CARE, {C.CLINICAL_DETAIL, C.RISK}, decided_version=1, now=NOW)
    assert verdict.permitted == {C.CLINICAL_DETAIL, C.RISK} and not verdict.denied


def test_a_copy_overtaken_in_flight_by_a_withdrawal_is_refused_whole_on_receipt() -> None:
    permit = Recorded("ward:belfast", frozenset({C.CLINICAL_DETAIL}), True, uuid4())
    state = ConsentState((permit,)).withdrawn(permit.consent_id)
    verdict = check_receipt(state, "ward:belfast", Purpose.DIRECT_CARE, {C.CLINICAL_DETAIL, C.RISK}, decided_version=1, now=NOW)
    assert verdict.permitted == frozenset() and verdict.denied == {C.CLINICAL_DETAIL, C.RISK}
    assert verdict.consent_version == 2 and "in flight" in verdict.reason


def test_an_older_copy_still_wholly_permitted_under_newer_consent_is_accepted() -> None:
    other = Recorded("carer:sam", frozenset({C.CARER_GENERAL_INFORMATION}), False, uuid4())
    state = ConsentState((other,))  # a change about someone else since the copy was decided
    verdict = check_receipt(state, "ward:belfast", Purpose.DIRECT_CARE, {C.RISK}, decided_version=0, now=NOW)
    assert verdict.permitted == {C.RISK} and verdict.consent_version == 1


def glass(requested_at: datetime, minutes: int = 45) -> BreakGlassRequested:
    return BreakGlassRequested(
        override_id=uuid4(), patient_id=uuid4(), recipient="ward:belfast", staff_id="staff-0099",
        reason="Patient unconscious in ED; overdose history needed now.", minutes=minutes, requested_at=requested_at,
    )


def test_a_break_glass_override_runs_from_its_receipt_for_its_minutes_since_it_was_requested() -> None:
    assert consent.break_glass_window(glass(NOW), NOW + timedelta(seconds=3)) == (NOW + timedelta(seconds=3), NOW + timedelta(minutes=45))


def test_break_glass_read_late_or_replayed_from_the_log_gets_no_more_than_it_asked_for_and_none_once_passed() -> None:
    starts, ends = consent.break_glass_window(glass(NOW), NOW + timedelta(days=30))  # a database rebuilt a month on
    assert ends < starts


def test_break_glass_dated_in_the_future_is_refused_and_a_little_clock_drift_is_not() -> None:
    with pytest.raises(InvalidEvent, match="dated in the future"):
        consent.break_glass_window(glass(NOW + timedelta(hours=3), minutes=240), NOW)
    starts, ends = consent.break_glass_window(glass(NOW + timedelta(seconds=30)), NOW)
    assert (starts, ends) == (NOW, NOW + timedelta(minutes=45))  # by the receiver's clock, not the sender's


def test_a_member_of_staff_has_a_few_overrides_a_day_and_no_more() -> None:
    consent.check_break_glass_allowed(consent.BREAK_GLASS_PER_DAY - 1)
    with pytest.raises(InvalidEvent, match="already broken the glass 3 times in 24 hours"):
        consent.check_break_glass_allowed(consent.BREAK_GLASS_PER_DAY)


def test_a_copy_claiming_consent_newer_than_the_receiver_knows_is_refused_not_believed() -> None:
    state = ConsentState((Recorded("ward:belfast", frozenset({C.CLINICAL_DETAIL}), True, uuid4()),))
    verdict = check_receipt(state, "carer:stranger", Purpose.DIRECT_CARE, {C.CLINICAL_DETAIL}, decided_version=99, now=NOW)
    assert verdict.permitted == frozenset() and "claims consent v99" in verdict.reason


def test_a_copy_on_current_consent_is_still_decided_afresh_so_one_for_someone_never_permitted_is_refused() -> None:
    """Before, a copy saying it was decided on current consent was delivered unchecked."""
    state = ConsentState((Recorded("ward:belfast", frozenset({C.CLINICAL_DETAIL}), True, uuid4()),))
    verdict = check_receipt(state, "carer:stranger", Purpose.DIRECT_CARE, {C.CLINICAL_DETAIL}, decided_version=1, now=NOW)
    assert verdict.permitted == frozenset() and verdict.denied == {C.CLINICAL_DETAIL}
    assert "no longer permitted at v1" in verdict.reason
