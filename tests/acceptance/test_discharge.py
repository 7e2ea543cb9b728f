"""The discharge service on the real broker and databases: nobody discharged without knowing,
follow-up within 72 hours, the next team told, and carers told only what consent allows."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from contracts import (
    AddressedCopy,
    ConsentRecorded,
    CrisisContactsGiven,
    DischargeProposed,
    DischargeRefused,
    DischargeSummaryIssued,
    EpisodeClosed,
    FollowOnCareArranged,
    FollowUpBreached,
    GateCondition,
    InformationCategory,
    NotificationSent,
    OnwardCare,
    ReadmissionLinked,
    ReferralAccepted,
    Trust,
    WardDischargeRecorded,
)
from tools.journey import Journey
from tools.trust import TrustSystem
from tests.acceptance.deployment import Deployment


async def in_home_treatment(deployment: Deployment, journey: Journey) -> ReferralAccepted:
    accepted = await journey.refer()
    await journey.assess(accepted)
    await deployment.settled()
    return accepted


async def test_completing_a_discharge_with_no_record_that_the_patient_was_told_is_refused_naming_it(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await in_home_treatment(deployment, journey)
    ids = {"patient_id": accepted.patient_id, "episode_id": accepted.episode_id}
    now = datetime.now(UTC)
    await journey.clinician.publish(FollowOnCareArranged(**ids, onward_to=OnwardCare.CMHT, arranged_by="s-7", arranged_at=now))
    await journey.clinician.publish(CrisisContactsGiven(**ids, given_by="s-7", given_at=now))
    await journey.decide_discharge(accepted)

    refused = await deployment.log.wait_for(DischargeRefused, lambda e: e.episode_id == accepted.episode_id)
    assert refused.missing == (GateCondition.PATIENT_TOLD, GateCondition.NOTICE_GIVEN)  # never told: no notice either
    await deployment.settled()
    assert not deployment.log.events(EpisodeClosed, lambda e: e.episode_id == accepted.episode_id)
    rows = await deployment.query("discharge", "SELECT closed_at FROM episodes WHERE episode_id = $1", accepted.episode_id)
    assert rows[0]["closed_at"] is None


async def test_a_complete_discharge_tells_patient_gp_and_cmht_and_a_consented_carer_only_the_arrangements(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await in_home_treatment(deployment, journey)
    await journey.consent.publish(
        ConsentRecorded(
            consent_id=uuid4(), patient_id=accepted.patient_id, recipient="carer:partner-1",
            categories=(InformationCategory.CARER_GENERAL_INFORMATION, InformationCategory.DISCHARGE_ARRANGEMENTS),
            permit=True, recorded_by="staff-0042", recorded_at=datetime.now(UTC),
        )
    )
    await deployment.settled()
    await journey.discharge(accepted)
    await deployment.settled()

    issued = {s.recipient: s for s in deployment.log.events(DischargeSummaryIssued, lambda e: e.episode_id == accepted.episode_id)}
    assert {"patient", "gp", "cmht:belfast", "carer:partner-1"} <= set(issued)
    gp = await deployment.open_copy(issued["gp"])
    assert gp.assessment_and_risk and gp.medication and gp.plan_and_requested_actions and gp.crisis_contacts
    assert set(gp.who_was_informed) >= {"patient", "gp", "cmht:belfast", "carer:partner-1"}
    letters = deployment.log.events(NotificationSent, lambda e: e.episode_id == accepted.episode_id and e.kind == "discharged")
    assert [n.recipient for n in letters] == ["patient"] and "Lifeline" in letters[0].text

    carer = issued["carer:partner-1"]
    carer_copy = await deployment.open_copy(carer)
    assert carer_copy.plan_and_requested_actions and carer_copy.crisis_contacts
    assert set(carer.categories) == {InformationCategory.DISCHARGE_ARRANGEMENTS}
    to_carer = [e for e in deployment.log.seen if getattr(e.event, "recipient", None) == "carer:partner-1"]
    for logged in to_carer:
        raw = logged.event.model_dump_json()
        if isinstance(logged.event, AddressedCopy):
            raw += (await deployment.open_copy(logged.event)).model_dump_json()
        assert "Risk to self now low" not in raw and "Sertraline" not in raw and "Acute depressive crisis" not in raw


async def test_the_patients_request_for_more_time_is_kept_in_the_record_and_the_summary(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await in_home_treatment(deployment, journey)
    words = f"I'm not ready yet ({uuid4().hex[:6]})."
    await journey.prepare_discharge(accepted, patient_view=words, patient_wants_more_time=True)
    # A later proposal without the patient's view must not overwrite it.
    await journey.clinician.publish(
        DischargeProposed(
            patient_id=accepted.patient_id, episode_id=accepted.episode_id, proposed_by="staff-0007",
            planned_for=datetime.now(UTC).date(), reason="Revised date.", proposed_at=datetime.now(UTC),
        )
    )
    await deployment.settled()
    await journey.decide_discharge(accepted)
    await deployment.log.wait_for(EpisodeClosed, lambda e: e.episode_id == accepted.episode_id)
    await deployment.settled()

    rows = await deployment.query(
        "discharge", "SELECT patient_view, patient_wants_more_time FROM episodes WHERE episode_id = $1", accepted.episode_id
    )
    assert (rows[0]["patient_view"], rows[0]["patient_wants_more_time"]) == (words, True)
    [gp] = deployment.log.events(DischargeSummaryIssued, lambda e: e.episode_id == accepted.episode_id and e.recipient == "gp")
    view = (await deployment.open_copy(gp)).patient_view
    assert "asked for more time" in view and words in view


async def test_no_follow_up_72_hours_after_discharge_is_one_breach_and_a_cmht_alert(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await in_home_treatment(deployment, journey)
    closed = await journey.discharge(accepted)
    await asyncio.sleep(1.5)  # checks at the real time: not due yet
    assert not deployment.log.events(FollowUpBreached, lambda e: e.patient_id == accepted.patient_id)
    try:
        deployment.move_clock(closed.closed_at + timedelta(hours=72, minutes=30) - datetime.now(UTC))
        breach = await deployment.log.wait_for(FollowUpBreached, lambda e: e.patient_id == accepted.patient_id, timeout_s=120)
        await asyncio.sleep(2)
        await deployment.settled(timeout_s=180)
    finally:
        deployment.move_clock(timedelta(0))
    assert len(deployment.log.events(FollowUpBreached, lambda e: e.patient_id == accepted.patient_id)) == 1
    assert breach.source.value == "home-treatment" and breach.due_at == closed.closed_at + timedelta(hours=72)
    alerts = deployment.log.events(
        NotificationSent, lambda e: e.patient_id == accepted.patient_id and e.kind == "follow-up-overdue"
    )
    assert [a.recipient for a in alerts] == ["cmht:belfast"]


async def test_a_ward_discharge_from_the_patient_administration_system_starts_the_same_72_hour_clock(
    deployment: Deployment,
) -> None:
    """Two PAS discharges: one 73 hours ago breaches once; one an hour ago does not yet."""
    patient_late, patient_recent = uuid4(), uuid4()
    now = datetime.now(UTC)
    async with TrustSystem(deployment.kafka, deployment.prefix, "/trust/northern/pas") as pas:
        for patient, hours_ago in ((patient_late, 73), (patient_recent, 1)):
            await pas.publish(
                WardDischargeRecorded(
                    discharge_id=uuid4(), patient_id=patient, trust=Trust.NORTHERN, ward="Holywell Hospital, Ward 3",
                    discharged_at=now - timedelta(hours=hours_ago),
                )
            )
    breach = await deployment.log.wait_for(FollowUpBreached, lambda e: e.patient_id == patient_late)
    await asyncio.sleep(2)
    await deployment.settled()
    assert breach.source.value == "ward" and breach.hours_late == 1
    assert len(deployment.log.events(FollowUpBreached, lambda e: e.patient_id == patient_late)) == 1
    assert not deployment.log.events(FollowUpBreached, lambda e: e.patient_id == patient_recent)
    alerts = deployment.log.events(NotificationSent, lambda e: e.patient_id == patient_late and e.kind == "follow-up-overdue")
    assert [a.recipient for a in alerts] == ["cmht:northern"]


async def test_a_patient_re_referred_10_days_after_discharge_gets_a_new_episode_linked_to_the_previous(
    deployment: Deployment, journey: Journey
) -> None:
    first = await in_home_treatment(deployment, journey)
    await journey.discharge(first)
    await deployment.settled()
    try:
        deployment.move_clock(timedelta(days=10, hours=1))
        journey.patient.referral_id = f"GP-{uuid4().hex[:10]}"
        second = await journey.refer()
        await journey.submit_assessment(second)
        linked = await deployment.log.wait_for(ReadmissionLinked, lambda e: e.episode_id == second.episode_id, timeout_s=120)
        await deployment.settled(timeout_s=180)
    finally:
        deployment.move_clock(timedelta(0))
    assert second.episode_id != first.episode_id
    assert linked.previous_episode_id == first.episode_id and linked.days_since_discharge == 10
    rows = await deployment.query("discharge", "SELECT previous_episode_id FROM episodes WHERE episode_id = $1", second.episode_id)
    assert rows[0]["previous_episode_id"] == first.episode_id


async def test_a_discharge_event_naming_an_unknown_episode_waits_parked_and_is_reported_after_a_day(
    deployment: Deployment, journey: Journey
) -> None:
    """Not dead-lettered for lateness: parked with its reason, changing nothing; reported once a day has passed."""
    accepted = await in_home_treatment(deployment, journey)
    before = len(deployment.log.dead_letters())
    ghost = accepted.model_copy(update={"episode_id": uuid4()})
    await journey.decide_discharge(ghost)
    parked = await wait_for_rows(
        deployment, "discharge", "SELECT reason, reported_at FROM parked WHERE topic = $1 AND key = $2",
        f"{deployment.prefix}.discharge.inbound", str(ghost.patient_id),
    )
    assert "unknown episode" in parked[0]["reason"] and parked[0]["reported_at"] is None
    await deployment.settled()
    assert len(deployment.log.dead_letters()) == before
    rows = await deployment.query("discharge", "SELECT count(*) AS n FROM episodes WHERE episode_id = $1", ghost.episode_id)
    assert rows[0]["n"] == 0

    deployment.move_clock(timedelta(hours=25))
    try:
        await wait_for_rows(
            deployment, "discharge", "SELECT 1 FROM parked WHERE topic = $1 AND key = $2 AND reported_at IS NOT NULL",
            f"{deployment.prefix}.discharge.inbound", str(ghost.patient_id),
        )
    finally:
        deployment.move_clock(timedelta(0))
    assert '"event.parked_too_long"' in deployment.services["discharge"].log_path.read_text()


async def wait_for_rows(deployment: Deployment, service: str, sql: str, *args: object, timeout_s: float = 30) -> list:
    async with asyncio.timeout(timeout_s):
        while not (rows := await deployment.query(service, sql, *args)):
            await asyncio.sleep(0.2)
    return rows
