"""The yardstick: the least a reliable relay must do per message, one message at a time, on
the same broker and PostgreSQL as carepath. For each record: one transaction writing an inbox
row and an outbox row, one record produced (idempotent producer, acks=all) and its ack awaited,
then the offset committed. Whatever carepath's services add on top (decoding, validation, the
domain, their own tables) should be paid for by doing more than one message at a time."""

import asyncio
import json
import time
from dataclasses import dataclass
from uuid import uuid4

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from contracts.topics import REFERRAL_INBOUND
from shared.runtime.codec import KafkaRecord
from shared.runtime.db import connect_options
from tests.acceptance.deployment import recreate_databases
from tests.acceptance.deployment import delete_topics
from tests import logins
from tests.bench.harness import PG_SERVER
from tests.bench.load import preload

TABLES = """
CREATE TABLE inbox (event_id text PRIMARY KEY, topic text NOT NULL, partition int NOT NULL, "offset" bigint NOT NULL);
CREATE TABLE outbox (seq bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, topic text NOT NULL,
                     key bytea NOT NULL, value bytea NOT NULL, headers jsonb NOT NULL);
"""


@dataclass(frozen=True)
class RelayResult:
    messages: int
    seconds: float  # first record received to last offset committed

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


async def minimal_relay(records: list[KafkaRecord], timeout_s: float = 300) -> RelayResult:
    """Pre-loads `records` on a topic of its own, then relays them one at a time."""
    run = uuid4().hex[:8]
    prefix = f"bench-{run}"
    source, target = f"{prefix}.relay.in", f"{prefix}.relay.out"
    database = f"carepath_bench_{run}_relay"
    admin = AIOKafkaAdminClient(**logins.admin().options(), client_id="carepath-bench")
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, num_partitions=REFERRAL_INBOUND.partitions, replication_factor=1) for name in (source, target)]
        )
    finally:
        await admin.close()
    await recreate_databases(PG_SERVER, [database])
    try:
        await preload(prefix, "relay.in", records, source="/bench/admin")  # the bench's own topics: only the admin may
        conn = await asyncpg.connect(f"{PG_SERVER}/{database}", **connect_options(PG_SERVER))
        try:
            await conn.execute(TABLES)
            async with asyncio.timeout(timeout_s):
                return await _relay(conn, source, target, len(records))
        finally:
            await conn.close()
    finally:
        await recreate_databases(PG_SERVER, [database], create=False)
        await delete_topics(logins.admin(), [source, target])


async def _relay(conn: asyncpg.Connection, source: str, target: str, expected: int) -> RelayResult:
    consumer = AIOKafkaConsumer(
        source, **logins.admin().options(), group_id=f"{source}-relay", enable_auto_commit=False, auto_offset_reset="earliest"
    )
    producer = AIOKafkaProducer(**logins.admin().options(), enable_idempotence=True, acks="all")
    await consumer.start()
    await producer.start()
    try:
        started = None
        for _ in range(expected):
            record = await consumer.getone()
            started = started or time.perf_counter()
            headers = {name: value.decode() for name, value in record.headers}
            async with conn.transaction():
                await conn.execute(
                    'INSERT INTO inbox (event_id, topic, partition, "offset") VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
                    headers["ce_id"], record.topic, record.partition, record.offset,
                )
                await conn.execute(
                    "INSERT INTO outbox (event_id, topic, key, value, headers) VALUES ($1, $2, $3, $4, $5::jsonb)",
                    uuid4(), target, record.key, record.value, json.dumps(headers),
                )
            await producer.send_and_wait(target, record.value, key=record.key, headers=list(record.headers))
            await consumer.commit({TopicPartition(record.topic, record.partition): record.offset + 1})
        assert started is not None
        return RelayResult(expected, time.perf_counter() - started)
    finally:
        await producer.stop()
        await consumer.stop()
