"""`python -m tests.bench.board_rebuild`: `carepath board rebuild` on a log of N whole journeys
(10,000 by default), beside a yardstick measured on the same broker in the same run: a plain
consumer reading and decoding the same records with no database at all. Prints the rebuild's
events/s and journeys/s and its ratio to the yardstick.

The journeys' events are written straight onto a deployment of its own, as the four services
would have published them (referral accepted, assessment started and completed, a plan, seven
visits of which five are seen and one missed, the discharge and its follow-up), so what is
measured is the board's rebuild alone, not the services that would have made the log."""

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import (
    AssessmentCompleted,
    AssessmentStarted,
    CarePlanAgreed,
    Envelope,
    EpisodeClosed,
    Event,
    FollowUpCompleted,
    Pathway,
    ReferralAccepted,
    ReferralSource,
    Trust,
    Urgency,
    VisitCompleted,
    VisitMissed,
    VisitScheduled,
)
from contracts.access import principal
from contracts.topics import TOPICS
from services.board.settings import Settings
from shared.runtime.codec import KafkaRecord, decode_record, encode
from tests import logins
from tests.acceptance.deployment import recreate_databases, service_env
from tests.bench.harness import BOOTSTRAP, PG_SERVER, environment
from tools.board import rebuild
from tools.trust import TrustSystem

SOURCES = {"referral": "/carepath/referral", "assessment": "/carepath/assessment", "scheduling": "/carepath/scheduling",
           "discharge": "/carepath/discharge"}


def journey(rng: random.Random, start: datetime) -> list[tuple[str, Event]]:
    """One patient's journey as the services publish it, each event with the service that did."""
    patient, episode = uuid4(), uuid4()
    trust = rng.choice(list(Trust))
    accepted_at = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 14))
    ids = {"patient_id": patient, "episode_id": episode}
    events: list[tuple[str, Event]] = [
        ("referral", ReferralAccepted(referral_id=f"GP-BENCH-{uuid4().hex[:12]}", trust=trust, source=ReferralSource.GP,
                                      urgency=Urgency.VERY_URGENT, accepted_at=accepted_at, assess_by=accepted_at + timedelta(hours=4),
                                      **ids)),
        ("assessment", AssessmentStarted(started_at=accepted_at + timedelta(minutes=rng.randrange(20, 300)), **ids)),
        ("assessment", AssessmentCompleted(assessment_id=uuid4(), outcome=Pathway.HOME_TREATMENT, trust=trust,
                                           assessed_at=accepted_at + timedelta(hours=5), assessment_version=1, **ids)),
        ("scheduling", CarePlanAgreed(key_worker="staff-0001", core_team=("staff-0001", "staff-0002"), visits_first_week=7,
                                      visits_per_week_after=5, planned_minutes=60, required_skills=(),
                                      agreed_at=accepted_at + timedelta(hours=5), **ids)),
    ]
    for day in range(7):
        visit = uuid4()
        opens = accepted_at + timedelta(days=day + 1)
        events.append(("scheduling", VisitScheduled(visit_id=visit, window_start=opens, window_end=opens + timedelta(hours=1),
                                                    planned_minutes=60, staff_id=f"staff-000{1 + day % 2}", **ids)))
        if day < 5:
            events.append(("scheduling", VisitCompleted(visit_id=visit, actual_minutes=55, completed_at=opens + timedelta(minutes=50),
                                                        **ids)))
        elif day == 5:
            events.append(("scheduling", VisitMissed(visit_id=visit, staff_id="staff-0002", window_end=opens + timedelta(hours=1),
                                                     detected_at=opens + timedelta(hours=1, minutes=31), **ids)))
    closed_at = accepted_at + timedelta(days=8)
    events.append(("discharge", EpisodeClosed(visits_completed=5, closed_at=closed_at, **ids)))
    events.append(("discharge", FollowUpCompleted(patient_id=patient, followup_id=uuid4(), contact_at=closed_at + timedelta(hours=30),
                                                  within_target=True)))
    return events


def as_record(service: str, event: Event) -> KafkaRecord:
    envelope = Envelope(id=uuid4(), source=SOURCES[service], type=event.cloudevents_type(), time=datetime.now(UTC),
                        subject=event.key, correlationid=uuid4())
    return encode(event, envelope)


async def publish(prefix: str, records: list[tuple[str, str, KafkaRecord]], chunk: int = 2000) -> None:
    """Each service's events written as that service (its principal), a patient's in their order."""
    for service, source in SOURCES.items():
        mine = [(topic, r) for by, topic, r in records if by == service]
        async with TrustSystem(logins.admin(), prefix, source) as writer:
            for start in range(0, len(mine), chunk):
                await asyncio.gather(*(writer.publish_raw(topic, r.key, r.value, r.headers) for topic, r in mine[start:start + chunk]))


async def plain_read(prefix: str, total: int) -> float:
    """The yardstick: every record read from the start and decoded, nothing else; events/s."""
    partitions = [TopicPartition(topic.full_name(prefix), p) for topic in TOPICS if topic in principal("board").reads
                  for p in range(topic.partitions)]
    consumer = AIOKafkaConsumer(**logins.admin().options(), group_id=None, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        began, seen = time.monotonic(), 0
        while seen < total:
            for batch in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values():
                for record in batch:
                    decode_record(record.headers, record.key, record.value)
                seen += len(batch)
        return seen / (time.monotonic() - began)
    finally:
        await consumer.stop()


async def run(journeys: int) -> None:
    rng = random.Random(15)
    prefix = f"benchboard-{uuid4().hex[:8]}"
    database = f"carepath_{prefix.replace('-', '_')}_board"
    await logins.open_deployment(prefix)
    await recreate_databases(PG_SERVER, [database])
    try:
        start = datetime.now(UTC) - timedelta(days=30)
        records = [(service, event.topic.name, as_record(service, event)) for _ in range(journeys) for service, event in journey(rng, start)]
        print(f"board rebuild: {journeys:,} journeys, {len(records):,} events; publishing them")
        await publish(prefix, records)
        yardstick = await plain_read(prefix, len(records))
        print(f"  yardstick (read and decode only): {yardstick:,.0f} events/s")
        env = service_env("board", BOOTSTRAP, prefix, f"{PG_SERVER}/{database}", Path(tempfile.gettempdir()) / "no-clock-offset",
                          test_hooks=False)
        with environment(env | {"CAREPATH_LOG_FORMAT": "console"}):
            settings = Settings()
        total, seconds = await rebuild(settings)
        rate = total / seconds
        print(f"  carepath board rebuild: {total:,} events in {seconds:.1f} s: {rate:,.0f} events/s, "
              f"{journeys / seconds:,.1f} journeys/s; {rate / yardstick:.2f}x the yardstick")
    finally:
        await recreate_databases(PG_SERVER, [database], create=False)
        await logins.close_deployment(prefix)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.board_rebuild", description=__doc__)
    parser.add_argument("--journeys", type=int, default=10_000)
    import logging

    from shared.runtime.logs import configure_logging

    configure_logging("board", "console", level=logging.WARNING)
    asyncio.run(run(parser.parse_args().journeys))


if __name__ == "__main__":
    main()
