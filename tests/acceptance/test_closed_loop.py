"""Closing the loop with the referrer on the real broker: the GP system that referred a patient
reads, as itself, each change that matters in their care (assessed, seen at home, visits missed
in a row, discharged) on `referral.status`, and nothing the patient's consent forbids; every
decision, told or not, is in the audit trail."""

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

from aiokafka import AIOKafkaConsumer

from contracts import (
    DisclosureAudited,
    EpisodeClosed,
    InformationCategory,
    ReferralStatusChanged,
    ReferrerStatus,
    VisitMissed,
    VisitScheduled,
)
from contracts.topics import REFERRAL_STATUS
from tests.acceptance.deployment import Deployment
from tests.acceptance.test_consent import consent
from tools.journey import Journey

STATUS_TYPE = ReferralStatusChanged.cloudevents_type()


async def read_as_gp_system(deployment: Deployment, referral_id: str) -> list[tuple[bytes, bytes, dict]]:
    """Every record on the status topic for one referral, read from the start by the GP system
    logged in as itself: (key, raw value, decoded value)."""
    login = deployment.kafka.as_principal("gp-system")
    consumer = AIOKafkaConsumer(
        REFERRAL_STATUS.full_name(deployment.prefix), **login.options(), group_id=f"{deployment.prefix}-gp-system",
        enable_auto_commit=False, auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        found = []
        for _ in range(5):  # a few fetches: everything published before this was called is there
            batches = await consumer.getmany(timeout_ms=1_000)
            for records in batches.values():
                for record in records:
                    value = json.loads(record.value)
                    if value.get("referral_id") == referral_id:
                        found.append((record.key, record.value, value))
        return found
    finally:
        await consumer.stop()


async def missed_twice_in_a_row(deployment: Deployment, episode_id: UUID, after: datetime) -> None:
    """The clock moved past a planned visit and then past the visit offered in its place, with
    no outcome for either: two misses in a row."""
    planned = min((v for v in deployment.log.events(VisitScheduled, lambda e: e.episode_id == episode_id)
                   if v.window_start > after), key=lambda v: v.window_start)
    try:
        deployment.move_clock(planned.window_end + timedelta(minutes=31) - datetime.now(UTC))
        await deployment.log.wait_for(VisitMissed, lambda e: e.visit_id == planned.visit_id, timeout_s=60)
        offered = await deployment.log.wait_for(VisitScheduled, lambda e: e.replaces_visit_id == planned.visit_id)
        deployment.move_clock(offered.window_end + timedelta(minutes=31) - datetime.now(UTC))
        await deployment.log.wait_for(VisitMissed, lambda e: e.visit_id == offered.visit_id, timeout_s=60)
        await deployment.log.wait_for(ReferralStatusChanged, lambda e: e.episode_id == episode_id
                                      and e.status is ReferrerStatus.VISITS_MISSED, timeout_s=60)
    finally:
        deployment.move_clock(timedelta(0))


async def test_the_referring_gp_system_reads_each_change_in_its_patients_care_as_itself(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    first = await journey.assess(accepted)
    seen = await journey.visit(first)
    await missed_twice_in_a_row(deployment, accepted.episode_id, after=first.window_end)
    closed = await journey.discharge(accepted)
    await deployment.log.wait_for(ReferralStatusChanged, lambda e: e.episode_id == accepted.episode_id
                                  and e.status is ReferrerStatus.DISCHARGED, timeout_s=60)

    read = await read_as_gp_system(deployment, accepted.referral_id)
    statuses = [value for _, _, value in read]
    assert [(s["status"], s.get("outcome"), s.get("missed_in_a_row")) for s in statuses] == [
        ("assessed", "home-treatment", None), ("first-visit", None, None), ("visits-missed", None, 2), ("discharged", None, None),
    ]
    assert {s["referring_system"] for s in statuses} == {"/trust/belfast/gp-system"}
    assert {key for key, _, _ in read} == {str(accepted.patient_id).encode()}
    assert datetime.fromisoformat(statuses[1]["happened_at"]) == seen.completed_at
    assert datetime.fromisoformat(statuses[-1]["follow_up_due_at"]) == closed.due_at
    for _, raw, _ in read:  # the referrer matches it by its own referral id: nothing identifies the person
        assert journey.patient.name.encode() not in raw
        assert journey.patient.hc_number.replace(" ", "").encode() not in raw.replace(b" ", b"")

    audits = deployment.log.events(DisclosureAudited, lambda e: e.patient_id == accepted.patient_id and e.via == STATUS_TYPE)
    assert len(audits) == 4 and all(a.permitted and a.recipient == "gp" for a in audits)


async def test_a_gp_the_patient_asked_not_to_be_told_reads_nothing_and_each_refusal_is_audited(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    assert journey.consent is not None
    await journey.publish(journey.consent, consent(accepted.patient_id, "gp", list(InformationCategory), False, do_not_tell=True))
    await deployment.settled()  # the referral service has the decision before anything is told
    first = await journey.assess(accepted)
    await journey.visit(first)
    await journey.discharge(accepted)
    await deployment.log.wait_until(lambda: len(deployment.log.events(
        DisclosureAudited, lambda e: e.patient_id == accepted.patient_id and e.via == STATUS_TYPE)) == 3, timeout_s=60)
    await deployment.settled()

    assert await read_as_gp_system(deployment, accepted.referral_id) == []
    assert deployment.log.events(ReferralStatusChanged, lambda e: e.patient_id == accepted.patient_id) == []
    refusals = deployment.log.events(DisclosureAudited, lambda e: e.patient_id == accepted.patient_id and e.via == STATUS_TYPE)
    assert [(a.recipient, a.permitted, a.disclosure_event_id) for a in refusals] == [("gp", False, None)] * 3
    assert all("not told" in a.reason for a in refusals)
    assert deployment.log.events(EpisodeClosed, lambda e: e.episode_id == accepted.episode_id), "the care itself went on"
