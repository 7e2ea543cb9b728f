"""Easy read on the real broker and databases: an assessment recording a learning disability
makes the patient's care plan and the day-before confirmation of their visit easy read, marked
so for the Trust's messaging system, with who is coming by first name and role; a patient
assessed without one, by the same team on the same day, gets the standard messages.

The services' clocks are moved to a local hour, so these run on a deployment of their own."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from contracts import (
    AssessmentCompleted,
    NotificationSent,
    Role,
    Shift,
    ShiftsRostered,
    Skill,
    StaffMemberRecorded,
    Trust,
)
from tests.acceptance.conftest import a_deployment
from tests.acceptance.deployment import Deployment
from tests.acceptance.test_scheduling_hours import clock_at, in_home_treatment
from tools.trust import TrustSystem

LEARNING_DISABILITY = {"diagnoses": {"conditions": [], "personality_disorder": False, "learning_disability": True}}


@pytest.fixture(scope="module")
async def deployed(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    async with a_deployment(tmp_path_factory.mktemp("easy-read")) as deployment:
        try:
            yield deployment
        finally:
            deployment.move_clock(timedelta(0))


async def belfast_rota(deployment: Deployment) -> None:
    """A nurse with the learning-disability skill and one without, on shift day and night for four days from yesterday."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    shifts = tuple(Shift(starts_at=start + timedelta(hours=12 * n), ends_at=start + timedelta(hours=12 * (n + 1))) for n in range(8))
    async with TrustSystem(deployment.kafka, deployment.prefix, "/trust/belfast/rostering") as rostering:
        for staff_id, skills in (("b-ena", (Skill.LEARNING_DISABILITY,)), ("b-finn", ())):
            await rostering.publish(StaffMemberRecorded(staff_id=staff_id, team="htcr:belfast", role=Role.NURSE, skills=skills,
                                                        display_name=staff_id.title()))
            await rostering.publish(ShiftsRostered(staff_id=staff_id, shifts=shifts))
    await deployment.settled()


def told(deployment: Deployment, episode_id, kind: str) -> list[NotificationSent]:
    return deployment.log.events(NotificationSent, lambda e: e.episode_id == episode_id and e.kind == kind)


async def test_a_patient_with_a_learning_disability_is_sent_easy_read_and_a_patient_without_one_the_standard_messages(
    deployed: Deployment,
) -> None:
    await belfast_rota(deployed)
    clock_at(deployed, 8, 0)  # planned tomorrow morning: the first visits are the day after
    try:
        _, easy, _ = await in_home_treatment(deployed, Trust.BELFAST, sections=LEARNING_DISABILITY)
        _, standard, _ = await in_home_treatment(deployed, Trust.BELFAST)
        clock_at(deployed, 12, 30)  # then at half past twelve, the visits of the day after are confirmed
        for accepted in (easy, standard):
            await deployed.log.wait_for(
                NotificationSent, lambda e, episode=accepted.episode_id: e.episode_id == episode and e.kind == "visit-confirmed", 60)
        await deployed.settled()
    finally:
        deployed.move_clock(timedelta(0))

    [assessed] = deployed.log.events(AssessmentCompleted, lambda e: e.episode_id == easy.episode_id)
    [plain] = deployed.log.events(AssessmentCompleted, lambda e: e.episode_id == standard.episode_id)
    assert assessed.easy_read and not plain.easy_read
    assert assessed.required_skills == (Skill.LEARNING_DISABILITY,)

    [plan] = told(deployed, easy.episode_id, "care-plan")
    [confirmed] = told(deployed, easy.episode_id, "visit-confirmed")
    assert plan.recipient == confirmed.recipient == "patient" and plan.easy_read and confirmed.easy_read
    lines = plan.text.splitlines()
    assert {"Your named worker is B-Ena.", "B-Ena is a nurse.", "These are your first visits."} <= set(lines)
    assert all(len(line.split()) <= 13 for line in lines)  # a sentence a line, a bullet's dash and twelve words at most
    assert {"Your visit is tomorrow.", "B-Ena will come.", "B-Ena is a nurse."} <= set(confirmed.text.splitlines())

    [plan] = told(deployed, standard.episode_id, "care-plan")
    [confirmed] = told(deployed, standard.episode_id, "visit-confirmed")
    assert not plan.easy_read and not confirmed.easy_read
    assert "one-hour window" in plan.text and "from the home treatment team will come" in confirmed.text
