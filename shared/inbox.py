"""The inbox: each consumer records the ids of the events it has processed, in the same
transaction as the state change, so a redelivered event is recognised and skipped."""

import asyncpg

from contracts import Envelope


async def claim(conn: asyncpg.Connection, consumer: str, envelope: Envelope, topic: str, partition: int, offset: int) -> bool:
    """True the first time `consumer` sees this event; False for a duplicate."""
    inserted = await conn.fetchval(
        'INSERT INTO inbox (consumer, source, event_id, topic, partition, "offset") '
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true",
        consumer,
        envelope.source,
        str(envelope.id),
        topic,
        partition,
        offset,
    )
    return bool(inserted)
