"""How every service consumes: in batches, each partition at once, nothing waiting in line.

Each partition number has a lane of its own (`loop.KafkaLoop`): it fetches a batch of that
partition of every topic and hands it over, at its own pace, so one partition's backlog or slow
batch never holds up the rest. A patient's events share the number on every topic, so one
patient's events are handled one batch at a time; each batch is handled in one PostgreSQL
transaction of its own:
1. a record that cannot be decoded or validated (any error at all, any header) is dead-lettered
   through the outbox with a reason; an event this service does not handle is skipped unread;
2. each event gets a savepoint: claim its id in the inbox (a duplicate is skipped), run the
   handler, which changes state and queues events in the outbox;
3. an event whose prerequisite has not arrived (`NotYetKnown`) is parked in the database, with
   its inbox claim, and replayed when another event of the same patient has been handled (or
   by the sweep, which takes turns with the batches): it never holds up the partition, and is
   never dead-lettered for lateness;
   a later event of that patient on the same topic waits behind it, so a topic's order holds;
4. an event the handler rejects (`InvalidEvent`) is dead-lettered; any other failure is retried
   with backoff, counted in the database so the bound holds across restarts, then dead-lettered;
5. only after the transaction commits are the batch's offsets committed (by `loop.KafkaLoop`), in
   the background and at most every `commit_interval_s` for all the batches handled since. A crash anywhere before
   that means redelivery, and the inbox makes redelivery harmless. If the
   transaction itself fails (the database is down), the partitions are rewound and retried.
"""

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import partial
from uuid import UUID, uuid4

import asyncpg
import structlog
from aiokafka import ConsumerRecord

from contracts import Envelope, Event
from contracts.base import defined_events
from contracts.upcasting import newest
from shared.runtime import inbox, metrics, outbox, parking, tracing
from shared.runtime.clock import Clock
from shared.runtime.context import Contexts, Handler
from shared.runtime.codec import Undecodable, decode_record, event_type_of, headers_to_dict
from shared.runtime.errors import InvalidEvent, NotYetKnown
from shared.runtime.failpoints import failpoint

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay_s: float = 0.2
    max_delay_s: float = 5.0

    def delay(self, attempt: int) -> float:
        return min(self.base_delay_s * 2 ** (attempt - 1), self.max_delay_s)


class _HandlerFailed(Exception):
    """A handler failed on the quick way through a batch: the batch goes the careful way."""


