"""Easy read, derived and said: the assessment says a patient's messages are easy read where it
records a learning disability or a communication need (a code, never which), and easy read says
times as people say them."""

from datetime import UTC, datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from contracts import AssessmentSubmitted, Pathway, SectionName, Trust
from services.assessment import domain
from services.assessment.domain import KnownEpisode, NewVersion
from shared.easy_read import between, clock

BELFAST = ZoneInfo("Europe/Belfast")


def diagnoses(learning_disability: bool) -> dict:
    return {"conditions": [], "personality_disorder": False, "learning_disability": learning_disability}


@pytest.mark.parametrize("state", [
    {SectionName.DIAGNOSES: diagnoses(True)},
    {SectionName.COMMUNICATION_NEEDS: {"needs": ["short sentences"]}},
    {SectionName.COMMUNICATION_NEEDS: {"accessible_information": ["easy read letters"]}},
], ids=["learning disability", "how to communicate", "accessible information"])
def test_a_learning_disability_or_a_communication_need_makes_the_patients_messages_easy_read(state: dict) -> None:
    assert domain.easy_read(state) is True


@pytest.mark.parametrize("state", [
    {},
    {SectionName.DIAGNOSES: diagnoses(False)},
    {SectionName.COMMUNICATION_NEEDS: {"needs": [], "accessible_information": []}},
    {SectionName.DIAGNOSES: diagnoses(False) | {"personality_disorder": True}},
    {SectionName.COMMUNICATION_NEEDS: {"interpreter_language": "Polish"}},
], ids=["nothing recorded", "no learning disability", "an empty communication section", "another diagnosis",
        "an interpreter alone (another language, not easier English)"])
def test_neither_a_learning_disability_nor_a_communication_need_keeps_the_standard_messages(state: dict) -> None:
    assert domain.easy_read(state) is False


def submitted(episode: KnownEpisode) -> AssessmentSubmitted:
    return AssessmentSubmitted(assessment_id=uuid4(), patient_id=episode.patient_id, episode_id=episode.episode_id,
                               outcome=Pathway.HOME_TREATMENT, outcome_reason="Crisis manageable at home.",
                               assessed_by="staff-0042", assessed_at=datetime.now(UTC))


def test_the_completed_assessment_and_each_version_carry_easy_read_as_a_code() -> None:
    """AssessmentCompleted and AssessmentVersionRecorded say easy read; neither says why."""
    episode = KnownEpisode(uuid4(), uuid4(), Trust.BELFAST)
    state = {SectionName.DIAGNOSES: diagnoses(True)}
    completed = domain.completed(submitted(episode), 1, episode, state)
    recorded = NewVersion(2, state, state).recorded(episode.patient_id, episode.episode_id, datetime.now(UTC))
    assert completed.easy_read and recorded.easy_read
    assert not domain.completed(submitted(episode), 1, episode, {SectionName.DIAGNOSES: diagnoses(False)}).easy_read
    assert "learning" not in completed.model_dump_json(exclude={"required_skills"})


@pytest.mark.parametrize("hour, minute, said", [
    (10, 0, "10 in the morning"), (14, 30, "half past 2 in the afternoon"), (14, 45, "quarter to 3 in the afternoon"),
    (12, 0, "12 midday"), (0, 0, "12 midnight"), (19, 15, "quarter past 7 in the evening"), (22, 0, "10 at night"),
    (9, 10, "10 minutes past 9 in the morning"),
])
def test_a_time_is_said_as_people_say_it(hour: int, minute: int, said: str) -> None:
    assert clock(datetime(2026, 7, 3, hour, minute, tzinfo=BELFAST)) == said


@pytest.mark.parametrize("start, said", [
    (10, "between 10 and 11 in the morning"), (16, "between 4 and 5 in the afternoon"),
    (11, "between 11 in the morning and 12 midday"), (12, "between 12 midday and 1 in the afternoon"),
    (23, "between 11 at night and 12 midnight"),
])
def test_a_visits_hour_says_the_part_of_the_day_once_unless_it_crosses_midday_or_midnight(start: int, said: str) -> None:
    at = datetime(2026, 7, 3, start, tzinfo=BELFAST)
    assert between(at, datetime.fromtimestamp(at.timestamp() + 3600, BELFAST)) == said
