"""For tests that drive a `KafkaLoop` directly on the real broker: referrals put on chosen
partitions, and waiting for what the loop does with them."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg

from aiokafka import AIOKafkaProducer

from contracts import ReferralSubmitted
from contracts.topics import REFERRAL_INBOUND
from shared.runtime.clock import SystemClock
from shared.runtime.codec import encode
from shared.runtime.consumer import ReliableConsumer
from shared.runtime.context import HandlerContext
from shared.runtime.loop import KafkaLoop
from tests import logins
from tests.factories import envelope_for, referral


def referral_loop(prefix: str, pool: asyncpg.Pool, on_referral: Callable[[HandlerContext, ReferralSubmitted], Awaitable[None]],
                  *, batch_size: int = 100) -> KafkaLoop:
    """A loop of the group `<prefix>-group` that hands each referral to `on_referral`."""
    consumer = ReliableConsumer(group=f"{prefix}-group", pool=pool, handlers={ReferralSubmitted: on_referral},
                                topic_prefix=prefix, clock=SystemClock(), source="/carepath/test")
    return KafkaLoop(consumer, logins.admin(), batch_size=batch_size)  # the loop's mechanics, not anyone's rights


@asynccontextmanager
async def running(loop: KafkaLoop) -> AsyncIterator[asyncio.Task]:
    """The loop started and running until the block ends (the task, to stop it sooner)."""
    await loop.start()
    task = asyncio.create_task(loop.run())
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await loop.stop()


async def publish_referrals(prefix: str, referrals: list[tuple[int, str]], **fields: object) -> None:
    """Referrals with these ids (a referral's key), each on its partition of `referral.inbound`."""
    producer = AIOKafkaProducer(**logins.admin().options(), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for partition, referral_id in referrals:
            event = referral(referral_id=referral_id, **fields)
            record = encode(event, envelope_for(event))
            await producer.send(
                REFERRAL_INBOUND.full_name(prefix),
                record.value,
                key=record.key,
                partition=partition,
                headers=[(name, text.encode()) for name, text in record.headers.items()],
            )
        await producer.flush()
    finally:
        await producer.stop()


async def until(condition: Callable[[], bool], timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.02)