class Outcome(Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    PARKED = "parked"
    DEAD_LETTERED = "dead-lettered"


@dataclass(frozen=True)
class Incoming:
    """A record after a first look: to handle (envelope, event, handler), or to dead-letter (reason)."""

    record: ConsumerRecord
    envelope: Envelope | None = None
    event: Event | None = None
    handler: Handler | None = None
    reason: str | None = None

    @property
    def key(self) -> str:
        return self.envelope.subject if self.envelope else ""


# Errors that are the batch's, not the record's: the database connection gone, or a deadlock or
# serialization failure (which the locks of other events in the same transaction may have
# caused). The whole batch is rewound and retried after a pause, no record is counted as failing.
_RETRY_THE_BATCH = (asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.InterfaceError,
                    asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.CannotConnectNowError,
                    asyncpg.exceptions.TransactionRollbackError, OSError)


def _event_id(text: str | None) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


def _type_of(item: Incoming) -> str:
    """The event's type, as a metric label: carepath's own types only."""
    return item.envelope.type if item.envelope else "undecodable"


class ReliableConsumer:
    """One consumer group of a service: its handlers and the delivery rules above."""

    # Longer than most classes here (about 270 lines) for a reason: a record's claim, handler,
    # parking, replay and dead letter share one transaction and its savepoints, and the rules
    # above are read in one place; split, one record's path would run through several files.

    def __init__(
        self,
        *,
        group: str,
        pool: asyncpg.Pool,
        handlers: Mapping[type[Event], Handler],
        topic_prefix: str,
        clock: Clock,
        source: str,
        retry: RetryPolicy = RetryPolicy(),
        contexts: Contexts | None = None,  # the service's store, dependencies and privacy store in each context
    ) -> None:
        self.group = group
        self._pool = pool
        self._handlers = handlers
        # Each type it handles, and every older version of one (read as the newest: `contracts.upcasting`).
        self._types = {kind.cloudevents_type(): kind for kind in defined_events().values() if newest(kind) in handlers}
        self._prefix = topic_prefix
        self._inbound_topics = {cls.topic.full_name(topic_prefix) for cls in handlers if cls.topic.inbound}
        self._clock = clock
        self._contexts = contexts or Contexts(clock, source)
        self._retry = retry
        # Whether any event may be parked here: while none is, a batch skips the two queries
        # about parked events. Set as an event is parked and at every assignment; cleared by a
        # sweep that found none parked, unless parking changed while it looked: a park begun, a
        # transaction that parked ended (its commit perhaps later than the sweep's snapshot), an
        # assignment; nor while a transaction that parked is still open.
        self._parked_maybe = True
        self._parking_changes = 0
        self._parking_open: set[int] = set()  # connections whose open transaction has parked
        self._uncounted: dict[int, list[Callable[[], None]]] = {}  # metrics of open transactions, by connection

    @property
    def topics(self) -> list[str]:
        return sorted({cls.topic.full_name(self._prefix) for cls in self._handlers})

    def triage(self, record: ConsumerRecord) -> Incoming | None:
        """None for an event this consumer does not handle (read from its header alone); else the
        decoded event, or the reason it goes to the dead-letter topic."""
        type_name = event_type_of(record.headers)
        if type_name not in self._types and record.topic not in self._inbound_topics:
            return None  # another service's event, or a newer one, on carepath's own topics
        try:
            envelope, event = decode_record(record.headers, record.key, record.value)
        except Undecodable as error:
            return Incoming(record, reason=error.reason)
        expected = event.topic.full_name(self._prefix)
        if record.topic != expected:
            return Incoming(record, reason=f"{envelope.type} belongs on {event.topic.name}, not on this topic")
        handler = self._handlers.get(type(event))
        return Incoming(record, envelope, event, handler) if handler else None

    async def handle_batch(self, records: Iterable[ConsumerRecord], received_at: float) -> dict[Outcome, int]:
        """Handles one partition's share of a batch, in one transaction (or a few, when a handler
        asks to commit soon); returns what became of it.

        First the quick way: the batch's ids claimed in the inbox in one statement and no
        savepoints. Should any handler fail, that transaction is rolled back whole and the batch is
        handled again the careful way, each event in a savepoint of its own, so the failure is
        isolated to its event (parked, dead-lettered or retried)."""
        rest = [item for item in map(self.triage, records) if item is not None]
        tally: dict[Outcome, int] = defaultdict(int)
        while rest:
            try:
                used, counts = await self._handle_all(rest, received_at, careful=False)
            except _HandlerFailed:
                used, counts = await self._handle_all(rest, received_at, careful=True)
            rest = rest[used:]
            for outcome, count in counts.items():
                tally[outcome] += count
        return tally

    async def _handle_all(self, items: list[Incoming], received_at: float, *, careful: bool) -> tuple[int, dict[Outcome, int]]:
        """Handles items in one transaction, up to the first whose handler asked to commit soon;
        returns how many it used and what became of them."""
        tally: dict[Outcome, int] = defaultdict(int)
        async with self._pool.acquire() as conn:
            try:
                async with self._counted(conn):
                    used = await self._handle_in(conn, items, received_at, careful, tally)
            finally:
                self._transaction_ended(conn)
        failpoint("after-inbox-commit")
        return used, tally

    @contextlib.asynccontextmanager
    async def _counted(self, conn: asyncpg.Connection) -> AsyncIterator[None]:
        """A transaction whose outcomes reach the metrics only once it has committed: a batch
        rolled back and handled again is counted once."""
        self._uncounted[id(conn)] = []
        try:
            async with conn.transaction():
                yield
            counted = self._uncounted.pop(id(conn), [])
        finally:
            self._uncounted.pop(id(conn), None)
        for count in counted:
            count()

    def _count(self, conn: asyncpg.Connection, count: Callable[[], None]) -> None:
        self._uncounted.setdefault(id(conn), []).append(count)

    async def _handle_in(self, conn: asyncpg.Connection, items: list[Incoming], received_at: float, careful: bool,
                         tally: dict[Outcome, int]) -> int:
        used = 0
        waiting: set[tuple[str, str]] = set()
        if self._parked_maybe:
            waiting = await parking.waiting(conn, self.group, sorted({item.key for item in items if item.handler}))
        fresh = set() if careful else await self._claim_all(conn, [i for i in items if i.handler and (i.record.topic, i.key) not in waiting])
        handled: set[str] = set()
        for item in items:
            used += 1
            soon = False
            with self._traced(item.record, item.envelope) as span:
                if item.reason is not None:
                    outcome = await self._dead_letter(conn, item.record, item.reason)
                elif (item.record.topic, item.key) in waiting:
                    outcome = await self._park(conn, item, "behind an earlier event of this patient that is waiting")
                elif careful:
                    outcome, soon = await self._handle(conn, item, received_at)
                else:
                    outcome, soon = await self._handle_quickly(conn, item, fresh, received_at)
                tracing.outcome(span, outcome.value)
            tally[outcome] += 1
            self._count(conn, partial(metrics.EVENTS.labels(self.group, _type_of(item), outcome.value).inc))
            if outcome in (Outcome.HANDLED, Outcome.DUPLICATE) and item.envelope and parking.redriven(item.record.headers):
                await parking.dead_letters_put_right(conn, self.group, item.envelope.id)
            if outcome is Outcome.PARKED:
                waiting.add((item.record.topic, item.key))
            elif outcome is Outcome.HANDLED:
                handled.add(item.key)
            if soon:
                break
        if fresh:  # claimed for events left to the next transaction: theirs to claim
            await inbox.unclaim(conn, self.group, fresh)
        if handled and self._parked_maybe:
            await self._replay(conn, sorted(handled), received_at)
        return used

    def _traced(self, record: ConsumerRecord, envelope: Envelope | None) -> contextlib.AbstractContextManager:
        """The event's span (`shared.runtime.tracing`): of its headers only its type and id, and
        only once decoded (what an undecodable record claims is not repeated, but for a valid
        traceparent, so that its dead-lettering is in its sender's trace)."""
        return tracing.processing(self.group, record.topic.removeprefix(f"{self._prefix}."), record.partition, record.offset,
                                  envelope.type if envelope else None, envelope.id if envelope else None,
                                  envelope.traceparent if envelope else tracing.traceparent_in(record.headers))

    def _transaction_ended(self, conn: asyncpg.Connection) -> None:
        """After COMMIT or ROLLBACK: a sweep looking meanwhile must not take its snapshot's word."""
        if id(conn) in self._parking_open:
            self._parking_open.discard(id(conn))
            self._parking_changes += 1

    async def _claim_all(self, conn: asyncpg.Connection, items: list[Incoming]) -> set[tuple[str, str]]:
        """Claims every event in one statement; returns the (source, id) seen here for the first time."""
        firsts = {(i.envelope.source, str(i.envelope.id)): i.record for i in reversed(items)}  # a repeat in the batch is a duplicate
        return await inbox.claim_all(conn, self.group, firsts)

    async def _handle_quickly(
        self, conn: asyncpg.Connection, item: Incoming, fresh: set[tuple[str, str]], received_at: float
    ) -> tuple[Outcome, bool]:
        identity = (item.envelope.source, str(item.envelope.id))
        if identity not in fresh:
            return Outcome.DUPLICATE, False
        fresh.discard(identity)  # a second copy later in the same batch is a duplicate too
        ctx = self._contexts(conn, item.envelope, received_at)
        started = time.perf_counter()
        try:
            await item.handler(ctx, item.event)
        except Exception as error:  # noqa: BLE001 - the careful way decides what becomes of it
            raise _HandlerFailed from error
        metrics.HANDLER_SECONDS.labels(self.group, _type_of(item)).observe(time.perf_counter() - started)
        return Outcome.HANDLED, ctx.committing_soon

    async def _handle(self, conn: asyncpg.Connection, item: Incoming, received_at: float) -> tuple[Outcome, bool]:
        with structlog.contextvars.bound_contextvars(
            event_id=str(item.envelope.id), correlation_id=str(item.envelope.correlationid), event_type=item.envelope.type
        ):
            attempt = 1
            while True:
                ctx = self._contexts(conn, item.envelope, received_at)
                try:
                    async with conn.transaction():  # a savepoint: a failure undoes this event alone
                        if not await inbox.claim(conn, self.group, item.envelope, item.record.topic, item.record.partition, item.record.offset):
                            log.debug("event.duplicate_skipped")
                            return Outcome.DUPLICATE, False
                        started = time.perf_counter()
                        await item.handler(ctx, item.event)
                        metrics.HANDLER_SECONDS.labels(self.group, _type_of(item)).observe(time.perf_counter() - started)
                        if attempt > 1:
                            await parking.forget_failures(conn, self.group, item.record)
                    log.debug("event.processed")
                    return Outcome.HANDLED, ctx.committing_soon
                except NotYetKnown as error:
                    return await self._park(conn, item, error.reason), False
                except InvalidEvent as error:
                    return await self._dead_letter(conn, item.record, f"rejected: {error.reason}"), False
                except _RETRY_THE_BATCH:
                    raise
                except Exception as error:  # noqa: BLE001 - any other failure is retried, then dead-lettered
                    failures = await self._count_failure(item.record, error)
                    if failures >= self._retry.max_attempts:
                        reason = f"handler failed: {type(error).__name__} after {failures} attempts"
                        return await self._dead_letter(conn, item.record, reason), False
                    log.warning("event.retrying", attempt=failures, error=type(error).__name__)
                    await asyncio.sleep(self._retry.delay(failures))
                    attempt += 1

    async def _count_failure(self, record: ConsumerRecord, error: Exception) -> int:
        """Counted on a connection of its own: the batch's transaction may yet be rolled back."""
        async with self._pool.acquire() as conn:
            return await parking.failed(conn, self.group, record, type(error).__name__)

    async def _park(self, conn: asyncpg.Connection, item: Incoming, reason: str) -> Outcome:
        record = item.record
        if not await inbox.claim(conn, self.group, item.envelope, record.topic, record.partition, record.offset):
            return Outcome.DUPLICATE
        self._parked_maybe = True
        self._parking_changes += 1
        self._parking_open.add(id(conn))
        await parking.park(conn, self.group, record, headers_to_dict(record.headers), reason, self._clock.now())
        log.info("event.parked", reason=reason, topic=record.topic, partition=record.partition, offset=record.offset,
                 event_type=item.envelope.type)
        return Outcome.PARKED

    async def _replay(self, conn: asyncpg.Connection, keys: list[str], received_at: float) -> int:
        """Handles the parked events of these patients that can now go ahead, oldest first, until
        none can; returns how many were released."""
        pending = await parking.take(conn, self.group, keys)
        released = 0
        progress = True
        while pending and progress:
            progress, blocked, still = False, set(), []
            for parked in pending:
                if (parked.topic, parked.key) in blocked:
                    still.append(parked)
                    continue
                if await self._replay_one(conn, parked, received_at):
                    released += 1
                    progress = True
                else:
                    blocked.add((parked.topic, parked.key))
                    still.append(parked)
            pending = still
        return released

    async def _replay_one(self, conn: asyncpg.Connection, parked: parking.Parked, received_at: float) -> bool:
        """True when the parked event is settled (handled, or dead-lettered); False while it waits."""
        record = ConsumerRecord(parked.topic, parked.partition, parked.offset, 0, 0, parked.key.encode(), parked.value,
                                None, 0, 0, parked.kafka_headers)
        item = self.triage(record)
        with self._traced(record, item.envelope if item else None) as span:
            outcome = await self._try_parked(conn, parked, record, item, received_at)
            tracing.outcome(span, outcome)
        return outcome != Outcome.PARKED.value

    async def _try_parked(self, conn: asyncpg.Connection, parked: parking.Parked, record: ConsumerRecord, item: Incoming | None,
                          received_at: float) -> str:
        """What became of a parked event tried again: unparked, dead-lettered, no longer handled
        here, or still parked."""
        failed = False
        try:
            if item is None or item.reason is not None:  # no longer handled here, or no longer valid
                if item is not None:
                    await self._dead_letter(conn, record, item.reason, parked=True)
                await parking.release(conn, parked.seq)
                return Outcome.DEAD_LETTERED.value if item is not None else "no-longer-handled"
            async with conn.transaction():
                await item.handler(self._contexts(conn, item.envelope, received_at), item.event)
                await parking.release(conn, parked.seq)
                if parking.redriven(record.headers):
                    await parking.dead_letters_put_right(conn, self.group, item.envelope.id)
            self._count(conn, partial(metrics.EVENTS.labels(self.group, _type_of(item), "unparked").inc))
            log.info("event.unparked", event_id=str(item.envelope.id), event_type=item.envelope.type, waited=parked.reason)
            return "unparked"
        except NotYetKnown as error:
            reason = error.reason
        except InvalidEvent as error:
            await self._dead_letter(conn, record, f"rejected: {error.reason}", parked=True)
            await parking.release(conn, parked.seq)
            return Outcome.DEAD_LETTERED.value
        except _RETRY_THE_BATCH:
            raise
        except Exception as error:  # noqa: BLE001 - counted on the parked row, then dead-lettered
            if parked.attempts + 1 >= self._retry.max_attempts:
                await self._dead_letter(conn, record, f"handler failed: {type(error).__name__} after {parked.attempts + 1} attempts",
                                        parked=True)
                await parking.release(conn, parked.seq)
                return Outcome.DEAD_LETTERED.value
            reason, failed = parked.reason, True
        await parking.still_waiting(conn, parked.seq, reason, failed)
        return Outcome.PARKED.value

    @property
    def asks_about_parked(self) -> bool:
        """Whether each batch asks the database about parked events (else none may be parked)."""
        return self._parked_maybe

    def partitions_assigned(self) -> None:
        """Partitions another instance owned may bring events it parked: until the next sweep has
        looked, each batch asks about parked events."""
        self._parked_maybe = True
        self._parking_changes += 1

    async def parked_keys(self, partitions: list[tuple[str, int]]) -> dict[int, list[str]]:
        """The sweep's first look, beside the batches: the keys of the events parked on these
        partitions (those this instance owns, some perhaps parked by an instance that owned them
        before), by partition number. When none is, and no batch has committed a park since
        before the look, batches stop asking about parked events."""
        if not partitions:
            return {}
        changes_before = self._parking_changes
        async with self._pool.acquire() as conn:
            parked = await parking.keys_parked(conn, self.group, partitions)
        if parked:
            self._parked_maybe = True
        elif self._parking_changes == changes_before and not self._parking_open:
            self._parked_maybe = False
        by_number: dict[int, list[str]] = defaultdict(list)
        for key, number in parked:
            by_number[number].append(key)
        return dict(by_number)

    async def replay_parked(self, keys: list[str], chunk: int = 200) -> int:
        """The sweep: tries again the parked events of these keys, for prerequisites that arrived
        another way (another group, another instance); returns how many were released."""
        released = 0
        for start in range(0, len(keys), chunk):
            async with self._pool.acquire() as conn, self._counted(conn):
                released += await self._replay(conn, keys[start : start + chunk], time.monotonic())
        return released

    async def report_overdue(self, after: timedelta) -> int:
        """Logs, once each, the parked events still waiting after `after` (default a day)."""
        now = self._clock.now()
        async with self._pool.acquire() as conn:
            rows = await parking.overdue(conn, self.group, now - after, now)
        for row in rows:
            log.error("event.parked_too_long", consumer=self.group, topic=row["topic"], partition=row["partition"],
                      offset=row["offset"], reason=row["reason"], parked_at=row["parked_at"].isoformat())
        return len(rows)

    async def dead_letter_unreadable(self, topic: str, partition: int, offset: int, reason: str) -> None:
        """Dead-letters, by its position alone, a record the Kafka client could not read."""
        record = ConsumerRecord(topic, partition, offset, 0, 0, None, None, None, 0, 0, [])
        async with self._pool.acquire() as conn, self._counted(conn):
            await self._dead_letter(conn, record, reason)

    async def _dead_letter(self, conn: asyncpg.Connection, record: ConsumerRecord, reason: str, *, parked: bool = False) -> Outcome:
        """Queues the record for the dead-letter topic, once. An event is never counted as handled
        when it was dead-lettered: a parked one gives back the claim made as it was parked, so the
        same event redriven later (`carepath deadletters redrive`) is handled, once."""
        if not await inbox.claim_position(conn, self.group, record.topic, record.partition, record.offset):
            return Outcome.DUPLICATE  # dead-lettered already, before a crash
        if parked:
            await inbox.unclaim_record(conn, self.group, record)
        headers = headers_to_dict(record.headers) | {
            "dlq_reason": reason,
            "dlq_consumer": self.group,
            "dlq_original_topic": record.topic,
            "dlq_original_partition": str(record.partition),
            "dlq_original_offset": str(record.offset),
            "dlq_failed_at": datetime.now(UTC).isoformat(),
        }
        await outbox.add_dead_letter(conn, uuid4(), record.key, record.value, headers)
        await parking.dead_letter_waits(conn, self.group, record, _event_id(headers.get("ce_id")))
        self._count(conn, lambda: metrics.dead_lettered(self.group, reason, time.time()))
        log.error("event.dead_lettered", reason=reason, topic=record.topic, partition=record.partition, offset=record.offset)
        return Outcome.DEAD_LETTERED
