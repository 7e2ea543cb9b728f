"""Each partition's share of the work goes ahead on its own, on the real broker: a backlog on one
partition (a Trust system resending a day's referrals, a service restarted behind) does not hold
up the events waiting on the others."""

import asyncio
from uuid import uuid4

from aiokafka import AIOKafkaProducer

from contracts import ReferralSubmitted
from contracts.topics import REFERRAL_INBOUND, TOPICS
from shared.runtime import db
from shared.runtime.clock import SystemClock
from shared.runtime.codec import encode
from shared.runtime.consumer import ReliableConsumer
from shared.runtime.loop import KafkaLoop
from shared.runtime.context import HandlerContext
from shared.runtime.kafka import create_topics
from tests.acceptance.conftest import BOOTSTRAP
from tests.acceptance.deployment import delete_topics
from tests.factories import envelope_for, referral

BACKLOG = 2_000
BATCH = 100
SLOW_S = 0.002  # each event takes a little handling, as a real one does


async def test_a_backlog_on_one_partition_does_not_hold_up_another_partitions_events(scratch_database: str) -> None:
    prefix = f"test-parallel-{uuid4().hex[:8]}"
    await create_topics(BOOTSTRAP, prefix)
    pool = await db.create_pool(scratch_database)
    handled: list[str] = []

    async def on_referral(ctx: HandlerContext, submitted: ReferralSubmitted) -> None:
        await asyncio.sleep(SLOW_S)
        handled.append(submitted.referral_id)

    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS])
        await _publish(prefix, [(0, f"BACKLOG-{n}") for n in range(BACKLOG)] + [(3, "WAITING-ALONE")])
        consumer = ReliableConsumer(group=f"{prefix}-group", pool=pool, handlers={ReferralSubmitted: on_referral},
                                    topic_prefix=prefix, clock=SystemClock(), source="/carepath/test")
        loop = KafkaLoop(consumer, BOOTSTRAP, batch_size=BATCH)
        await loop.start()
        running = asyncio.create_task(loop.run())
        try:
            for _ in range(600):
                if "WAITING-ALONE" in handled:
                    break
                await asyncio.sleep(0.05)
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            await loop.stop()
    finally:
        await pool.close()
        await delete_topics(BOOTSTRAP, [topic.full_name(prefix) for topic in TOPICS])
    assert "WAITING-ALONE" in handled, "the event alone on its partition was never handled"
    ahead = handled.index("WAITING-ALONE")
    assert ahead < 2 * BATCH, f"the event alone on its partition waited behind {ahead:,} of the other partition's backlog"


async def _publish(prefix: str, referrals: list[tuple[int, str]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for partition, referral_id in referrals:
            event = referral(referral_id=referral_id)
            record = encode(event, envelope_for(event))
            await producer.send(
                REFERRAL_INBOUND.full_name(prefix),
                record.value,
                key=record.key,
                partition=partition,
                headers=[(name, text.encode()) for name, text in record.headers.items()],
            )
        await producer.flush()
    finally:
        await producer.stop()
