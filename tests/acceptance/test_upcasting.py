"""A sender still on an old version keeps working, on the real broker: a consumer written for the
newest version of an event handles one sent in the oldest, once, and dead-letters with the
reason one the old version's schema refuses, then goes on."""

import asyncio
import json
from uuid import uuid4

from aiokafka import AIOKafkaProducer

from contracts.topics import TOPICS, VISIT_OUTCOMES
from shared.runtime import db
from shared.runtime.clock import SystemClock
from shared.runtime.consumer import ReliableConsumer
from shared.runtime.context import HandlerContext
from shared.runtime.kafka import create_topics
from shared.runtime.loop import KafkaLoop
from tests import logins
from tests.acceptance.deployment import delete_topics
from tests.acceptance.loops import running, until
from tests.unit.test_upcasting import record_of
from tests.versions import example_versions


async def test_a_consumer_of_the_newest_version_handles_an_event_sent_in_the_oldest_and_refuses_one_the_old_schema_refuses(
    scratch_database: str,
) -> None:
    prefix = f"test-upcast-{uuid4().hex[:8]}"
    await create_topics(logins.admin(), prefix)
    pool = await db.create_pool(scratch_database)
    producer = AIOKafkaProducer(**logins.admin().options(), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS])
        with example_versions() as versions:
            handled = []

            async def on_noted(ctx: HandlerContext, noted) -> None:  # noqa: ANN001 - the test's own event
                handled.append(noted)

            consumer = ReliableConsumer(group=f"{prefix}-group", pool=pool, handlers={versions.v3: on_noted},
                                        topic_prefix=prefix, clock=SystemClock(), source="/carepath/test")
            old = versions.v1(patient_id=uuid4(), minutes=30)
            headers, key, value = record_of(old)
            refused_headers, refused_key, _ = record_of(versions.v1(patient_id=uuid4(), minutes=1))
            topic = VISIT_OUTCOMES.full_name(prefix)
            async with running(KafkaLoop(consumer, logins.admin(), batch_size=100)):
                await producer.send_and_wait(topic, b'{"patient_id": "%s", "minutes": -5}' % refused_key, key=refused_key,
                                             headers=refused_headers)
                for _ in range(2):  # sent twice: handled once
                    await producer.send_and_wait(topic, value, key=key, headers=headers)
                await until(lambda: len(handled) == 1, 30)
                await asyncio.sleep(1)
            dead = await pool.fetch("SELECT headers FROM outbox WHERE topic = 'deadletter'")
        assert [type(event) for event in handled] == [versions.v3]
        assert handled[0].seconds == 1800 and handled[0].patient_id == old.patient_id
        claims = await pool.fetch("SELECT redelivered FROM inbox WHERE source = '/trust/belfast/staff-app' AND event_id = $1",
                                  dict(headers)["ce_id"].decode())
        assert len(claims) == 1, "the event is claimed once, under the id it was sent with"
        reasons = [json.loads(row["headers"])["dlq_reason"] for row in dead]
        assert reasons == ["invalid carepath.test.example-noted.v1: minutes: greater_than_equal"]
    finally:
        await producer.stop()
        await pool.close()
        await delete_topics(logins.admin(), [topic.full_name(prefix) for topic in TOPICS])
