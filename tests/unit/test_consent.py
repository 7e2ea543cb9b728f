"""The one consent decision: defaults, recorded permits, and a deny that always wins."""

from contracts import InformationCategory as C
from contracts import Purpose
from shared.consent import ConsentState, Recorded, decide

ALL = frozenset(C)


def test_without_consent_a_caring_team_gets_the_minimum_for_direct_care() -> None:
    decision = decide(ConsentState(), "ward:belfast", Purpose.DIRECT_CARE, ALL)
    assert C.RISK in decision.permitted and C.MEDICATION in decision.permitted
    assert C.CLINICAL_DETAIL in decision.denied and decision.consent_version == 0


def test_without_consent_a_carer_gets_general_information_only() -> None:
    decision = decide(ConsentState(), "carer:c1", Purpose.CARER_SUPPORT, ALL)
    assert decision.permitted == {C.CARER_GENERAL_INFORMATION}


def test_an_unknown_recipient_gets_nothing() -> None:
    assert decide(ConsentState(), "voluntary:aware-ni", Purpose.DIRECT_CARE, ALL).permitted == frozenset()


def test_a_recorded_permit_adds_categories_for_that_recipient_only() -> None:
    state = ConsentState((Recorded("carer:c1", frozenset({C.DISCHARGE_ARRANGEMENTS}), permit=True),))
    assert C.DISCHARGE_ARRANGEMENTS in decide(state, "carer:c1", Purpose.CARER_SUPPORT, ALL).permitted
    assert C.DISCHARGE_ARRANGEMENTS not in decide(state, "carer:c2", Purpose.CARER_SUPPORT, ALL).permitted
    assert decide(state, "carer:c1", Purpose.CARER_SUPPORT, ALL).consent_version == 1


def test_a_deny_for_a_named_person_wins_over_any_permit_before_or_after() -> None:
    deny = Recorded("carer:c1", frozenset({C.CARER_GENERAL_INFORMATION, C.RISK}), permit=False)
    permit = Recorded("carer:c1", frozenset({C.RISK}), permit=True)
    for order in ((deny, permit), (permit, deny)):
        decision = decide(ConsentState(order), "carer:c1", Purpose.CARER_SUPPORT, ALL)
        assert C.RISK in decision.denied and C.CARER_GENERAL_INFORMATION in decision.denied
