"""Referral rules: routes, eligibility, triage, deadlines and breaches, without broker or database."""

from datetime import date, timedelta
from uuid import uuid4

import pytest

from contracts import (
    DeclineReason,
    ReferralAccepted,
    ReferralDeclined,
    ReferralLinked,
    ReferralOutcome,
    ReferralRedirected,
    ReferralSource,
    ServiceKind,
    Trust,
    Urgency,
)
from services.referral import domain
from services.referral.rules import load_rules
from shared.reference.directory import load_directory
from shared.runtime.errors import InvalidEvent
from tests.factories import NOW, referral

RULES = load_rules()
DIRECTORY = load_directory()
NEW = domain.KnownPatient(patient_id=uuid4(), known=False, open_episode_id=None)
KNOWN = domain.KnownPatient(patient_id=uuid4(), known=True, open_episode_id=None)


def triage(patient: domain.KnownPatient = NEW, **fields: object) -> domain.Triage:
    submitted = referral(**fields)
    return domain.triage(submitted, patient, RULES[submitted.trust], DIRECTORY, uuid4(), NOW)


@pytest.mark.parametrize(("urgency", "hours"), [(Urgency.EMERGENCY, 4), (Urgency.VERY_URGENT, 4), (Urgency.URGENT, 24)])
def test_a_crisis_referral_is_accepted_with_its_response_deadline(urgency: Urgency, hours: int) -> None:
    """Emergency and very urgent referrals must be assessed within 4 hours, urgent within 24."""
    decision = triage(urgency=urgency).decision
    assert isinstance(decision, ReferralAccepted)
    assert decision.assess_by - decision.accepted_at == timedelta(hours=hours)


def test_every_referral_is_acknowledged_to_the_referrer_with_the_outcome() -> None:
    """The referrer hears at once what happened, and the deadline when accepted."""
    accepted = triage(urgency=Urgency.URGENT)
    assert accepted.acknowledgement.outcome is ReferralOutcome.ACCEPTED
    assert accepted.acknowledgement.assess_by == NOW + timedelta(hours=24)
    declined = triage(source=ReferralSource.KNOWN_PATIENT)
    assert declined.acknowledgement.outcome is ReferralOutcome.DECLINED and declined.acknowledgement.assess_by is None


def test_a_routine_referral_is_redirected_to_the_cmht_with_alternatives() -> None:
    """Routine is not a crisis: the CMHT first, and at least one more place to go."""
    decision = triage(urgency=Urgency.ROUTINE).decision
    assert isinstance(decision, ReferralRedirected)
    assert decision.redirected_to == "cmht" and decision.alternatives[0].kind is ServiceKind.CMHT
    assert len(decision.alternatives) >= 2


def test_an_unknown_person_referring_themselves_is_declined_with_gp_ed_and_crisis_lines() -> None:
    """New patients cannot self-refer; they are told why and where to go, in their own Trust."""
    decision = triage(source=ReferralSource.KNOWN_PATIENT, trust=Trust.SOUTHERN).decision
    assert isinstance(decision, ReferralDeclined)
    assert decision.reason_code is DeclineReason.NEW_PATIENT_SELF_REFERRAL
    kinds = {signpost.kind for signpost in decision.alternatives}
    assert {ServiceKind.GP, ServiceKind.EMERGENCY_DEPARTMENT, ServiceKind.CRISIS_LINE} <= kinds
    assert all(Trust.SOUTHERN in DIRECTORY_BY_ID[s.entry_id].trusts for s in decision.alternatives)


DIRECTORY_BY_ID = {entry.id: entry for entry in DIRECTORY.entries}


@pytest.mark.parametrize(
    "source", [ReferralSource.KNOWN_PATIENT, ReferralSource.CARER_OF_KNOWN_PATIENT, ReferralSource.VOLUNTARY_ORGANISATION]
)
def test_known_patients_their_carers_and_voluntary_organisations_can_refer_directly(source: ReferralSource) -> None:
    """People in the system have the team's number: their direct contact is a referral."""
    assert isinstance(triage(KNOWN, source=source).decision, ReferralAccepted)


def test_a_carer_of_someone_unknown_is_declined_with_signposting() -> None:
    decision = triage(source=ReferralSource.CARER_OF_KNOWN_PATIENT).decision
    assert isinstance(decision, ReferralDeclined) and decision.reason_code is DeclineReason.PATIENT_NOT_KNOWN


