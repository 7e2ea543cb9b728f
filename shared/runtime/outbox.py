"""The transactional outbox: a service's state change and the events it emits are written in
one PostgreSQL transaction; a relay publishes them afterwards, in order, at least once.

A published row is deleted (the broker keeps what was published). A crash after publishing
but before that delete republishes the row on restart;
consumers' inboxes drop the duplicate by event id, so the effect happens once. Dead letters go
the same way, so a record dead-lettered is never lost between the decision and the topic.

Size is checked twice: an event over the topics' limit is refused when queued (the handler's
input is dead-lettered instead, saying so), and an event Kafka still refuses for good is set
aside with an alert: it never holds up the events queued behind it.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import structlog
from aiokafka.errors import (
    CorruptRecordException,
    InvalidMessageError,
    InvalidTimestampError,
    InvalidTopicError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)

from contracts import DEAD_LETTER, Envelope, Event
from contracts.topics import MAX_EVENT_BYTES
from shared.runtime import metrics, tracing
from shared.runtime.codec import encode
from shared.runtime.errors import InvalidEvent
from shared.runtime.failpoints import failpoint

log = structlog.get_logger(__name__)

NOTIFY_CHANNEL = "carepath_outbox"
_RELAY_LOCK = 0x6F7574626F78  # one relay publishes at a time, so per-patient order holds
# Errors that no retry will mend: the event is set aside rather than retried for ever.
_PERMANENT = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    InvalidTopicError,
    CorruptRecordException,
    InvalidMessageError,
    InvalidTimestampError,
)
_INSERT = (
    "WITH queued AS (INSERT INTO outbox (event_id, topic, key, value, headers) VALUES ($1, $2, $3, $4, $5::jsonb)) "
    f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')"
)
# Many events in one statement, queued (and so numbered and published) in the order given.
_INSERT_ALL = (
    "WITH queued AS (INSERT INTO outbox (event_id, topic, key, value, headers) "
    "SELECT event_id, topic, key, value, headers::jsonb "
    "FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::bytea[], $5::text[]) "
    "WITH ORDINALITY AS queued (event_id, topic, key, value, headers, n) ORDER BY n) "
    f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')"
)


class EventTooLarge(InvalidEvent):
    """A handler would emit an event over the topics' size limit: its input is dead-lettered."""


async def add(conn: asyncpg.Connection, *queued: tuple[Event, Envelope]) -> None:
    """Queues events for publication, in order, inside the caller's transaction (one statement)."""
    rows = []
    for event, envelope in queued:
        record = encode(event, envelope)
        if record.size > MAX_EVENT_BYTES:
            raise EventTooLarge(
                f"handling it would emit {envelope.type} of {record.size} bytes, over the {MAX_EVENT_BYTES}-byte limit"
            )
        rows.append((envelope.id, event.topic.name, record.key, record.value, json.dumps(record.headers)))
    if len(rows) == 1:
        await conn.execute(_INSERT, *rows[0])
    elif rows:
        await conn.execute(_INSERT_ALL, *(list(column) for column in zip(*rows)))


async def add_dead_letter(conn: asyncpg.Connection, event_id: object, key: bytes | None, value: bytes | None, headers: dict[str, str]) -> None:
    """Queues a record for the dead-letter topic exactly as it arrived, inside the caller's transaction."""
    await conn.execute(_INSERT, event_id, DEAD_LETTER.name, key, value or b"", json.dumps(headers))


@dataclass(frozen=True)
class PendingEvent:
    seq: int
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, str]


# Sends one event and returns a future that resolves when Kafka has acknowledged it (acks=all).
Send = Callable[[PendingEvent], Awaitable[Awaitable[object]]]


