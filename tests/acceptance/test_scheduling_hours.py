"""Each Trust's hours and the first days of home treatment, on the real broker and databases,
with the Trust rules carepath ships (services/scheduling/trust_rules.toml: the Northern Trust's
team, an example, runs round the clock): a visit asked for at half past one in the morning is
booked for two; someone stepping down from a ward at eleven is seen at home that day; a patient
at high risk is visited twice a day for the first three days; each visit is confirmed to the
patient the day before, with who is coming.

The services' clocks are moved to a local hour, so these run on a deployment of their own."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from contracts import (
    AssessmentCompleted,
    CarePlanAgreed,
    NotificationSent,
    ReferralAccepted,
    ReferralSource,
    Role,
    Shift,
    ShiftsRostered,
    StaffMemberRecorded,
    Trust,
    VisitRequested,
    VisitScheduled,
)
from tests.acceptance.conftest import a_deployment
from tests.acceptance.deployment import Deployment
from tests.acceptance.test_assessment import RISK
from tests.factories import new_hc_number
from tools.journey import Journey, Patient, trust_systems
from tools.trust import TrustSystem

TZ = ZoneInfo("Europe/Belfast")  # the scheduling service's default


@pytest.fixture(scope="module")
async def deployed(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    async with a_deployment(tmp_path_factory.mktemp("hours")) as deployment:
        try:
            yield deployment
        finally:
            deployment.move_clock(timedelta(0))


async def round_the_clock_rota(deployment: Deployment, trust: Trust, *staff_ids: str) -> None:
    """Staff on shift day and night for four days from yesterday: who is free never limits a window."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    shifts = tuple(Shift(starts_at=start + timedelta(hours=12 * n), ends_at=start + timedelta(hours=12 * (n + 1))) for n in range(8))
    async with TrustSystem(deployment.kafka, deployment.prefix, f"/trust/{trust.value}/rostering") as rostering:
        for staff_id in staff_ids:
            await rostering.publish(StaffMemberRecorded(staff_id=staff_id, team=f"htcr:{trust.value}", role=Role.NURSE,
                                                        display_name=staff_id.title()))
            await rostering.publish(ShiftsRostered(staff_id=staff_id, shifts=shifts))
    await deployment.settled()


def clock_at(deployment: Deployment, hour: int, minute: int) -> datetime:
    """Every service's clock moved to the next such local time (tomorrow's, at the earliest);
    returns it."""
    now = datetime.now(UTC)
    day = now.astimezone(TZ).date() + timedelta(days=1)
    at = datetime.combine(day, time(hour, minute), tzinfo=TZ).astimezone(UTC)
    deployment.move_clock(at - now)
    return at


async def in_home_treatment(deployment: Deployment, trust: Trust, *, source: ReferralSource = ReferralSource.GP,
                            **assessment) -> tuple[Journey, ReferralAccepted, list[VisitScheduled]]:
    gp, clinician, staff_app = trust_systems(deployment.kafka, deployment.prefix, trust)
    patient = Patient(hc_number=new_hc_number(), name=f"Hours-{uuid4().hex[:6]} Patient", trust=trust)
    deployment.patients.append(patient)
    async with gp, clinician, staff_app:
        journey = Journey(deployment.log, gp, clinician, staff_app, patient, timeout_s=60)
        await journey.publish(gp, journey.referral(source=source, currently_inpatient=source is ReferralSource.INPATIENT_WARD))
        accepted = await deployment.log.wait_for(ReferralAccepted, lambda e: e.referral_id == patient.referral_id, 60)
        await journey.submit_assessment(accepted, **assessment)
        await deployment.log.wait_for(CarePlanAgreed, lambda e: e.episode_id == accepted.episode_id, 60)
    await deployment.settled()
    return journey, accepted, deployment.log.events(VisitScheduled, lambda e: e.episode_id == accepted.episode_id)


