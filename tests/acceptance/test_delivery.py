"""The delivery core's own promises on the real broker: an event Kafka refuses for good is set
aside and holds up nothing behind it; a partition that stops advancing with work waiting makes
`carepath health` fail, naming it; consumer groups carry the deployment's prefix."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from uuid import uuid4

from aiokafka.admin import AIOKafkaAdminClient

from contracts import AssessmentShared, NotificationSent
from contracts.topics import PRODUCER_MAX_REQUEST_BYTES
from tools.journey import Journey
from tests.acceptance.corpus import eventually
from tests.acceptance.deployment import ROOT, Deployment

RISK = {"to_self": "low", "to_others": "none", "from_others": "none", "safeguarding_children": False,
        "safeguarding_adults": False, "details": "Low risk.", "risk_plan": "Weekly review."}


def health(deployment: Deployment, service: str) -> subprocess.CompletedProcess[str]:
    beat = deployment.services[service].env["CAREPATH_HEARTBEAT_FILE"]
    return subprocess.run(
        [sys.executable, "-m", "tools.cli", "health", "--file", beat], capture_output=True, text=True, cwd=ROOT, check=False
    )


async def test_an_event_kafka_refuses_for_good_is_set_aside_and_the_events_behind_it_are_published(
    deployment: Deployment,
) -> None:
    """Too large even for the producer: set aside with its reason, health warns, the next event goes out."""
    patient_id = uuid4()
    too_large, behind = uuid4(), uuid4()
    notification = NotificationSent(
        recipient="patient", patient_id=patient_id, episode_id=uuid4(), kind="test", text="After the one set aside.",
        sent_at=datetime.now(UTC),
    )
    headers = {"ce_id": str(behind), "ce_source": "/carepath/discharge", "ce_type": NotificationSent.cloudevents_type(),
               "ce_specversion": "1.0", "ce_time": datetime.now(UTC).isoformat(), "ce_subject": str(patient_id),
               "ce_correlationid": str(uuid4()), "content-type": "application/json"}
    # Queued as a faulty handler of an older version might have queued it, straight into the outbox.
    for event_id, value in ((too_large, b'{"x":"' + b"y" * PRODUCER_MAX_REQUEST_BYTES + b'"}'), (behind, notification.model_dump_json().encode())):
        await deployment.query(
            "discharge",
            "INSERT INTO outbox (event_id, topic, key, value, headers) VALUES ($1, 'notifications', $2, $3, $4::jsonb)",
            event_id, str(patient_id).encode(), value, json.dumps(headers | {"ce_id": str(event_id)}),
        )
    await deployment.query("discharge", "NOTIFY carepath_outbox")

    published = await deployment.log.wait_for(NotificationSent, lambda e: e.patient_id == patient_id)
    assert published.text == "After the one set aside."
    set_aside = await eventually(lambda: deployment.query(
        "discharge", "SELECT failure FROM outbox WHERE event_id = $1 AND set_aside_at IS NOT NULL", too_large
    ), within_s=30)
    assert set_aside and set_aside[0]["failure"] == "MessageSizeTooLargeError"
    warned = await eventually(lambda: (result := health(deployment, "discharge")) and "set aside" in result.stdout and result,
                              within_s=20, every_s=1)
    assert warned and warned.returncode == 0  # a warning: the service itself still works


async def test_a_partition_that_stops_advancing_with_work_waiting_fails_health_and_is_named(
    deployment: Deployment, journey: Journey
) -> None:
    """Deliveries held: the copy topic has lag and no progress, health fails naming it; released, health recovers."""
    accepted = await journey.refer()
    await deployment.settled()
    with deployment.deliveries_held():
        await journey.submit_assessment(accepted, sections={"risk": RISK})
        copy = await deployment.log.wait_for(AssessmentShared, lambda e: e.patient_id == accepted.patient_id)
        stalled = await eventually(lambda: (result := health(deployment, "assessment")).returncode == 1 and result,
                                   within_s=60, every_s=1)
        assert stalled, "health never reported the stalled partition"
        assert f"{deployment.prefix}-assessment-delivery has not advanced on {deployment.prefix}.assessment.shared partition" in stalled.stdout
        assert str(accepted.patient_id) not in stalled.stdout
    await deployment.settled()
    recovered = await eventually(lambda: (result := health(deployment, "assessment")).returncode == 0 and result,
                                 within_s=30, every_s=1)
    assert recovered and "healthy" in recovered.stdout
    delivered = await deployment.delivered("assessment", accepted.patient_id, copy.recipient)
    assert len(delivered) >= 1


async def test_consumer_groups_carry_the_deployments_prefix(deployment: Deployment) -> None:
    """Two deployments on one broker never join each other's groups."""
    admin = AIOKafkaAdminClient(**deployment.kafka.options())
    await admin.start()
    try:
        groups = {group for group, _ in await admin.list_consumer_groups()}
    finally:
        await admin.close()
    ours = {group for group in groups if group.startswith(f"{deployment.prefix}-")}
    assert {f"{deployment.prefix}-{name}" for name in deployment.services} <= ours
    assert not {f"carepath-{name}" for name in deployment.services} & ours
