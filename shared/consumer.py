"""How every service consumes: decode, dedupe, handle in one transaction, retry, dead-letter.

For each Kafka record, in order:
1. decode the CloudEvents envelope and validate the event; a record that cannot be decoded
   goes to the dead-letter topic at once (an unknown event type only on a topic Trust systems
   publish to: on carepath's own topics it is a newer event this reader may skip);
2. in one PostgreSQL transaction, claim the event id in the inbox (a duplicate is skipped),
   then run the handler, which changes state and queues events in the outbox;
3. on failure retry with exponential backoff, a bounded number of times, then dead-letter;
4. only then is the offset committed (FastStream's ack after the handler returns), so a crash
   anywhere before the commit means redelivery, and the inbox makes redelivery harmless.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import structlog
from aiokafka import ConsumerRecord

from contracts import DEAD_LETTER, Envelope, Event
from shared import inbox, outbox
from shared.clock import Clock
from shared.codec import Undecodable, UnknownEventType, decode, headers_to_dict
from shared.errors import InvalidEvent, NotYetKnown
from shared.failpoints import failpoint

log = structlog.get_logger(__name__)


@dataclass
class HandlerContext:
    """What a handler (or a periodic job) gets besides the event: the open transaction, the
    clock, and `emit`, which queues events in the outbox inside that transaction."""

    conn: asyncpg.Connection
    clock: Clock
    source: str
    envelope: Envelope | None = None  # the event being handled; None in a periodic job

    async def emit(
        self, *events: Event, correlation_id: UUID | None = None, causation_id: UUID | None = None
    ) -> list[Envelope]:
        """Events caused by the one being handled carry its correlation id and its id as cause."""
        incoming = self.envelope
        correlation = correlation_id or (incoming.correlationid if incoming else uuid4())
        causation = causation_id or (incoming.id if incoming else None)
        envelopes = []
        for event in events:
            envelope = Envelope(
                id=uuid4(),
                source=self.source,
                type=event.cloudevents_type(),
                time=self.clock.now(),
                subject=event.key,
                correlationid=correlation,
                causationid=causation,
            )
            await outbox.add(self.conn, event, envelope)
            envelopes.append(envelope)
        return envelopes


Handler = Callable[[HandlerContext, Any], Awaitable[None]]
# Publishes (topic, key, value, headers) and returns once Kafka has acknowledged it.
Publish = Callable[[str, bytes | None, bytes | None, dict[str, str]], Awaitable[None]]


NOT_YET_KNOWN_POLL_S = 0.5


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay_s: float = 0.2
    max_delay_s: float = 5.0
    not_yet_known_wait_s: float = 30.0

    def delay(self, attempt: int) -> float:
        return min(self.base_delay_s * 2 ** (attempt - 1), self.max_delay_s)


class ReliableConsumer:
    def __init__(
        self,
        *,
        group: str,
        pool: asyncpg.Pool,
        handlers: Mapping[type[Event], Handler],
        publish: Publish,
        topic_prefix: str,
        clock: Clock,
        source: str,
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.group = group
        self._pool = pool
        self._handlers = handlers
        self._publish = publish
        self._topic_prefix = topic_prefix
        self._dead_letter_topic = DEAD_LETTER.full_name(topic_prefix)
        self._inbound_topics = {cls.topic.full_name(topic_prefix) for cls in handlers if cls.topic.inbound}
        self._clock = clock
        self._source = source
        self._retry = retry

    @property
    def topics(self) -> list[str]:
        return sorted({cls.topic.full_name(self._topic_prefix) for cls in self._handlers})

    async def process(self, record: ConsumerRecord) -> None:
        origin = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
        try:
            envelope, event = decode(headers_to_dict(record.headers), record.value)
        except UnknownEventType as error:
            if record.topic in self._inbound_topics:
                await self._dead_letter(record, error.reason)
            else:
                log.warning("event.unknown_type_skipped", **origin)
            return
        except Undecodable as error:
            await self._dead_letter(record, error.reason)
            return
        handler = self._handlers.get(type(event))
        if handler is None:
            return  # another service's event on a topic we read: not ours to handle
        with structlog.contextvars.bound_contextvars(
            event_id=str(envelope.id), correlation_id=str(envelope.correlationid), event_type=envelope.type, **origin
        ):
            await self._handle_with_retries(record, envelope, event, handler)

    async def _handle_with_retries(self, record: ConsumerRecord, envelope: Envelope, event: Event, handler: Handler) -> None:
        attempt, waited = 1, 0.0
        while True:
            try:
                handled = await self._handle_once(record, envelope, event, handler)
            except InvalidEvent as error:
                await self._dead_letter(record, f"rejected: {error.reason}")
                return
            except NotYetKnown as error:
                if waited >= self._retry.not_yet_known_wait_s:
                    await self._dead_letter(record, f"rejected after waiting {waited:.0f}s: {error.reason}")
                    return
                log.info("event.waiting_for_prerequisite", waited_s=round(waited, 1))
                await asyncio.sleep(NOT_YET_KNOWN_POLL_S)
                waited += NOT_YET_KNOWN_POLL_S
                continue
            except Exception as error:  # noqa: BLE001 - any failure is retried, then dead-lettered
                reason = f"handler failed: {type(error).__name__}"
                if attempt == self._retry.max_attempts:
                    await self._dead_letter(record, f"{reason} after {attempt} attempts")
                    return
                log.warning("event.retrying", attempt=attempt, error=type(error).__name__)
                await asyncio.sleep(self._retry.delay(attempt))
                attempt += 1
                continue
            log.info("event.processed" if handled else "event.duplicate_skipped")
            return

    async def _handle_once(self, record: ConsumerRecord, envelope: Envelope, event: Event, handler: Handler) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            if not await inbox.claim(conn, self.group, envelope, record.topic, record.partition, record.offset):
                return False
            await handler(HandlerContext(conn, self._clock, self._source, envelope), event)
        failpoint("after-inbox-commit")
        return True

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        headers = headers_to_dict(record.headers)
        headers.update(
            {
                "dlq_reason": reason,
                "dlq_consumer": self.group,
                "dlq_original_topic": record.topic,
                "dlq_original_partition": str(record.partition),
                "dlq_original_offset": str(record.offset),
                "dlq_failed_at": datetime.now(UTC).isoformat(),
            }
        )
        await self._publish(self._dead_letter_topic, record.key, record.value, headers)
        log.error(
            "event.dead_lettered",
            reason=reason,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            dead_letter_topic=self._dead_letter_topic,
        )
