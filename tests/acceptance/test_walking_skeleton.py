"""One journey through all four services, on the real broker and databases: complete, exactly
once under duplicates and crashes, robust to bad input, and silent about who the patient is."""

import json
from uuid import uuid4

import pytest

from contracts import (
    AssessmentCompleted,
    CarePlanAgreed,
    EpisodeClosed,
    ReferralAccepted,
    ReferralSubmitted,
    VisitCompleted,
    VisitScheduled,
)
from shared.privacy.crypto import key_ring
from services.referral.store import hc_lookup
from shared.runtime.codec import encode
from tools.trust import TrustSystem
from tools.journey import Journey
from tests.acceptance.deployment import Deployment


async def final_state(deployment: Deployment, accepted: ReferralAccepted) -> dict[str, list[dict]]:
    """Each service's rows for this patient's episode."""
    queries = {
        "referral": ("SELECT referral_id, decision, episode_id FROM referrals WHERE patient_id = $1", accepted.patient_id),
        "assessment": ("SELECT outcome, episode_id FROM assessments WHERE patient_id = $1", accepted.patient_id),
        "scheduling": (
            "SELECT status, actual_minutes, count(*) OVER () AS planned FROM visits "
            "WHERE episode_id = $1 ORDER BY status = 'completed' DESC LIMIT 1",
            accepted.episode_id,
        ),
        "discharge": (
            "SELECT visits_completed, closed_at IS NOT NULL AS closed FROM episodes WHERE episode_id = $1",
            accepted.episode_id,
        ),
    }
    return {
        service: [dict(row) for row in await deployment.query(service, sql, arg)]
        for service, (sql, arg) in queries.items()
    }


def assert_one_journey(state: dict[str, list[dict]], accepted: ReferralAccepted) -> None:
    assert state["referral"] == [
        {"referral_id": accepted.referral_id, "decision": "accepted", "episode_id": accepted.episode_id}
    ]
    assert state["assessment"] == [{"outcome": "home-treatment", "episode_id": accepted.episode_id}]
    assert state["scheduling"] == [{"status": "completed", "actual_minutes": 55, "planned": 7}]  # week one
    assert state["discharge"] == [{"visits_completed": 1, "closed": True}]


ONE_JOURNEYS_EVENTS = {AssessmentCompleted: 1, CarePlanAgreed: 1, VisitScheduled: 7, VisitCompleted: 1, EpisodeClosed: 1}


def assert_one_set_of_events(deployment: Deployment, episode_id) -> None:
    """Exactly one journey's worth of distinct events: a week-one plan of 7 visits, one visited."""
    counts = {kind: distinct_events(deployment, kind, episode_id) for kind in ONE_JOURNEYS_EVENTS}
    assert counts == ONE_JOURNEYS_EVENTS


def distinct_events(deployment: Deployment, kind: type, episode_id) -> int:
    """How many different events (by CloudEvents id) of a kind were published for an episode."""
    return len(
        {
            logged.envelope.id
            for logged in deployment.log.seen
            if isinstance(logged.event, kind) and logged.event.episode_id == episode_id
        }
    )


async def test_a_referral_travels_through_all_four_services_to_a_closed_episode(
    deployment: Deployment, journey: Journey
) -> None:
    """A referral from a GP system ends with the episode closed, and each service's database
    holds its part of the journey."""
    accepted = await journey.refer()
    visit = await journey.assess(accepted)
    await journey.visit(visit)
    # Days pass between a visit and a discharge: let every service catch up, as time would.
    # (Topics are not ordered with each other, so without this the discharge service could
    # read the decision before the visit and report 0 visits.)
    await deployment.settled()
    closed = await journey.discharge(accepted)
    assert closed.visits_completed == 1

    await deployment.settled()
    assert_one_journey(await final_state(deployment, accepted), accepted)


