"""The inbox: each consumer records the ids of the events it has processed, in the same
transaction as the state change, so a redelivered event is recognised and skipped."""

from collections.abc import Mapping
from uuid import UUID

import asyncpg
from aiokafka import ConsumerRecord

from contracts import Envelope


async def claim(conn: asyncpg.Connection, consumer: str, envelope: Envelope, topic: str, partition: int, offset: int) -> bool:
    """True the first time `consumer` sees this event; False for a duplicate (and counted, so an
    operator or the soak test can see that redelivery happened and was harmless)."""
    return await claim_id(conn, consumer, envelope.source, str(envelope.id), topic, partition, offset)


async def claim_position(conn: asyncpg.Connection, consumer: str, topic: str, partition: int, offset: int) -> bool:
    """Claims a record by where it sits on the log: for records without a usable event id (a
    dead letter), so a redelivery of the same record is not dead-lettered twice."""
    return await claim_id(conn, consumer, f"kafka:{topic}", f"{partition}:{offset}", topic, partition, offset)


async def claim_id(conn: asyncpg.Connection, consumer: str, source: str, event_id: str, topic: str, partition: int, offset: int) -> bool:
    return await conn.fetchval(
        'INSERT INTO inbox (consumer, source, event_id, topic, partition, "offset") VALUES ($1, $2, $3, $4, $5, $6) '
        "ON CONFLICT (consumer, source, event_id) DO UPDATE SET redelivered = inbox.redelivered + 1 "
        "RETURNING xmax = 0",  # true when inserted, false when the row was already there
        consumer,
        source,
        event_id,
        topic,
        partition,
        offset,
    )


async def claim_all(conn: asyncpg.Connection, consumer: str, events: Mapping[tuple[str, str], ConsumerRecord]) -> set[tuple[str, str]]:
    """Claims many events, each given by (source, event id), in one statement; returns those seen
    for the first time. Each id must appear once (a statement cannot update a row twice)."""
    if not events:
        return set()
    keys, records = list(events), list(events.values())
    rows = await conn.fetch(
        'INSERT INTO inbox (consumer, source, event_id, topic, partition, "offset") '
        "SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[]) "
        "ON CONFLICT (consumer, source, event_id) DO UPDATE SET redelivered = inbox.redelivered + 1 "
        "RETURNING source, event_id, xmax = 0 AS first",
        consumer,
        [source for source, _ in keys],
        [event_id for _, event_id in keys],
        [record.topic for record in records],
        [record.partition for record in records],
        [record.offset for record in records],
    )
    return {(row["source"], row["event_id"]) for row in rows if row["first"]}


async def unclaim(conn: asyncpg.Connection, consumer: str, events: set[tuple[str, str]]) -> None:
    """Gives back claims made in this transaction for events it will not handle after all."""
    await conn.execute(
        "DELETE FROM inbox WHERE consumer = $1 AND (source, event_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))",
        consumer,
        [source for source, _ in events],
        [event_id for _, event_id in events],
    )


async def unclaim_record(conn: asyncpg.Connection, consumer: str, record: ConsumerRecord) -> None:
    """Gives back the claim of the event a record carries (by its `ce_source` and `ce_id`), if any."""
    headers = {name: (value or b"").decode("utf-8", errors="replace") for name, value in record.headers or ()}
    if "ce_source" in headers and "ce_id" in headers:
        try:
            event_id = str(UUID(headers["ce_id"]))  # as the envelope holds it, and `claim` stored it
        except ValueError:
            return  # not an id any claim was made with
        await unclaim(conn, consumer, {(headers["ce_source"], event_id)})
