"""The runtime's own tables: events parked until their prerequisite arrives, the failures
counted per record so retries stay bounded across restarts, and the dead letters still waiting
for someone to put them right. The SQL of the runtime, nothing else."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
from aiokafka import ConsumerRecord


@dataclass(frozen=True)
class Parked:
    seq: int
    topic: str
    partition: int
    offset: int
    key: str
    headers: dict[str, str]
    value: bytes
    reason: str
    attempts: int

    @property
    def kafka_headers(self) -> list[tuple[str, bytes]]:
        return [(name, text.encode()) for name, text in self.headers.items()]


async def park(
    conn: asyncpg.Connection, consumer: str, record: ConsumerRecord, headers: dict[str, str], reason: str, now: datetime
) -> None:
    await conn.execute(
        'INSERT INTO parked (consumer, topic, partition, "offset", key, headers, value, reason, parked_at) '
        "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9) ON CONFLICT DO NOTHING",
        consumer,
        record.topic,
        record.partition,
        record.offset,
        record.key.decode(),
        json.dumps(headers),
        record.value or b"",
        reason,
        now,
    )


async def waiting(conn: asyncpg.Connection, consumer: str, keys: list[str]) -> set[tuple[str, str]]:
    """(topic, key) of every parked event of these keys: a later event of the same patient on the
    same topic waits behind it, so a topic's own order is kept."""
    rows = await conn.fetch(
        "SELECT DISTINCT topic, key FROM parked WHERE consumer = $1 AND key = ANY($2::text[])", consumer, keys
    )
    return {(row["topic"], row["key"]) for row in rows}


async def take(conn: asyncpg.Connection, consumer: str, keys: list[str]) -> list[Parked]:
    """The parked events of these keys, oldest first, locked for this transaction (another
    instance replaying the same ones skips them)."""
    rows = await conn.fetch(
        'SELECT seq, topic, partition, "offset", key, headers, value, reason, attempts FROM parked '
        "WHERE consumer = $1 AND key = ANY($2::text[]) ORDER BY seq FOR UPDATE SKIP LOCKED",
        consumer,
        keys,
    )
    return [
        Parked(r["seq"], r["topic"], r["partition"], r["offset"], r["key"], json.loads(r["headers"]), r["value"], r["reason"], r["attempts"])
        for r in rows
    ]


async def keys_parked(conn: asyncpg.Connection, consumer: str, partitions: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """(key, partition number) of every event parked on these partitions."""
    rows = await conn.fetch(
        "SELECT DISTINCT key, partition FROM parked p JOIN unnest($2::text[], $3::int[]) AS owned (topic, partition) "
        "USING (topic, partition) WHERE p.consumer = $1",
        consumer,
        [topic for topic, _ in partitions],
        [partition for _, partition in partitions],
    )
    return [(row["key"], row["partition"]) for row in rows]


async def release(conn: asyncpg.Connection, seq: int) -> None:
    await conn.execute("DELETE FROM parked WHERE seq = $1", seq)


async def still_waiting(conn: asyncpg.Connection, seq: int, reason: str, failed: bool) -> None:
    await conn.execute(
        "UPDATE parked SET reason = $2, attempts = attempts + $3::int WHERE seq = $1", seq, reason, int(failed)
    )


async def overdue(conn: asyncpg.Connection, consumer: str, parked_before: datetime, now: datetime) -> list[asyncpg.Record]:
    """Parked events waiting since before `parked_before` and not reported yet; marks them reported."""
    return await conn.fetch(
        "UPDATE parked SET reported_at = $3 WHERE consumer = $1 AND parked_at < $2 AND reported_at IS NULL "
        'RETURNING topic, partition, "offset", reason, parked_at',
        consumer,
        parked_before,
        now,
    )


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    """What an operator is shown: events parked, parked too long (reported), set aside unpublished;
    the outbox's unpublished events and how long the oldest has waited (seconds)."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM parked) AS parked, (SELECT count(*) FROM parked WHERE reported_at IS NOT NULL) "
        "AS parked_too_long, (SELECT count(*) FROM outbox WHERE set_aside_at IS NOT NULL) AS set_aside, "
        "(SELECT count(*) FROM outbox WHERE set_aside_at IS NULL) AS outbox_depth, "
        "(SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 FROM outbox WHERE set_aside_at IS NULL) "
        "AS outbox_oldest_age_s, (SELECT count(*) FROM dead_letters_waiting WHERE failed_at > now() - $1::interval) "
        "AS dead_letters_waiting, (SELECT coalesce(extract(epoch FROM now() - min(failed_at)), 0)::float8 "
        "FROM dead_letters_waiting WHERE failed_at > now() - $1::interval) AS dead_letter_oldest_waiting_age_s",
        DEAD_LETTERS_KEPT,
    )
    return dict(row)


# A dead letter waits until redriven and handled, or until the dead-letter topic no longer holds
# it (the broker's default retention, which `contracts.topics.DEAD_LETTER` keeps): then nothing
# can put it right, and it stops counting.
DEAD_LETTERS_KEPT = timedelta(days=7)
# The marks `carepath deadletters redrive` puts on a record it puts back: which redrive, of which
# dead letter (its partition:offset on the dead-letter topic).
REDRIVE_ID = "carepath_redrive_id"
REDRIVE_OF = "carepath_redrive_of"


def redriven(headers: list[tuple[str, bytes | None]] | tuple | None) -> bool:
    return any(name == REDRIVE_OF for name, _ in headers or ())


async def dead_letter_waits(conn: asyncpg.Connection, consumer: str, record: ConsumerRecord, event_id: UUID | None) -> None:
    await conn.execute(
        'INSERT INTO dead_letters_waiting (consumer, topic, partition, "offset", event_id) VALUES ($1, $2, $3, $4, $5) '
        "ON CONFLICT DO NOTHING",
        consumer, record.topic, record.partition, record.offset, event_id,
    )


async def dead_letters_put_right(conn: asyncpg.Connection, consumer: str, event_id: UUID) -> None:
    """The event, redriven, is handled (or was already): its dead letters wait no more."""
    await conn.execute("DELETE FROM dead_letters_waiting WHERE consumer = $1 AND event_id = $2", consumer, event_id)


async def failed(conn: asyncpg.Connection, consumer: str, record: ConsumerRecord, error: str) -> int:
    """Counts one more failure of this record; returns the failures so far, across restarts."""
    return await conn.fetchval(
        'INSERT INTO delivery_attempts (consumer, topic, partition, "offset", attempts, last_error) '
        "VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (consumer, topic, partition, \"offset\") "
        "DO UPDATE SET attempts = delivery_attempts.attempts + 1, last_error = $5, failed_at = now() RETURNING attempts",
        consumer,
        record.topic,
        record.partition,
        record.offset,
        error,
    )


async def forget_failures(conn: asyncpg.Connection, consumer: str, record: ConsumerRecord) -> None:
    await conn.execute(
        'DELETE FROM delivery_attempts WHERE consumer = $1 AND topic = $2 AND partition = $3 AND "offset" = $4',
        consumer,
        record.topic,
        record.partition,
        record.offset,
    )
