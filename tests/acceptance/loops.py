"""For tests that drive a `KafkaLoop` directly on the real broker: referrals put on chosen
partitions, and waiting for what the loop does with them."""

import asyncio
from collections.abc import Callable

from aiokafka import AIOKafkaProducer

from contracts.topics import REFERRAL_INBOUND
from shared.runtime.codec import encode
from tests.acceptance.conftest import BOOTSTRAP
from tests.factories import envelope_for, referral


async def publish_referrals(prefix: str, referrals: list[tuple[int, str]], **fields: object) -> None:
    """Referrals with these ids (a referral's key), each on its partition of `referral.inbound`."""
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True)
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