async def test_the_same_referral_delivered_twice_produces_one_referral_and_one_set_of_events(
    deployment: Deployment, journey: Journey
) -> None:
    """A redelivered event (same id) and a resent referral (new id) change nothing."""
    referral = journey.referral()
    envelope = await journey.gp.publish(referral, correlation_id=journey.patient.correlation_id)
    await journey.gp.publish(referral, envelope=envelope)  # redelivery: the very same event
    await journey.gp.publish(referral, correlation_id=journey.patient.correlation_id)  # resent, new id
    accepted = await deployment.log.wait_for(ReferralAccepted, lambda e: e.referral_id == referral.referral_id)
    visit = await journey.assess(accepted)
    await journey.visit(visit)
    await journey.discharge(accepted)

    await deployment.settled()
    assert len(deployment.log.events(ReferralSubmitted, lambda e: e.referral_id == referral.referral_id)) == 3
    assert len(deployment.log.events(ReferralAccepted, lambda e: e.referral_id == referral.referral_id)) == 1
    assert_one_set_of_events(deployment, accepted.episode_id)
    assert_one_journey(await final_state(deployment, accepted), accepted)


async def test_undecodable_and_invalid_referrals_are_dead_lettered_and_the_next_one_completes(
    deployment: Deployment, journey: Journey
) -> None:
    """Not JSON, a missing field, a wrong type and a bad check digit each reach the dead-letter
    topic with a reason and their origin; nothing is stored for them; a valid referral after
    them on the same partition completes its journey."""
    valid = journey.referral()
    record = encode(valid, (await _envelope(journey, valid)))
    payload = json.loads(record.value)
    hostile = {
        "not JSON": b"{this is not json",
        "patient_name: missing": json.dumps({k: v for k, v in payload.items() if k != "patient_name"}).encode(),
        "urgency: ": json.dumps(payload | {"urgency": "very urgent"}).encode(),
        "modulus-11": json.dumps(payload | {"hc_number": _bad_check_digit(journey.patient.hc_number)}).encode(),
    }
    before = len(deployment.log.dead_letters())
    for body in hostile.values():
        # Same key, so the same partition: the valid referral queues behind the bad ones.
        await journey.gp.publish_raw("referral.inbound", record.key, body, record.headers | {"ce_id": str(uuid4())})

    accepted = await journey.refer()  # the same referral id, now valid, behind them
    visit = await journey.assess(accepted)
    await journey.visit(visit)
    await journey.discharge(accepted)

    await deployment.log.wait_until(lambda: len(deployment.log.dead_letters()) >= before + len(hostile))
    dead = deployment.log.dead_letters()[before:]
    for expected_reason, logged in zip(hostile, dead, strict=True):
        assert expected_reason in logged.headers["dlq_reason"]
        assert logged.headers["dlq_original_topic"] == f"{deployment.prefix}.referral.inbound"
        assert logged.headers["dlq_consumer"] == f"{deployment.prefix}-referral"
        assert int(logged.headers["dlq_original_offset"]) >= 0
        assert journey.patient.name not in logged.headers["dlq_reason"]
        assert journey.patient.hc_number.replace(" ", "") not in logged.headers["dlq_reason"]
    await deployment.settled()
    rows = await deployment.query("referral", "SELECT count(*) AS n FROM referrals WHERE referral_id = $1", valid.referral_id)
    assert rows[0]["n"] == 1  # only the valid one was stored
    assert_one_journey(await final_state(deployment, accepted), accepted)