async def test_a_round_the_clock_team_asked_at_half_past_one_in_the_morning_books_a_visit_at_two(deployed: Deployment) -> None:
    await round_the_clock_rota(deployed, Trust.NORTHERN, "n-orla", "n-padraig")
    _, accepted, _ = await in_home_treatment(deployed, Trust.NORTHERN)
    asked_at = clock_at(deployed, 1, 30)
    request = VisitRequested(request_id=uuid4(), patient_id=accepted.patient_id, episode_id=accepted.episode_id,
                             day=asked_at.astimezone(TZ).date(), requested_by="staff-0042")
    async with TrustSystem(deployed.kafka, deployed.prefix, f"/trust/{Trust.NORTHERN.value}/htcr-clinical-system") as clinician:
        await clinician.publish(request)
    booked = await deployed.log.wait_for(
        VisitScheduled, lambda e: e.episode_id == accepted.episode_id and e.window_start.astimezone(TZ).date() == request.day
        and e.window_start < asked_at + timedelta(hours=3), 60)
    deployed.move_clock(timedelta(0))
    assert booked.window_start.astimezone(TZ).time() == time(2, 0)
    assert booked.staff_id in ("n-orla", "n-padraig")


async def test_someone_stepping_down_from_a_ward_at_eleven_is_seen_at_home_that_day(deployed: Deployment) -> None:
    await round_the_clock_rota(deployed, Trust.SOUTHERN, "s-una", "s-vincent")
    at = clock_at(deployed, 11, 0)
    try:
        _, accepted, visits = await in_home_treatment(deployed, Trust.SOUTHERN, source=ReferralSource.INPATIENT_WARD)
    finally:
        deployed.move_clock(timedelta(0))
    [completed] = deployed.log.events(AssessmentCompleted, lambda e: e.episode_id == accepted.episode_id)
    assert completed.step_down
    first = min(visit.window_start for visit in visits).astimezone(TZ)
    assert first.date() == at.astimezone(TZ).date() and time(11) <= first.time() < time(20)


async def test_a_patient_at_high_risk_is_visited_twice_a_day_for_the_first_three_days_and_once_a_day_after(
    deployed: Deployment,
) -> None:
    await round_the_clock_rota(deployed, Trust.WESTERN, "w-aine", "w-brendan", "w-cathal")
    high = {"risk": RISK | {"to_self": "high"}}
    _, accepted, visits = await in_home_treatment(deployed, Trust.WESTERN, sections=high)
    [completed] = deployed.log.events(AssessmentCompleted, lambda e: e.episode_id == accepted.episode_id)
    assert completed.visits_a_day_at_first == 2 and not completed.step_down
    per_day = Counter(visit.window_start.astimezone(TZ).date() for visit in visits)
    assert [per_day[day] for day in sorted(per_day)] == [2, 2, 2, 1, 1, 1, 1]
    [plan] = deployed.log.events(CarePlanAgreed, lambda e: e.episode_id == accepted.episode_id)
    assert plan.visits_first_week == 10


async def test_each_visit_is_confirmed_to_the_patient_the_day_before_with_who_is_coming_once(deployed: Deployment) -> None:
    await round_the_clock_rota(deployed, Trust.SOUTH_EASTERN, "se-dara")
    clock_at(deployed, 8, 0)  # planned tomorrow morning: nothing is confirmed before midday
    try:
        _, accepted, visits = await in_home_treatment(deployed, Trust.SOUTH_EASTERN)
        assert not deployed.log.events(NotificationSent, lambda e: e.episode_id == accepted.episode_id and e.kind == "visit-confirmed")
        confirming = clock_at(deployed, 12, 30)  # then at half past twelve, the visits of the day after are confirmed
        day_after = confirming.astimezone(TZ).date() + timedelta(days=1)
        due = {visit.visit_id for visit in visits if visit.window_start.astimezone(TZ).date() == day_after}
        await deployed.log.wait_for(
            NotificationSent, lambda e: e.episode_id == accepted.episode_id and e.kind == "visit-confirmed", 60)
        await asyncio.sleep(3)  # several more checks: each visit is confirmed once
        await deployed.settled()
    finally:
        deployed.move_clock(timedelta(0))
    told = deployed.log.events(NotificationSent, lambda e: e.episode_id == accepted.episode_id and e.kind == "visit-confirmed")
    [visit] = [v for v in visits if v.visit_id in due]
    assert len(due) == 1 and len(told) == 1 and told[0].recipient == "patient"
    assert f"between {visit.window_start.astimezone(TZ):%H:%M}" in told[0].text and "Se-Dara from the home treatment team" in told[0].text
