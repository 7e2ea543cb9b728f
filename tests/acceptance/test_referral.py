"""The referral service as the front door, on the real broker and databases: every route,
triage with response clocks, declines with signposting, and bad input dead-lettered."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from contracts import (
    DeclineReason,
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralDeclined,
    ReferralLinked,
    ReferralOutcome,
    ReferralSource,
    ResponseTargetBreached,
    ServiceDirectoryPublished,
    Trust,
    Urgency,
)
from shared.reference.directory import DIRECTORY_FILE, load_directory
from tools.journey import Journey, Patient
from tools.trust import TrustSystem
from tests.acceptance.deployment import Deployment, ServiceProcess
from tests.factories import new_hc_number

DIRECTORY = load_directory()


async def test_an_urgent_gp_referral_is_accepted_with_a_deadline_24_hours_after_receipt_and_acknowledged(
    deployment: Deployment, journey: Journey
) -> None:
    referral = journey.referral(source=ReferralSource.GP, urgency=Urgency.URGENT)
    acknowledgement = await journey.submit(referral)
    accepted = await deployment.log.wait_for(ReferralAccepted, lambda e: e.referral_id == referral.referral_id)

    assert acknowledgement.outcome is ReferralOutcome.ACCEPTED
    assert accepted.assess_by - acknowledgement.received_at == timedelta(hours=24)
    assert acknowledgement.assess_by == accepted.assess_by
    rows = await deployment.query(
        "referral", "SELECT decision, received_at, assess_by FROM referrals WHERE referral_id = $1", referral.referral_id
    )
    assert [(r["decision"], r["assess_by"] - r["received_at"]) for r in rows] == [("accepted", timedelta(hours=24))]


async def test_a_very_urgent_ed_referral_not_assessed_in_4_hours_breaches_once_with_lateness_and_time_in_ed(
    deployment: Deployment, journey: Journey
) -> None:
    """The clock is moved, not slept through; the breach is emitted exactly once."""
    arrived = datetime.now(UTC) - timedelta(minutes=50)
    referral = journey.referral(
        source=ReferralSource.EMERGENCY_DEPARTMENT, urgency=Urgency.VERY_URGENT, ed_arrived_at=arrived
    )
    await journey.submit(referral)
    accepted = await deployment.log.wait_for(ReferralAccepted, lambda e: e.referral_id == referral.referral_id)
    assert accepted.ed_arrived_at == arrived

    await asyncio.sleep(1.5)  # several deadline checks at the real time: no breach yet
    assert not deployment.log.events(ResponseTargetBreached, lambda e: e.referral_id == referral.referral_id)
    try:
        deployment.move_clock(timedelta(hours=4, minutes=10))
        breach = await deployment.log.wait_for(ResponseTargetBreached, lambda e: e.referral_id == referral.referral_id)
        await asyncio.sleep(2)  # four more checks past the deadline
        await deployment.settled()
    finally:
        deployment.move_clock(timedelta(0))

    assert len(deployment.log.events(ResponseTargetBreached, lambda e: e.referral_id == referral.referral_id)) == 1
    assert 10 <= breach.minutes_late <= 12
    assert breach.ed_arrived_at == arrived
    assert 4 * 60 + 50 + 10 <= breach.minutes_in_ed <= 4 * 60 + 50 + 12
    assert breach.episode_id == accepted.episode_id


async def test_an_unknown_person_referring_themselves_is_declined_with_signposting_from_their_trust(
    deployment: Deployment, journey: Journey
) -> None:
    referral = journey.referral(source=ReferralSource.KNOWN_PATIENT, trust=Trust.WESTERN)
    acknowledgement = await journey.submit(referral)
    declined = await deployment.log.wait_for(ReferralDeclined, lambda e: e.referral_id == referral.referral_id)

    assert acknowledgement.outcome is ReferralOutcome.DECLINED
    assert declined.reason_code is DeclineReason.NEW_PATIENT_SELF_REFERRAL
    western = {entry.id for entry in DIRECTORY.for_trust(Trust.WESTERN)}
    assert len(declined.alternatives) >= 2
    assert {signpost.entry_id for signpost in declined.alternatives} <= western
    rows = await deployment.query("referral", "SELECT decision, decline_reason FROM referrals WHERE referral_id = $1", referral.referral_id)
    assert [tuple(r) for r in rows] == [("declined", "new-patient-self-referral")]  # recorded as such


async def test_a_known_patient_and_a_known_patients_carer_contacting_directly_are_both_accepted(
    deployment: Deployment, journey: Journey
) -> None:
    """Both have been through an episode before; each contacts the team directly."""
    outcomes = []
    for source in (ReferralSource.KNOWN_PATIENT, ReferralSource.CARER_OF_KNOWN_PATIENT):
        journey.patient = Patient(hc_number=new_hc_number(), name=f"Known-{uuid4().hex[:6]} Patient")
        deployment.patients.append(journey.patient)
        await journey.run()  # known now: one episode, closed
        await deployment.settled()
        direct = journey.referral(referral_id=f"DIRECT-{uuid4().hex[:10]}", source=source)
        outcomes.append((await journey.submit(direct)).outcome)
        accepted = await deployment.log.wait_for(ReferralAccepted, lambda e: e.referral_id == direct.referral_id)
        assert accepted.source is source
    assert outcomes == [ReferralOutcome.ACCEPTED, ReferralOutcome.ACCEPTED]


async def test_a_second_referral_while_an_episode_is_open_is_linked_to_it(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    second = journey.referral(
        referral_id=f"ED-{uuid4().hex[:10]}",
        source=ReferralSource.EMERGENCY_DEPARTMENT,
        ed_arrived_at=datetime.now(UTC),
    )
    assert (await journey.submit(second)).outcome is ReferralOutcome.LINKED
    linked = await deployment.log.wait_for(ReferralLinked, lambda e: e.referral_id == second.referral_id)

    assert linked.episode_id == accepted.episode_id
    episodes = await deployment.query("referral", "SELECT count(*) AS n FROM episodes WHERE patient_id = $1", accepted.patient_id)
    referrals = await deployment.query(
        "referral", "SELECT DISTINCT episode_id FROM referrals WHERE patient_id = $1", accepted.patient_id
    )
    assert episodes[0]["n"] == 1 and [r["episode_id"] for r in referrals] == [accepted.episode_id]
    count = await deployment.query("referral", "SELECT count(*) AS n FROM referrals WHERE patient_id = $1", accepted.patient_id)
    assert count[0]["n"] == 2


async def test_an_invalid_hc_number_is_dead_lettered_nothing_is_stored_and_the_next_referral_is_processed(
    deployment: Deployment, journey: Journey
) -> None:
    digits = journey.patient.hc_number.replace(" ", "")
    bad = journey.referral(referral_id=f"BAD-{uuid4().hex[:10]}", hc_number=digits[:9] + str((int(digits[9]) + 1) % 10))
    before = len(deployment.log.dead_letters())
    await journey.gp.publish(bad)
    acknowledgement = await journey.submit(journey.referral())  # same key and partition, after the bad one

    assert acknowledgement.outcome is ReferralOutcome.ACCEPTED
    await deployment.log.wait_until(lambda: len(deployment.log.dead_letters()) > before)
    [dead] = deployment.log.dead_letters()[before:]
    assert "invalid H&C number" in dead.headers["dlq_reason"] and digits[:9] not in dead.headers["dlq_reason"]
    stored = await deployment.query("referral", "SELECT count(*) AS n FROM referrals WHERE referral_id = $1", bad.referral_id)
    assert stored[0]["n"] == 0
    assert not deployment.log.events(ReferralAcknowledged, lambda e: e.referral_id == bad.referral_id)


async def test_a_directory_with_an_error_is_rejected_at_load_naming_the_entry_and_the_field(
    deployment: Deployment, tmp_path
) -> None:
    """The referral service refuses to start on a broken directory, and says where it is broken."""
    text = DIRECTORY_FILE.read_text()
    broken = (
        text.replace('hours = "Office hours, Monday to Friday"\n', "", 1)  # carers-ni loses a field
        .replace('trusts = ["western"]\nkind = "htcr"', 'trusts = ["atlantis"]\nkind = "htcr"', 1)
    )
    path = tmp_path / "directory.toml"
    path.write_text(broken)
    referral = deployment.services["referral"]
    starting = ServiceProcess(
        "referral", referral.env | {"CAREPATH_DIRECTORY_FILE": str(path)}, tmp_path / "broken-start.log"
    )
    starting.start()
    assert await starting.exited(timeout_s=60) != 0
    output = starting.log_path.read_text()
    assert "entry 'carers-ni' (#4): field 'hours': missing" in output
    assert "entry 'western-htcr'" in output and "field 'trusts.0': unknown Trust 'atlantis'" in output


async def test_the_directory_is_published_once_per_trust_for_trust_websites(deployment: Deployment) -> None:
    """Each Trust's entries go out as one event keyed by the Trust; a restart with the same
    directory publishes nothing new."""
    published = await _directory_events(deployment)
    assert {event.trust for event in published} == set(Trust)
    for event in published:
        assert event.entries == DIRECTORY.for_trust(event.trust)
    referral = deployment.services["referral"]
    referral.kill()
    referral.start()
    await deployment.settled()
    assert len(await _directory_events(deployment)) == len(Trust)


async def _directory_events(deployment: Deployment) -> list[ServiceDirectoryPublished]:
    await deployment.log.wait_until(lambda: len(deployment.log.events(ServiceDirectoryPublished)) >= len(Trust))
    return deployment.log.events(ServiceDirectoryPublished)


async def test_a_referral_id_is_unique_per_referring_system_and_reused_for_another_patient_is_dead_lettered(
    deployment: Deployment, journey: Journey
) -> None:
    """The same id from an ED system is a referral of its own; the GP system's id sent again for
    someone else is refused with a reason, never silently dropped."""
    first = journey.referral(source=ReferralSource.GP)
    await journey.submit(first)
    someone_else = first.model_copy(update={"hc_number": new_hc_number(), "patient_name": f"Other-{uuid4().hex[:6]} Person"})
    before = len(deployment.log.dead_letters())
    await journey.gp.publish(someone_else)
    await deployment.log.wait_until(lambda: len(deployment.log.dead_letters()) > before)
    [dead] = deployment.log.dead_letters()[before:]
    assert "referral_id already used by this referring system" in dead.headers["dlq_reason"]
    assert someone_else.hc_number.replace(" ", "") not in dead.headers["dlq_reason"]

    async with TrustSystem(deployment.kafka, deployment.prefix, "/trust/belfast/ed-system") as ed:
        await ed.publish(someone_else.model_copy(update={"source": ReferralSource.EMERGENCY_DEPARTMENT, "ed_arrived_at": datetime.now(UTC)}))
    await deployment.settled()
    rows = await deployment.query("referral", "SELECT referring_system FROM referrals WHERE referral_id = $1 ORDER BY 1",
                                  first.referral_id)
    assert [row["referring_system"] for row in rows] == ["/trust/belfast/ed-system", "/trust/belfast/gp-system"]
