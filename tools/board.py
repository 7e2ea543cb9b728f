"""`carepath board rebuild`: the board's read model made again from the beginning of carepath's
log, as a Trust does after a change to what the board shows. The board service must be stopped:
its group's offsets go back to the start, its tables are emptied, and the board's own consumers
run (without the web pages) until they have handled everything on the log when the rebuild
began, showing a progress bar and the rate."""

import asyncio
import sys
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError
from aiokafka.admin import AIOKafkaAdminClient

from contracts import TOPICS
from contracts.access import principal
from services.board.app import create_service
from services.board.settings import Settings
from services.board.store import Store
from shared.runtime import db

BAR = 30


class StillRunning(Exception):
    """The board's consumer group has members: a rebuild under a running board would race it."""


async def rebuild(settings: Settings, out: Callable[[str], None] = lambda text: print(text, end="", file=sys.stderr, flush=True),
                  every_s: float = 0.5) -> tuple[int, float]:
    """Returns how many events were read and how long it took (seconds)."""
    service = create_service(settings, web=False)
    login = settings.kafka_login(service.name)
    partitions = [TopicPartition(topic.full_name(settings.topic_prefix), p)
                  for topic in TOPICS if topic in principal("board").reads for p in range(topic.partitions)]
    admin = AIOKafkaAdminClient(**login.options(), client_id=f"{service.group}-rebuild")
    await admin.start()
    try:
        if _members(await admin.describe_consumer_groups([service.group])):
            raise StillRunning(f"the board's consumer group {service.group} has members: stop the board service first")
        starts, ends = await _reset_to_start(login, service.group, partitions)
        await _forget(settings, service.group)
        total = sum(ends[tp] - starts[tp] for tp in partitions)
        stop = asyncio.Event()
        running = asyncio.create_task(service.run(stop))
        began = time.monotonic()
        try:
            while True:
                done = await _done(admin, service.group, partitions, starts, ends)
                elapsed = time.monotonic() - began
                out(_progress(done, total, elapsed))
                if done >= total:
                    break
                if running.done():
                    running.result()  # it stopped on its own: say why
                await asyncio.sleep(every_s)
        finally:
            stop.set()
            await running
        out("\n")
        return total, time.monotonic() - began
    finally:
        await admin.close()


def _members(responses: list) -> int:
    """The members of the group, from the broker's answer: (error, id, state, protocol type, protocol, members, ...)."""
    return sum(len(group[5]) for response in responses for group in response.groups)


async def _reset_to_start(login, group: str, partitions: list[TopicPartition]) -> tuple[dict, dict]:
    consumer = AIOKafkaConsumer(**login.options(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        try:
            await consumer.commit(dict(starts))
        except CommitFailedError as error:  # a member joined since it was asked
            raise StillRunning(f"the board's consumer group {group} has members: stop the board service first") from error
        return starts, ends
    finally:
        await consumer.stop()


async def _forget(settings: Settings, group: str) -> None:
    pool = await db.create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS, create_service(settings, web=False).migrations])
        async with pool.acquire() as conn, conn.transaction():
            await Store(conn).forget_everything(group)
    finally:
        await pool.close()


async def _done(admin: AIOKafkaAdminClient, group: str, partitions: list[TopicPartition], starts: dict, ends: dict) -> int:
    committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
    return sum(min(max((committed[tp].offset if tp in committed and committed[tp].offset >= 0 else starts[tp]) - starts[tp], 0),
                   ends[tp] - starts[tp]) for tp in partitions)


def _progress(done: int, total: int, elapsed_s: float) -> str:
    """One line, rewritten in place: `[#########.....]  12,000 / 40,000 events  1,530 events/s`."""
    filled = BAR if total == 0 else BAR * done // total
    rate = done / elapsed_s if elapsed_s > 0 else 0.0
    return f"\r[{'#' * filled}{'.' * (BAR - filled)}] {done:,} / {total:,} events  {rate:,.0f} events/s"
