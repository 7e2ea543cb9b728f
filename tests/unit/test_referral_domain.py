from datetime import timedelta
from uuid import uuid4

import pytest

from contracts import ReferralAccepted, ReferralRedirected, Urgency
from services.referral import domain
from shared.errors import InvalidEvent
from tests.factories import NOW, referral

NEW_PATIENT = domain.KnownPatient(patient_id=uuid4(), open_episode_id=None)


@pytest.mark.parametrize(
    ("urgency", "hours"), [(Urgency.EMERGENCY, 4), (Urgency.VERY_URGENT, 4), (Urgency.URGENT, 24)]
)
def test_a_crisis_referral_is_accepted_with_its_response_deadline(urgency: Urgency, hours: int) -> None:
    """Emergency and very urgent referrals must be assessed within 4 hours, urgent within 24."""
    decision = domain.triage(referral(urgency=urgency), NEW_PATIENT, uuid4(), NOW)
    assert isinstance(decision, ReferralAccepted)
    assert decision.assess_by - decision.accepted_at == timedelta(hours=hours)
    assert decision.patient_id == NEW_PATIENT.patient_id


def test_a_routine_referral_is_redirected_to_the_cmht_with_a_reason() -> None:
    """Routine is not a crisis: it goes to the community mental health team, and says why."""
    decision = domain.triage(referral(urgency=Urgency.ROUTINE), NEW_PATIENT, uuid4(), NOW)
    assert isinstance(decision, ReferralRedirected)
    assert decision.redirected_to == "cmht"
    assert "community mental health team" in decision.reason


def test_a_new_patient_gets_a_new_episode() -> None:
    """A patient with no open episode gets the new episode id."""
    new_episode = uuid4()
    decision = domain.triage(referral(), NEW_PATIENT, new_episode, NOW)
    assert isinstance(decision, ReferralAccepted) and decision.episode_id == new_episode


def test_a_second_referral_joins_the_open_episode() -> None:
    """A referral for a patient with an open episode is linked to it, not opened anew."""
    open_episode = uuid4()
    known = domain.KnownPatient(patient_id=uuid4(), open_episode_id=open_episode)
    decision = domain.triage(referral(), known, uuid4(), NOW)
    assert isinstance(decision, ReferralAccepted) and decision.episode_id == open_episode


def test_a_referral_with_a_bad_check_digit_is_rejected_without_quoting_the_number() -> None:
    """An H&C number failing modulus 11 rejects the referral; the reason never contains it."""
    with pytest.raises(InvalidEvent) as rejected:
        domain.checked_hc_number(referral(hc_number="943 476 5918"))
    assert "modulus-11" in rejected.value.reason
    assert "9434765918" not in rejected.value.reason and "943 476 5918" not in rejected.value.reason


def test_the_checked_number_is_stored_without_spaces() -> None:
    """Spacing does not make the same patient two patients."""
    assert domain.checked_hc_number(referral(hc_number="943 476 5919")) == "9434765919"
