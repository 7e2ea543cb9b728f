"""The runtime every carepath service shares: connect, migrate, consume reliably, relay the
outbox, and stop cleanly. A service supplies only its name, handlers and migrations."""

import asyncio
import functools
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy

from contracts import AddressedCopy, Event
from contracts.topics import CONSENT_INBOUND
from shared import db, delivery
from shared.clock import Clock, clock_for
from shared.consumer import Handler, HandlerContext, ReliableConsumer, RetryPolicy
from shared.kafka import GroupProgress, make_broker
from shared.logs import configure_logging
from shared.outbox import OutboxRelay, PendingEvent
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)


Job = Callable[[HandlerContext], Awaitable[None]]


@dataclass(frozen=True)
class Periodic:
    """A job run every `interval_s` in its own transaction, e.g. checking response deadlines."""

    name: str
    interval_s: float
    job: Job


@dataclass
class Service:
    name: str
    settings: ServiceSettings
    handlers: Mapping[type[Event], Handler]
    migrations: Path
    periodic: Sequence[Periodic] = ()
    on_start: Job | None = None  # run once, in a transaction, before consuming
    # The copies this service sends and so also delivers, after checking consent on receipt
    # (`shared.delivery`), in a consumer group of their own so a slow delivery never holds up
    # the consent events that a delivery must see.
    deliveries: Sequence[type[AddressedCopy]] = ()
    clock: Clock | None = None  # default: the system clock (or the tests' offset clock)

    def __post_init__(self) -> None:
        self.clock = self.clock or clock_for(self.settings.clock_offset_file)

    @property
    def source(self) -> str:
        return f"/carepath/{self.name}"

    @property
    def group(self) -> str:
        return f"carepath-{self.name}"

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or _stop_on_signals()
        settings = self.settings
        pool = await db.create_pool(settings.database_url)
        applied = await db.migrate(pool, [db.SHARED_MIGRATIONS, self.migrations])
        if applied:
            log.info("service.migrated", migrations=applied)
        if self.on_start is not None:
            async with pool.acquire() as conn, conn.transaction():
                await self.on_start(HandlerContext(conn, self.clock, self.source))
        broker = make_broker(settings.kafka_bootstrap, self.group, logger=logging.getLogger("carepath.broker"))

        async def publish(topic: str, key: bytes | None, value: bytes | None, headers: dict[str, str]) -> None:
            await broker.publish(value or b"", topic, key=key, headers=headers)

        async def send(event: PendingEvent) -> asyncio.Future:
            return await broker.publish(
                event.value,
                f"{settings.topic_prefix}.{event.topic}",
                key=event.key,
                headers=event.headers,
                correlation_id=event.headers.get("ce_correlationid"),
                no_confirm=True,
            )

        consent_progress = GroupProgress(
            settings.kafka_bootstrap, self.group, [CONSENT_INBOUND.full_name(settings.topic_prefix)], CONSENT_INBOUND.partitions
        )
        retry = RetryPolicy(
            settings.max_attempts, settings.retry_base_delay_s, settings.retry_max_delay_s, settings.not_yet_known_wait_s
        )
        groups = {self.group: self.handlers}
        if self.deliveries:
            groups[f"{self.group}-delivery"] = delivery.handlers(
                functools.partial(consent_progress.caught_up, within_s=settings.delivery_consent_wait_s), *self.deliveries
            )
        consumers = [
            ReliableConsumer(group=group, pool=pool, handlers=handlers, publish=publish, topic_prefix=settings.topic_prefix,
                             clock=self.clock, source=self.source, retry=retry)
            for group, handlers in groups.items()
        ]
        for consumer in consumers:
            for topic in consumer.topics:
                _subscribe(broker, consumer, topic)

        relay = OutboxRelay(
            pool, send, batch_size=settings.outbox_batch_size, poll_interval_s=settings.outbox_poll_interval_s
        )
        await consent_progress.start()
        await broker.start()
        relay_task = asyncio.create_task(relay.run(), name=f"{self.name}-outbox-relay")
        background = [
            asyncio.create_task(_heartbeat(pool, broker, settings), name=f"{self.name}-heartbeat"),
            *(asyncio.create_task(self._every(pool, periodic), name=periodic.name) for periodic in self.periodic),
        ]
        log.info("service.started", consumers={consumer.group: consumer.topics for consumer in consumers})
        try:
            stop_task = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({stop_task, relay_task}, return_when=asyncio.FIRST_COMPLETED)
            if relay_task in done:
                relay_task.result()  # the relay never returns on its own: surface why it stopped
        finally:
            log.info("service.stopping")
            for task in (relay_task, *background):
                task.cancel()
            await asyncio.gather(relay_task, *background, return_exceptions=True)
            await broker.stop()
            await consent_progress.stop()
            await pool.close()
            log.info("service.stopped")

    async def _every(self, pool: asyncpg.Pool, periodic: Periodic) -> None:
        while True:
            try:
                async with pool.acquire() as conn, conn.transaction():
                    await periodic.job(HandlerContext(conn, self.clock, self.source))
            except Exception as error:  # noqa: BLE001 - a failed run is retried at the next interval
                log.warning("periodic.failed", job=periodic.name, error=type(error).__name__)
            await asyncio.sleep(periodic.interval_s)


def _subscribe(broker: KafkaBroker, consumer: ReliableConsumer, topic: str) -> None:
    """One Kafka consumer per topic (all in the consumer's group): an event waiting for another
    to arrive (`NotYetKnown`) holds up only its own topic, never the topic that brings what it waits for."""

    @broker.subscriber(
        topic,
        group_id=consumer.group,
        auto_offset_reset="earliest",  # a new group reads everything, never just what comes next
        ack_policy=AckPolicy.NACK_ON_ERROR,  # commit after processing; on error rewind and redeliver
        decoder=_raw_body,  # decoding is ours, so a poison message is dead-lettered, not retried forever
    )
    async def on_message(message: KafkaMessage) -> None:
        try:
            await consumer.process(message.raw_message)
        except Exception:
            # Only infrastructure failures get here (the dead-letter topic unreachable):
            # pause, then let the message be redelivered rather than lost.
            log.exception("event.redelivering_after_failure")
            await asyncio.sleep(1)
            raise


async def _heartbeat(pool: asyncpg.Pool, broker: KafkaBroker, settings: ServiceSettings) -> None:
    beat = Path(settings.heartbeat_file)
    while True:
        try:
            await pool.fetchval("SELECT 1")
            if await broker.ping(timeout=settings.heartbeat_interval_s):
                beat.touch()
        except Exception as error:  # noqa: BLE001 - an unhealthy dependency just skips the beat
            log.warning("service.unhealthy", error=type(error).__name__)
        await asyncio.sleep(settings.heartbeat_interval_s)


async def _raw_body(message: StreamMessage[Any]) -> bytes:
    return message.body


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def main(service_factory: Callable[[], Service]) -> None:
    """Entry point of `python -m services.<name>`: logging first, then run until signalled."""
    service = service_factory()
    configure_logging(service.name, service.settings.log_format)
    asyncio.run(service.run())