class OutboxRelay:
    """Publishes the outbox in order. One relay at a time does so, across every instance of the
    service: it holds a session advisory lock on a connection of its own for as long as it runs,
    and the others wait to take it over (a relay that dies or loses its connection lets it go).
    Holding it for good, rather than per batch, spares every batch a transaction and a lock."""

    def __init__(self, pool: asyncpg.Pool, send: Send, *, batch_size: int = 500, poll_interval_s: float = 1.0):
        self._pool = pool
        self._send = send
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._wake = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                await self._relay()
            except Exception as error:  # noqa: BLE001 - the relay must outlive a broker or database outage
                log.warning("outbox.publish_failed", error=type(error).__name__)
                await asyncio.sleep(self._poll_interval_s)

    async def _relay(self) -> None:
        wake = lambda *_: self._wake.set()  # noqa: E731 - asyncpg needs the same callable to remove it
        async with self._pool.acquire() as conn:
            try:
                # Should this instance vanish without closing its connection (a network cut), the
                # server drops the session, and with it the lock, within half a minute.
                await conn.execute("SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3")
                while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK):
                    await asyncio.sleep(self._poll_interval_s)  # another instance's relay is publishing
                await conn.add_listener(NOTIFY_CHANNEL, wake)
                while True:
                    self._wake.clear()
                    if await self.publish_batch(conn) < self._batch_size:
                        try:
                            await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
                        except TimeoutError:
                            pass
            finally:
                if not conn.is_closed():
                    await self._let_go(conn, wake)

    @staticmethod
    async def _let_go(conn: asyncpg.Connection, wake: Callable[..., None]) -> None:
        """The lock is the session's: unlocked here, since the pool keeps the session as it is."""
        try:
            await conn.remove_listener(NOTIFY_CHANNEL, wake)
            await conn.execute("SELECT pg_advisory_unlock($1)", _RELAY_LOCK)
        except Exception:  # noqa: BLE001 - a broken connection is closed by the pool, and its lock with it
            conn.terminate()

    async def publish_batch(self, conn: asyncpg.Connection) -> int:
        """Publishes the oldest unpublished events; returns how many it settled (published or set
        aside). `conn` holds the relay lock; each statement commits on its own."""
        rows = await conn.fetch(
            "SELECT seq, topic, key, value, headers FROM outbox WHERE set_aside_at IS NULL "
            "ORDER BY seq LIMIT $1",
            self._batch_size,
        )
        if not rows:
            return 0
        pending = [PendingEvent(row["seq"], row["topic"], row["key"], row["value"], json.loads(row["headers"])) for row in rows]
        # Each event's PRODUCER span, its traceparent put on the record in place of its handler's.
        # A dead letter keeps the headers it arrived with (redriven, it continues its own trace).
        spans = [tracing.publishing(event.topic, event.headers) if event.topic != DEAD_LETTER.name else None for event in pending]
        # Queue all, then wait for all: the idempotent producer keeps them in order per partition.
        outcomes = await asyncio.gather(*[await self._queue(event) for event in pending], return_exceptions=True)
        for span, outcome in zip(spans, outcomes):
            if span is not None:
                tracing.sent(span, outcome if isinstance(outcome, BaseException) else None)
        failpoint("relay-after-publish")
        published = [event.seq for event, outcome in zip(pending, outcomes) if not isinstance(outcome, BaseException)]
        set_aside = [(event, outcome) for event, outcome in zip(pending, outcomes) if isinstance(outcome, _PERMANENT)]
        await conn.execute("DELETE FROM outbox WHERE seq = ANY($1::bigint[])", published)
        for event, outcome in zip(pending, outcomes):
            if not isinstance(outcome, BaseException) and event.topic != DEAD_LETTER.name:
                metrics.published(event.headers.get("ce_type"))
        for event, error in set_aside:
            await conn.execute("UPDATE outbox SET set_aside_at = now(), failure = $2 WHERE seq = $1", event.seq, type(error).__name__)
            log.error(
                "outbox.event_set_aside",
                seq=event.seq,
                topic=event.topic,
                event_type=event.headers.get("ce_type"),
                event_id=event.headers.get("ce_id"),
                error=type(error).__name__,
                bytes=len(event.value),
            )
        settled = len(published) + len(set_aside)
        if settled < len(pending):
            retried = next(o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, _PERMANENT))
            raise retried  # the rest are retried after a pause
        log.debug("outbox.published", count=len(published))
        return settled

    async def _queue(self, event: PendingEvent) -> Awaitable[object]:
        """The acknowledgement to wait for; an error raised while queueing (too large, say) is
        returned as a finished future, so one bad event never stops the others being queued."""
        try:
            return await self._send(event)
        except Exception as error:  # noqa: BLE001 - judged with the other outcomes
            failed: asyncio.Future[object] = asyncio.get_running_loop().create_future()
            failed.set_exception(error)
            return failed
