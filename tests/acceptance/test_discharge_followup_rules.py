"""The discharge service's Trust rules on the real broker and databases: a follow-up clock of 48
hours where a risk of suicide was identified, else the Trust's standard, with one breach each;
and the gate's notice rule (48 hours before home treatment ends, unless the patient asks sooner).

The packaged trust_rules.toml ships with the notice rule off (tools/journey.py plans discharges for
the day the patient is told), so this file runs a deployment of its own with the rule on."""

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from contracts import (
    CrisisContactsGiven,
    DischargeConversationRecorded,
    DischargeNotificationAcknowledged,
    DischargeProposed,
    DischargeRefused,
    EpisodeClosed,
    FollowOnCareArranged,
    FollowUpBreached,
    GateCondition,
    NotificationSent,
    OnwardCare,
    ReferralAccepted,
    Trust,
    WardDischargeRecorded,
)
from services.discharge.domain import BELFAST
from services.discharge.rules import RULES_FILE
from tests.acceptance.conftest import a_deployment
from tests.acceptance.deployment import Deployment
from tools.journey import Journey
from tools.trust import TrustSystem


@pytest.fixture(scope="module")
async def deployment(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    """This file's own deployment: the packaged rules with discharge_notice_hours = 48."""
    logs = tmp_path_factory.mktemp("followup-rules")
    rules = logs / "trust_rules.toml"
    rules.write_text(RULES_FILE.read_text().replace("discharge_notice_hours = 0", "discharge_notice_hours = 48"))
    assert "discharge_notice_hours = 48" in rules.read_text()
    os.environ["CAREPATH_DISCHARGE_RULES_FILE"] = str(rules)  # the services inherit the tests' environment
    try:
        async with a_deployment(logs) as deployed:
            yield deployed
    finally:
        del os.environ["CAREPATH_DISCHARGE_RULES_FILE"]


def start_of_today() -> datetime:
    return datetime.combine(datetime.now(BELFAST).date(), time(0), BELFAST)


async def in_home_treatment(deployment: Deployment, journey: Journey) -> ReferralAccepted:
    accepted = await journey.refer()
    await journey.assess(accepted)
    await deployment.settled()
    return accepted


async def prepared(journey: Journey, accepted: ReferralAccepted, told: list[datetime], **proposal: object) -> None:
    """Proposed for today (Belfast), the patient told at each time given (in that order of
    arrival: a conversation, then acknowledgements), follow-on care and crisis contacts given."""
    ids = {"patient_id": accepted.patient_id, "episode_id": accepted.episode_id}
    now = datetime.now(UTC)
    await journey.publish(journey.clinician, DischargeProposed(
        **ids, proposed_by="staff-0007", planned_for=datetime.now(BELFAST).date(), reason="Crisis resolved.",
        crisis_contacts=("Lifeline 0808 808 8000",), proposed_at=now, **proposal))
    first, *more = told
    await journey.publish(journey.clinician, DischargeConversationRecorded(**ids, recorded_by="staff-0007", recorded_at=first))
    for at in more:
        await journey.publish(journey.clinician, DischargeNotificationAcknowledged(**ids, acknowledged_at=at))
    await journey.publish(journey.clinician, FollowOnCareArranged(**ids, onward_to=OnwardCare.CMHT, arranged_by="staff-0007", arranged_at=now))
    await journey.publish(journey.clinician, CrisisContactsGiven(**ids, given_by="staff-0007", given_at=now))


async def test_a_discharge_with_a_risk_of_suicide_gets_a_48_hour_clock_and_exactly_one_breach_when_it_passes(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await in_home_treatment(deployment, journey)
    await prepared(journey, accepted, [start_of_today() - timedelta(days=3)], suicide_risk_identified=True)
    await journey.decide_discharge(accepted)
    closed = await deployment.log.wait_for(EpisodeClosed, lambda e: e.episode_id == accepted.episode_id)
    assert closed.due_at == closed.closed_at + timedelta(hours=48)
    mine = lambda e: e.patient_id == accepted.patient_id  # noqa: E731
    try:
        deployment.move_clock(closed.closed_at + timedelta(hours=47) - datetime.now(UTC))
        await asyncio.sleep(2)  # several checks at 47 hours: not due yet
        assert not deployment.log.events(FollowUpBreached, mine)
        deployment.move_clock(closed.closed_at + timedelta(hours=48, minutes=30) - datetime.now(UTC))
        breach = await deployment.log.wait_for(FollowUpBreached, mine, timeout_s=120)
        await asyncio.sleep(3)  # the check runs every half second: several more times
        await deployment.settled(timeout_s=180)
    finally:
        deployment.move_clock(timedelta(0))
    assert len(deployment.log.events(FollowUpBreached, mine)) == 1
    assert breach.due_at == closed.closed_at + timedelta(hours=48) and breach.source.value == "home-treatment"
    [alert] = deployment.log.events(NotificationSent, lambda e: mine(e) and e.kind == "follow-up-overdue")
    assert alert.recipient == "cmht:belfast" and alert.text.startswith("No follow-up contact within 48 hours of discharge")
    [letter] = deployment.log.events(NotificationSent, lambda e: mine(e) and e.kind == "discharged")
    assert "within 2 days" in letter.text


async def test_a_discharge_without_a_risk_of_suicide_gets_the_trusts_standard(
    deployment: Deployment, journey: Journey
) -> None:
    """Belfast's 72 hours for home treatment; the example Trust's 7 days, and 48 hours with a risk, for ward discharges."""
    accepted = await in_home_treatment(deployment, journey)
    await prepared(journey, accepted, [start_of_today() - timedelta(days=3)])
    await journey.decide_discharge(accepted)
    closed = await deployment.log.wait_for(EpisodeClosed, lambda e: e.episode_id == accepted.episode_id)
    assert closed.due_at == closed.closed_at + timedelta(hours=72)

    plain, risky = uuid4(), uuid4()
    now = datetime.now(UTC)
    async with TrustSystem(deployment.kafka, deployment.prefix, "/trust/western/pas") as pas:
        for patient, risk in ((plain, False), (risky, True)):
            await pas.publish(WardDischargeRecorded(discharge_id=uuid4(), patient_id=patient, trust=Trust.WESTERN, ward="Ward 3",
                                                    discharged_at=now - timedelta(hours=100), suicide_risk_identified=risk))
    breach = await deployment.log.wait_for(FollowUpBreached, lambda e: e.patient_id == risky)
    await asyncio.sleep(2)
    await deployment.settled()
    assert breach.due_at == breach.discharged_at + timedelta(hours=48) and breach.hours_late == 52
    assert not deployment.log.events(FollowUpBreached, lambda e: e.patient_id in (plain, accepted.patient_id))
    rows = await deployment.query("discharge", "SELECT due_by - discharged_at AS clock FROM followups WHERE patient_id = $1", plain)
    assert [r["clock"] for r in rows] == [timedelta(days=7)]


async def test_a_discharge_planned_24_hours_after_first_telling_the_patient_is_refused_with_the_reason(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await in_home_treatment(deployment, journey)
    first = start_of_today() - timedelta(hours=24)
    await prepared(journey, accepted, [first + timedelta(hours=5), first])  # the later record arrives first
    await journey.decide_discharge(accepted)
    refused = await deployment.log.wait_for(DischargeRefused, lambda e: e.episode_id == accepted.episode_id)
    assert refused.missing == (GateCondition.NOTICE_GIVEN,)
    assert f"first told on {first:%A %d %B at %H:%M}" in refused.explanation
    assert "24 hours' notice, not the 48 hours they must have, unless they ask for it to end sooner" in refused.explanation
    await deployment.settled()
    assert not deployment.log.events(EpisodeClosed, lambda e: e.episode_id == accepted.episode_id)


async def test_a_discharge_the_patient_asked_to_be_sooner_is_allowed(deployment: Deployment, journey: Journey) -> None:
    accepted = await in_home_treatment(deployment, journey)
    await prepared(journey, accepted, [datetime.now(UTC)], patient_asked_to_end_sooner=True)
    await journey.decide_discharge(accepted)
    closed = await deployment.log.wait_for(EpisodeClosed, lambda e: e.episode_id == accepted.episode_id)
    assert closed.due_at == closed.closed_at + timedelta(hours=72)


async def test_the_first_time_the_patient_was_told_counts_whichever_record_of_it_arrives_first(
    deployment: Deployment, journey: Journey
) -> None:
    """Told three days ago (recorded second) and an acknowledgement today (recorded first): notice given."""
    accepted = await in_home_treatment(deployment, journey)
    ids = {"patient_id": accepted.patient_id, "episode_id": accepted.episode_id}
    await journey.publish(journey.clinician, DischargeNotificationAcknowledged(**ids, acknowledged_at=datetime.now(UTC)))
    await prepared(journey, accepted, [start_of_today() - timedelta(days=3)])
    await journey.decide_discharge(accepted)
    await deployment.log.wait_for(EpisodeClosed, lambda e: e.episode_id == accepted.episode_id)
