"""Assessment, scheduling and discharge rules, without broker or database."""

from datetime import datetime
from uuid import uuid4

import pytest

from contracts import (
    AssessmentCompleted,
    AssessmentSubmitted,
    Pathway,
    VisitOutcomeRecorded,
    VisitStatus,
)
from services.assessment import domain as assessment
from services.scheduling import domain as scheduling
from shared.runtime.errors import InvalidEvent, NotYetKnown
from tests.factories import NOW

PATIENT, EPISODE = uuid4(), uuid4()


def submitted(outcome: Pathway = Pathway.HOME_TREATMENT, patient=PATIENT) -> AssessmentSubmitted:
    return AssessmentSubmitted(
        assessment_id=uuid4(),
        patient_id=patient,
        episode_id=EPISODE,
        outcome=outcome,
        outcome_reason="clinical text",
        assessed_by="staff-1",
        assessed_at=NOW,
    )


def completed(outcome: Pathway = Pathway.HOME_TREATMENT, at: datetime = NOW) -> AssessmentCompleted:
    return AssessmentCompleted(
        assessment_id=uuid4(), patient_id=PATIENT, episode_id=EPISODE, outcome=outcome, assessed_at=at
    )


def test_a_completed_assessment_carries_the_pathway_but_not_the_clinical_reason() -> None:
    """The recorded outcome travels on; the clinician's free text stays in the assessment service."""
    event = assessment.completed(submitted(), version=1)
    assert event.outcome is Pathway.HOME_TREATMENT and event.assessment_version == 1
    assert "clinical text" not in event.model_dump_json()


def test_an_assessment_for_another_patients_episode_is_refused() -> None:
    """An episode id that belongs to someone else is never attached to this patient."""
    with pytest.raises(InvalidEvent):
        assessment.check_episode(assessment.KnownEpisode(EPISODE, PATIENT, None), uuid4())


def test_an_assessment_for_an_episode_not_yet_accepted_waits_for_the_acceptance() -> None:
    """The acceptance comes on another topic: until it is here, the assessment is not yet known, not invalid."""
    with pytest.raises(NotYetKnown):
        assessment.check_episode(None, PATIENT)


def outcome_for(visit: scheduling.Visit, status: VisitStatus = VisitStatus.COMPLETED) -> VisitOutcomeRecorded:
    return VisitOutcomeRecorded(
        visit_id=visit.visit_id,
        patient_id=visit.patient_id,
        episode_id=visit.episode_id,
        status=status,
        actual_minutes=50,
        recorded_at=NOW,
    )


def test_a_completed_visit_is_recorded_once() -> None:
    """The first completed outcome completes the visit; a repeat changes nothing."""
    visit = scheduling.Visit(uuid4(), PATIENT, EPISODE, status=None)
    [completed_visit] = scheduling.record_outcome(visit, outcome_for(visit))
    assert completed_visit.actual_minutes == 50 and not completed_visit.cut_short
    done = scheduling.Visit(visit.visit_id, PATIENT, EPISODE, status=VisitStatus.COMPLETED)
    assert scheduling.record_outcome(done, outcome_for(done)) == []


def test_an_outcome_for_an_unknown_visit_is_refused() -> None:
    """The staff app cannot record an outcome for a visit that was never scheduled."""
    ghost = scheduling.Visit(uuid4(), PATIENT, EPISODE, status=None)
    with pytest.raises(InvalidEvent):
        scheduling.record_outcome(None, outcome_for(ghost))