async def test_an_unknown_type_from_a_trust_system_is_dead_lettered_but_a_newer_carepath_type_is_skipped(
    deployment: Deployment, journey: Journey
) -> None:
    """Bad input from outside is dead-lettered; an event type added by a newer carepath
    service is not an error for an older reader, which moves on."""
    referral = journey.referral()
    record = encode(referral, await _envelope(journey, referral))
    unknown = record.headers | {"ce_type": "carepath.referral.teleported.v1"}
    before = len(deployment.log.dead_letters())
    await journey.gp.publish_raw("referral.inbound", record.key, record.value, unknown | {"ce_id": str(uuid4())})
    async with TrustSystem(deployment.kafka, deployment.prefix, "/carepath/referral") as newer_referral_service:
        await newer_referral_service.publish_raw("referral.events", record.key, record.value, unknown | {"ce_id": str(uuid4())})

    await deployment.settled()
    dead = deployment.log.dead_letters()[before:]
    assert [logged.headers["dlq_original_topic"] for logged in dead] == [f"{deployment.prefix}.referral.inbound"]
    assert "unknown event type" in dead[0].headers["dlq_reason"]


@pytest.mark.parametrize(
    "crash_point",
    [
        "after-inbox-commit",  # state committed, Kafka offset not: the event will be redelivered
        "relay-after-publish",  # event published, outbox row not yet deleted: it will be published again
    ],
)
async def test_the_assessment_service_killed_mid_journey_loses_and_duplicates_nothing(
    deployment: Deployment, journey: Journey, crash_point: str
) -> None:
    """SIGKILL at the worst moment, restart, and the journey completes exactly once."""
    assessment = deployment.services["assessment"]
    redelivered_before = await redeliveries(deployment, "assessment")
    assessment.kill()
    assessment.start(CAREPATH_FAILPOINT=crash_point)

    accepted = await journey.refer()
    await journey.submit_assessment(accepted)
    assert await assessment.exited(timeout_s=60) == -9  # it died at the crash point, by SIGKILL
    assessment.start()

    visit = await deployment.log.wait_for(VisitScheduled, lambda e: e.episode_id == accepted.episode_id, 60)
    await journey.visit(visit)
    await journey.discharge(accepted)

    await deployment.settled()
    assert_one_journey(await final_state(deployment, accepted), accepted)
    assert_one_set_of_events(deployment, accepted.episode_id)
    # The crash really happened where it hurts: the same event reached its consumer twice.
    if crash_point == "relay-after-publish":
        copies = deployment.log.events(AssessmentCompleted, lambda e: e.episode_id == accepted.episode_id)
        assert len(copies) == 2  # published, crashed before marking, published again after restart
    else:
        assert await redeliveries(deployment, "assessment") > redelivered_before


async def test_no_log_line_contains_a_test_patients_hc_number_or_name(deployment: Deployment) -> None:
    """Run last: across every service log written in this session, no identifier appears."""
    await deployment.settled()
    logs = deployment.log_text()
    assert logs.count("batch.processed") > 20  # the logs are real and cover the journeys above
    _, key = key_ring(deployment.services["referral"].env["CAREPATH_IDENTITY_KEY"]).current
    lookups = [hc_lookup(key, patient.hc_number.replace(" ", "")) for patient in deployment.patients]
    stored = await deployment.query("referral", "SELECT count(*) AS n FROM patients WHERE hc_lookup = ANY($1)", lookups)
    assert stored[0]["n"] >= 5  # the numbers really went through the system
    for patient in deployment.patients:
        for identifier in (patient.hc_number, patient.hc_number.replace(" ", ""), patient.name):
            assert identifier not in logs


async def _envelope(journey: Journey, event):
    from datetime import UTC, datetime

    from contracts import Envelope

    return Envelope(
        id=uuid4(),
        source=journey.gp.source,
        type=event.cloudevents_type(),
        time=datetime.now(UTC),
        subject=event.key,
        correlationid=journey.patient.correlation_id,
    )


def _bad_check_digit(hc_number: str) -> str:
    digits = hc_number.replace(" ", "")
    return digits[:9] + str((int(digits[9]) + 1) % 10)


async def redeliveries(deployment: Deployment, service: str) -> int:
    """Events a service's inbox recognised as already processed (each redelivery is counted)."""
    rows = await deployment.query(service, "SELECT coalesce(sum(redelivered), 0) AS n FROM inbox")
    return rows[0]["n"]