def test_a_second_referral_joins_the_open_episode() -> None:
    """A referral for a patient with an open episode is linked to it, with no new deadline."""
    open_episode = uuid4()
    decision = triage(domain.KnownPatient(uuid4(), known=True, open_episode_id=open_episode)).decision
    assert isinstance(decision, ReferralLinked) and decision.episode_id == open_episode


def test_a_patient_under_the_trusts_age_range_is_signposted_to_camhs() -> None:
    decision = triage(date_of_birth=date(2010, 1, 1)).decision
    assert isinstance(decision, ReferralDeclined) and decision.reason_code is DeclineReason.OUTSIDE_AGE_RANGE
    assert decision.alternatives[0].kind is ServiceKind.CAMHS


def test_the_upper_age_limit_is_per_trust_data() -> None:
    """Belfast's example rules stop at 64; Northern's have no upper limit."""
    assert isinstance(triage(trust=Trust.BELFAST, date_of_birth=date(1950, 1, 1)).decision, ReferralDeclined)
    assert isinstance(triage(trust=Trust.NORTHERN, date_of_birth=date(1950, 1, 1)).decision, ReferralAccepted)


def test_a_patient_living_in_another_trust_is_pointed_to_that_trusts_team() -> None:
    decision = triage(trust=Trust.BELFAST, resident_trust=Trust.WESTERN).decision
    assert isinstance(decision, ReferralDeclined) and decision.reason_code is DeclineReason.OUTSIDE_TRUST_AREA
    assert decision.alternatives[0].entry_id == "western-htcr"


def test_an_inpatient_is_declined_unless_the_ward_refers_for_step_down() -> None:
    assert isinstance(triage(currently_inpatient=True).decision, ReferralDeclined)
    step_down = triage(currently_inpatient=True, source=ReferralSource.INPATIENT_WARD).decision
    assert isinstance(step_down, ReferralAccepted)


def test_age_is_counted_in_whole_years_on_the_day() -> None:
    assert domain.age_on(date(2000, 11, 27), date(2018, 11, 26)) == 17
    assert domain.age_on(date(2000, 11, 26), date(2018, 11, 26)) == 18


def test_a_referral_with_a_bad_check_digit_is_rejected_without_quoting_the_number() -> None:
    """An H&C number failing modulus 11 rejects the referral; the reason never contains it."""
    with pytest.raises(InvalidEvent) as rejected:
        domain.checked_hc_number(referral(hc_number="943 476 5918"))
    assert rejected.value.reason.startswith("invalid H&C number")
    assert "5918" not in rejected.value.reason


def test_the_checked_number_is_stored_without_spaces() -> None:
    """Spacing does not make the same patient two patients."""
    assert domain.checked_hc_number(referral(hc_number="943 476 5919")) == "9434765919"


def deadline(assess_by_hours: float, ed_hours_before: float | None = None) -> domain.PendingDeadline:
    return domain.PendingDeadline(
        referral_id="ED-1",
        patient_id=uuid4(),
        episode_id=uuid4(),
        trust=Trust.BELFAST,
        urgency=Urgency.VERY_URGENT,
        assess_by=NOW + timedelta(hours=assess_by_hours),
        ed_arrived_at=NOW - timedelta(hours=ed_hours_before) if ed_hours_before is not None else None,
    )


def test_no_breach_before_the_deadline() -> None:
    assert domain.breaches([deadline(4)], NOW + timedelta(hours=3, minutes=59)) == []


def test_a_breach_says_how_late_and_how_long_the_person_has_been_in_ed() -> None:
    [breach] = domain.breaches([deadline(4, ed_hours_before=0.5)], NOW + timedelta(hours=4, minutes=17))
    assert breach.minutes_late == 17
    assert breach.minutes_in_ed == 30 + 4 * 60 + 17


def test_an_ed_referral_must_say_when_the_person_arrived() -> None:
    """Time in ED is a known harm, so it is required from an emergency department."""
    with pytest.raises(ValueError, match="ed_arrived_at"):
        referral(source=ReferralSource.EMERGENCY_DEPARTMENT)


def test_a_trusts_directory_is_published_again_only_when_it_changed() -> None:
    """The digest of what was last published decides: unchanged entries are not sent twice."""
    first = domain.directory_change(DIRECTORY, Trust.BELFAST, None, NOW)
    assert first is not None and first.event.entries == DIRECTORY.for_trust(Trust.BELFAST)
    assert domain.directory_change(DIRECTORY, Trust.BELFAST, first.digest, NOW) is None
    assert domain.directory_change(DIRECTORY, Trust.BELFAST, "an older digest", NOW) is not None
    assert domain.directory_change(DIRECTORY, Trust.SOUTHERN, None, NOW).digest != first.digest
