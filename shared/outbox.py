"""The transactional outbox: a service's state change and the events it emits are written in
one PostgreSQL transaction; a relay publishes them afterwards, in order, at least once.

A crash after publishing but before marking a row published republishes it on restart;
consumers' inboxes drop the duplicate by event id, so the effect happens once.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import structlog

from contracts import Envelope, Event
from shared.codec import encode
from shared.failpoints import failpoint

log = structlog.get_logger(__name__)

NOTIFY_CHANNEL = "carepath_outbox"
_RELAY_LOCK = 0x6F7574626F78  # one relay publishes at a time, so per-patient order holds


async def add(conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
    """Queues an event for publication, inside the caller's transaction."""
    record = encode(event, envelope)
    await conn.execute(
        "INSERT INTO outbox (event_id, topic, key, value, headers) VALUES ($1, $2, $3, $4, $5::jsonb)",
        envelope.id,
        event.topic.name,
        record.key,
        record.value,
        json.dumps(record.headers),
    )
    await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")


@dataclass(frozen=True)
class PendingEvent:
    seq: int
    topic: str
    key: bytes
    value: bytes
    headers: dict[str, str]


# Sends one event and returns a future that resolves when Kafka has acknowledged it (acks=all).
Send = Callable[[PendingEvent], Awaitable[Awaitable[object]]]


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, send: Send, *, batch_size: int = 200, poll_interval_s: float = 1.0):
        self._pool = pool
        self._send = send
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._wake = asyncio.Event()

    async def run(self) -> None:
        listener = await self._pool.acquire()
        wake = lambda *_: self._wake.set()  # noqa: E731 - asyncpg needs the same callable to remove it
        try:
            await listener.add_listener(NOTIFY_CHANNEL, wake)
            while True:
                self._wake.clear()
                published = await self._publish_batch_with_retry()
                if published < self._batch_size:
                    try:
                        await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
                    except TimeoutError:
                        pass
        finally:
            await listener.remove_listener(NOTIFY_CHANNEL, wake)
            await self._pool.release(listener)

    async def _publish_batch_with_retry(self) -> int:
        try:
            return await self.publish_batch()
        except Exception as error:  # noqa: BLE001 - the relay must outlive a broker or database outage
            log.warning("outbox.publish_failed", error=type(error).__name__)
            await asyncio.sleep(self._poll_interval_s)
            return 0

    async def publish_batch(self) -> int:
        """Publishes the oldest unpublished events; returns how many."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _RELAY_LOCK):
                return 0
            rows = await conn.fetch(
                "SELECT seq, topic, key, value, headers FROM outbox WHERE published_at IS NULL "
                "ORDER BY seq LIMIT $1",
                self._batch_size,
            )
            if not rows:
                return 0
            pending = [
                PendingEvent(row["seq"], row["topic"], row["key"], row["value"], json.loads(row["headers"]))
                for row in rows
            ]
            # Queue all, then wait for all: the idempotent producer keeps them in order per partition.
            acknowledgements = [await self._send(event) for event in pending]
            await asyncio.gather(*acknowledgements)
            failpoint("relay-after-publish")
            await conn.execute("UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])", [e.seq for e in pending])
        log.debug("outbox.published", count=len(pending))
        return len(pending)
