"""What the assessment tells scheduling about the first days, as derived codes, never the risk
itself: two visits a day where the risk to self or a carer's strain is high, and a step-down
from a ward (the ward referred the patient)."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from contracts import AssessmentSubmitted, Pathway, ReferralSource, SectionName, Trust
from services.assessment import domain
from services.assessment.domain import KnownEpisode


def risk(to_self: str) -> dict:
    return {"to_self": to_self, "to_others": "low", "from_others": "none"}


def carers(*strains: str) -> dict:
    return {"carers": [{"carer_id": f"carer-{n}", "strain": strain} for n, strain in enumerate(strains)]}


@pytest.mark.parametrize("state, visits", [
    ({}, 1),
    ({SectionName.RISK: risk("medium")}, 1),
    ({SectionName.RISK: risk("high")}, 2),
    ({SectionName.RISK: risk("low"), SectionName.FAMILY_AND_CARERS: carers("low", "high")}, 2),
    ({SectionName.RISK: risk("medium"), SectionName.FAMILY_AND_CARERS: carers("medium")}, 1),
])
def test_two_visits_a_day_at_first_where_the_risk_to_self_or_a_carers_strain_is_high(state: dict, visits: int) -> None:
    assert domain.visits_a_day_at_first(state) == visits


def submitted(episode_id, patient_id) -> AssessmentSubmitted:
    return AssessmentSubmitted(assessment_id=uuid4(), patient_id=patient_id, episode_id=episode_id, outcome=Pathway.HOME_TREATMENT,
                               outcome_reason="Crisis manageable at home.", assessed_by="staff-0042", assessed_at=datetime.now(UTC))


@pytest.mark.parametrize("source, step_down", [
    (ReferralSource.INPATIENT_WARD, True), (ReferralSource.GP, False), (None, False),
])
def test_the_completed_assessment_says_a_patient_referred_by_a_ward_is_stepping_down(source, step_down: bool) -> None:
    episode = KnownEpisode(uuid4(), uuid4(), Trust.SOUTHERN, source)
    completed = domain.completed(submitted(episode.episode_id, episode.patient_id), 1, episode, {SectionName.RISK: risk("high")})
    assert (completed.step_down, completed.visits_a_day_at_first, completed.trust) == (step_down, 2, Trust.SOUTHERN)
