"""The runtime every carepath service shares: connect, migrate, consume reliably, relay the
outbox, and stop cleanly. A service supplies only its name, handlers and migrations."""

import asyncio
import gc
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import structlog
import uvloop
from faststream.kafka import KafkaBroker

from contracts import AddressedCopy, Event
from contracts.topics import CONSENT_INBOUND
from shared.runtime import db, metrics, parking, secrets, tracing
from shared.privacy import copies, delivery
from shared.privacy.keystore import PostgresKeyStore
from shared.privacy.store import PrivacyStore
from shared.runtime.clock import Clock, clock_for
from shared.runtime.consumer import ReliableConsumer, RetryPolicy
from shared.runtime.loop import KafkaLoop
from shared.runtime.context import Contexts, Handler, HandlerContext, StoreFactory
from shared.runtime.kafka import GroupProgress, KafkaLogin, check_kept_forever, make_broker
from shared.runtime.logs import configure_logging
from shared.runtime.outbox import OutboxRelay, PendingEvent
from shared.runtime.settings import ServiceSettings

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
    # (`shared.privacy.delivery`), in a consumer group of their own: a delivery waits for the main
    # group's progress on the consent topic, so it cannot be that group.
    deliveries: Sequence[type[AddressedCopy]] = ()
    clock: Clock | None = None  # default: the system clock (or the tests' offset clock)
    store: StoreFactory | None = None  # the service's store, built on each transaction's connection
    deps: Any = None  # the service's dependencies (frozen), given to every handler and job as ctx.deps
    # Run beside the consumers on the service's pool, for as long as they run (the board's web
    # pages): if one ends, the service stops, as when a consumer does.
    alongside: Sequence[Callable[[asyncpg.Pool], Awaitable[None]]] = ()

    def __post_init__(self) -> None:
        self.clock = self.clock or clock_for(self.settings.clock_offset_file)

    @property
    def source(self) -> str:
        return f"/carepath/{self.name}"

    @property
    def contexts(self) -> Contexts:
        return Contexts(self.clock, self.source, self.store, self.deps, partial(PrivacyStore, keys=getattr(self, "_keys", None)))

    @property
    def group(self) -> str:
        """The deployment's prefix is part of it: two deployments on one broker never share a group."""
        return f"{self.settings.topic_prefix}-{self.name}"

    @property
    def delivery_group(self) -> str:
        return f"{self.group}-delivery"

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or _stop_on_signals()
        settings = self.settings
        tracing.configure(self.name, settings.otlp_endpoint)
        pool = await db.create_pool(settings.database_url, min_size=min(settings.database_pool_open, settings.database_pool_size),
                                     max_size=settings.database_pool_size)
        applied = await db.migrate(pool, [db.SHARED_MIGRATIONS, self.migrations])
        if applied:
            log.info("service.migrated", migrations=applied)
        if self.deliveries and not settings.keystore_url:
            raise SystemExit(f"carepath {self.name} sends copies and needs a key store: set CAREPATH_KEYSTORE_URL")
        # Opened at start like the service pool: the first copies under load do not wait for connections.
        self._keys = await PostgresKeyStore.open(settings.keystore_url, min_size=4, max_size=8) if settings.keystore_url else None
        if self._keys is not None:
            async with pool.acquire() as conn, conn.transaction():
                if moved := await copies.move_keys_to_store(conn, self._keys):
                    log.info("service.keys_moved_to_key_store", keys=moved)
        if self.on_start is not None:
            async with pool.acquire() as conn, conn.transaction():
                await self.on_start(self.contexts(conn))
        login = settings.kafka_login(self.name)
        # A service with no handlers (the gateway) only publishes: it reads nothing, so it has no
        # consumers, no consent progress to wait for and no rebuild to guard.
        consuming = bool(self.handlers)
        if consuming:
            await check_kept_forever(login, settings.topic_prefix)  # before anything is read: a rebuild must see every deny
        broker = make_broker(login, self.group, logger=logging.getLogger("carepath.broker"))
        consent_progress = GroupProgress(
            login, self.group, [CONSENT_INBOUND.full_name(settings.topic_prefix)], CONSENT_INBOUND.partitions
        ) if consuming else None
        loops = [self._loop(pool, login, self.group, self.handlers)] if consuming else []
        if self.deliveries:
            caught_up = lambda since: consent_progress.caught_up(since, within_s=settings.delivery_consent_wait_s)  # noqa: E731
            loops.append(self._loop(pool, login, self.delivery_group, delivery.handlers(caught_up, *self.deliveries)))

        relay = OutboxRelay(pool, _sender(broker, settings.topic_prefix), batch_size=settings.outbox_batch_size,
                            poll_interval_s=settings.outbox_poll_interval_s)
        await broker.start()
        relay_task = asyncio.create_task(relay.run(), name=f"{self.name}-outbox-relay")
        if consent_progress is not None:
            await consent_progress.start()
        for loop in loops:
            await loop.start()
        essential = [relay_task, *(asyncio.create_task(loop.run(), name=loop.consumer.group) for loop in loops),
                     *(asyncio.create_task(companion(pool), name=f"{self.name}-alongside") for companion in self.alongside)]
        background = [
            asyncio.create_task(_heartbeat(pool, broker, loops, settings, self.name), name=f"{self.name}-heartbeat"),
            *(asyncio.create_task(_sweep(loop, settings), name=f"{loop.consumer.group}-sweep") for loop in loops),
            *(asyncio.create_task(self._every(pool, periodic), name=periodic.name) for periodic in self.periodic),
        ]
        metrics.serve(settings.metrics_host, metrics.port_of(self.name, settings.metrics_port))
        for loop in loops:
            metrics.LAG.watch(loop.lag)
        log.info("service.started", consumers={loop.consumer.group: loop.consumer.topics for loop in loops})
        try:
            stop_task = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({stop_task, *essential}, return_when=asyncio.FIRST_COMPLETED)
            for task in done - {stop_task}:
                task.result()  # they never return on their own: surface why one stopped
        finally:
            log.info("service.stopping")
            for task in (*essential, *background):
                task.cancel()
            await asyncio.gather(*essential, *background, return_exceptions=True)
            for loop in loops:
                metrics.LAG.forget(loop.lag)
                await loop.stop()
            await broker.stop()
            if consent_progress is not None:
                await consent_progress.stop()
            if self._keys is not None:
                await self._keys.close()
            await pool.close()
            tracing.shutdown()  # what is still queued is exported before the process ends
            log.info("service.stopped")

    def _loop(self, pool: asyncpg.Pool, login: KafkaLogin, group: str, handlers: Mapping[type[Event], Handler]) -> KafkaLoop:
        settings = self.settings
        retry = RetryPolicy(settings.max_attempts, settings.retry_base_delay_s, settings.retry_max_delay_s)
        consumer = ReliableConsumer(group=group, pool=pool, handlers=handlers, topic_prefix=settings.topic_prefix,
                                    clock=self.clock, source=self.source, retry=retry, contexts=self.contexts)
        return KafkaLoop(consumer, login, batch_size=settings.consumer_batch_size,
                         commit_interval_s=settings.commit_interval_s)

    async def _every(self, pool: asyncpg.Pool, periodic: Periodic) -> None:
        while True:
            try:
                async with pool.acquire() as conn, conn.transaction():
                    await periodic.job(self.contexts(conn))
            except Exception as error:  # noqa: BLE001 - a failed run is retried at the next interval
                log.warning("periodic.failed", job=periodic.name, error=type(error).__name__)
            await asyncio.sleep(periodic.interval_s)


