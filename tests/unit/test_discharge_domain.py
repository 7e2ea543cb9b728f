"""Discharge rules: the gate, summaries by consent, follow-up, reviews and readmissions."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from contracts import (
    DischargeDecided,
    DischargeRefused,
    EpisodeClosed,
    FollowUpSource,
    GateCondition,
    InformationCategory,
    OnwardCare,
    SummaryContent,
)
from services.discharge import domain
from services.discharge.rules import TrustRules
from shared.privacy.consent import ConsentState, Recorded
from shared.runtime.errors import InvalidEvent, NotYetKnown

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
# The defaults of trust_rules.toml, with the notice rule on.
RULES = TrustRules(follow_up=timedelta(hours=72), suicide_risk_follow_up=timedelta(hours=48), discharge_notice=timedelta(hours=48))
PATIENT, EPISODE = uuid4(), uuid4()
SUMMARY = SummaryContent(
    reason_for_care="Depressive episode.", assessment_and_risk="Risk now low.", medication="Sertraline.",
    plan_and_requested_actions="CMHT review in 2 weeks.",
)


def episode(**fields) -> domain.Episode:
    base = dict(episode_id=EPISODE, patient_id=PATIENT, visits_completed=6, closed_at=None, trust="belfast")
    return domain.Episode(**(base | fields))


READY = dict(patient_told=True, patient_told_at=NOW - timedelta(days=3), onward_to=OnwardCare.CMHT, crisis_contacts_given=True, summary=SUMMARY, crisis_contacts=("HTCR 028 9649 6001",))


def decision() -> DischargeDecided:
    return DischargeDecided(patient_id=PATIENT, episode_id=EPISODE, decided_by="staff-7", reason="clinical text", decided_at=NOW)


def test_a_discharge_with_nothing_in_place_is_refused_naming_every_missing_condition() -> None:
    refused = domain.complete(episode(), decision(), NOW, RULES)
    assert isinstance(refused, DischargeRefused)
    assert set(refused.missing) == set(GateCondition)


def test_a_discharge_with_the_patient_told_follow_on_and_crisis_contacts_closes_the_episode() -> None:
    closed = domain.complete(episode(**READY), decision(), NOW, RULES)
    assert isinstance(closed, EpisodeClosed) and closed.visits_completed == 6


def test_a_closed_episode_is_not_closed_twice() -> None:
    assert domain.complete(episode(closed_at=NOW, **READY), decision(), NOW, RULES) is None


def test_an_unknown_episode_is_not_yet_known_and_another_patients_episode_is_refused() -> None:
    """An episode may still be on its way on another topic: wait for it; a mismatch never fits."""
    with pytest.raises(NotYetKnown, match="unknown episode"):
        domain.known(None, PATIENT)
    with pytest.raises(InvalidEvent, match="different patient"):
        domain.known(episode(), uuid4())


def test_the_gp_and_cmht_get_the_clinical_minimum_and_a_carer_only_what_consent_allows() -> None:
    state = ConsentState((Recorded("carer:c1", frozenset({InformationCategory.CARER_GENERAL_INFORMATION, InformationCategory.DISCHARGE_ARRANGEMENTS}), True),))
    ready = episode(**READY)
    disclosures = domain.summaries(ready, domain.recipients(ready, ["c1", "c2"]), state, (), NOW)
    issued = {d.recipient: d.event for d in disclosures if d.event is not None}
    assert set(issued) == {"patient", "gp", "cmht:belfast", "carer:c1"}  # c2 has no consent: nothing
    [refused] = [d for d in disclosures if d.recipient == "carer:c2"]
    assert refused.event is None and InformationCategory.DISCHARGE_ARRANGEMENTS in refused.decision.denied
    assert issued["gp"].content.assessment_and_risk and issued["gp"].content.medication
    assert issued["gp"].fields["due_by"] == NOW + timedelta(days=3)
    carer = issued["carer:c1"].content
    assert carer.plan_and_requested_actions and carer.crisis_contacts
    assert carer.reason_for_care is None and carer.assessment_and_risk is None and carer.medication is None


def test_the_patients_request_for_more_time_is_in_the_summary() -> None:
    ready = episode(patient_wants_more_time=True, patient_view="I am not ready.", **READY)
    [gp] = [d.event for d in domain.summaries(ready, ["gp"], ConsentState(), (), NOW)]
    assert "asked for more time" in gp.content.patient_view and "I am not ready." in gp.content.patient_view
    assert "more time" in domain.patient_letter(ready, (), timedelta(hours=72))


def test_a_follow_up_clock_stored_without_its_own_due_time_breaches_only_after_72_hours() -> None:
    followup = domain.FollowUp(uuid4(), PATIENT, None, FollowUpSource.WARD, "northern", NOW)
    assert domain.follow_up_breach(followup, NOW + timedelta(hours=71)) is None
    breach = domain.follow_up_breach(followup, NOW + timedelta(hours=74))
    assert breach.hours_late == 2 and breach.due_at == NOW + timedelta(hours=72)


def test_an_episode_open_six_weeks_is_due_review() -> None:
    assert domain.review_due(PATIENT, EPISODE, NOW, NOW + timedelta(weeks=6, seconds=-1)) is None
    assert domain.review_due(PATIENT, EPISODE, NOW, NOW + timedelta(weeks=6)) is not None


def test_home_treatment_again_within_28_days_links_to_the_previous_episode() -> None:
    previous = uuid4()
    linked = domain.readmission(PATIENT, EPISODE, (previous, NOW), NOW + timedelta(days=10))
    assert linked.previous_episode_id == previous and linked.days_since_discharge == 10
    assert domain.readmission(PATIENT, EPISODE, (previous, NOW), NOW + timedelta(days=29)) is None
    assert domain.readmission(PATIENT, EPISODE, None, NOW) is None


def test_who_was_informed_names_only_those_sent_a_summary_and_never_a_carer_the_patient_asked_not_be_told() -> None:
    """Before, every carer on record was listed to every recipient, a do-not-tell carer too."""
    told = frozenset({InformationCategory.CARER_GENERAL_INFORMATION, InformationCategory.DISCHARGE_ARRANGEMENTS})
    state = ConsentState((
        Recorded("carer:partner-1", told, True),
        Recorded("carer:uncle-1", told, False, do_not_tell=True),
    ))
    ready = episode(**READY)
    disclosures = domain.summaries(ready, domain.recipients(ready, ["partner-1", "uncle-1", "friend-2"]), state, (), NOW)
    for disclosure in disclosures:
        if disclosure.event is not None:
            assert set(disclosure.event.content.who_was_informed) == {"patient", "gp", "cmht:belfast", "carer:partner-1"}
    [uncle] = [d for d in disclosures if d.recipient == "carer:uncle-1"]
    assert uncle.event is None and uncle.decision.not_told