def _sender(broker: KafkaBroker, prefix: str) -> Callable[[PendingEvent], Awaitable[asyncio.Future]]:
    async def send(event: PendingEvent) -> asyncio.Future:
        return await broker.publish(
            event.value,
            f"{prefix}.{event.topic}",
            key=event.key,
            headers=event.headers,
            correlation_id=event.headers.get("ce_correlationid"),
            no_confirm=True,
        )

    return send


async def _sweep(loop: KafkaLoop, settings: ServiceSettings) -> None:
    """Parked events whose prerequisite came some other way are tried again every few seconds;
    any still waiting after `parked_report_after_s` is reported, once."""
    while True:
        await asyncio.sleep(settings.parked_retry_interval_s)
        try:
            await loop.sweep_parked()
            await loop.consumer.report_overdue(timedelta(seconds=settings.parked_report_after_s))
        except Exception as error:  # noqa: BLE001 - tried again at the next interval
            log.warning("parked.sweep_failed", consumer=loop.consumer.group, error=type(error).__name__)


async def _heartbeat(pool: asyncpg.Pool, broker: KafkaBroker, loops: list[KafkaLoop], settings: ServiceSettings, name: str) -> None:
    """Writes the health file while the database and the broker answer: which partitions have
    stalled (lag, and no progress for `stall_after_s`), how many events are parked or set aside."""
    beat = Path(settings.heartbeat_file)
    while True:
        try:
            async with pool.acquire() as conn:
                counts = await parking.counts(conn)
            metrics.health(counts)
            if await broker.ping(timeout=settings.heartbeat_interval_s):
                stalled = [
                    {"consumer": loop.consumer.group, **partition}
                    for loop in loops
                    for partition in await loop.progress.stalled(loop.kafka, settings.stall_after_s)
                ]
                status = {"service": name, "at": datetime.now(UTC).isoformat(), "stalled": stalled, **counts}
                partial = beat.with_name(beat.name + ".partial")
                partial.write_text(json.dumps(status))
                partial.replace(beat)
        except Exception as error:  # noqa: BLE001 - an unhealthy dependency just skips the beat
            log.warning("service.unhealthy", error=type(error).__name__)
        await asyncio.sleep(settings.heartbeat_interval_s)


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
    refused = secrets.refusals(service.settings) if service.settings.env != "development" else []
    if refused:
        for problem in refused:
            log.error("service.refused_secret", problem=problem)
        sys.exit(f"carepath {service.name} will not start outside development (CAREPATH_ENV=development): " + "; ".join(refused))
    steady_collector()
    uvloop.run(service.run())


def steady_collector() -> None:
    """Python's cycle collector tuned for a long-running service. What is built at start-up (the
    modules, the contracts' models, the wiring) lives as long as the process, so it is frozen out
    of the collector's sight; and young objects are swept in fewer, larger passes. Left as they
    are, full collections walk every module and model: 50-120 ms pauses every few seconds under
    load on a 2-core machine, each one felt by every event in flight."""
    gc.freeze()
    gc.set_threshold(*_COLLECTOR_THRESHOLDS)


_COLLECTOR_THRESHOLDS = (20_000, 20, 20)  # Python's defaults are (700, 10, 10)
