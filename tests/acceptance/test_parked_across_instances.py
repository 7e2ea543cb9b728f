"""Events parked by one instance stay ahead of the patient's later events when another instance
takes their partition over, on the real broker and database: the newcomer learns of them at the
rebalance, not at its next sweep."""

import asyncio
from uuid import uuid4

from contracts import ReferralSubmitted, Urgency
from contracts.topics import TOPICS
from shared.runtime import db
from shared.runtime.context import HandlerContext
from shared.runtime.errors import NotYetKnown
from shared.runtime.kafka import create_topics
from shared.runtime.loop import KafkaLoop
from tests import logins
from tests.acceptance.deployment import delete_topics
from tests.acceptance.loops import publish_referrals, referral_loop, running, until


async def test_a_later_event_waits_behind_one_parked_by_the_instance_that_owned_its_partition_before(scratch_database: str) -> None:
    prefix = f"test-handover-{uuid4().hex[:8]}"
    group = f"{prefix}-group"
    await create_topics(logins.admin(), prefix)
    pool = await db.create_pool(scratch_database)
    handled: list[str] = []

    async def on_referral(ctx: HandlerContext, submitted: ReferralSubmitted) -> None:
        if submitted.urgency is Urgency.ROUTINE:
            raise NotYetKnown("waits for something that never comes, in this test")
        handled.append(submitted.urgency.name)

    def owned_by(loop: KafkaLoop) -> set[int]:
        return {tp.partition for tp in loop.kafka.assignment()}

    async def parked() -> list[str]:
        rows = await pool.fetch("SELECT value FROM parked WHERE consumer = $1 ORDER BY seq", group)
        return [ReferralSubmitted.model_validate_json(row["value"]).urgency.name for row in rows]

    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS])
        leaving, staying = referral_loop(prefix, pool, on_referral), referral_loop(prefix, pool, on_referral)
        async with running(staying):
            async with running(leaving):
                await until(lambda: owned_by(leaving) and owned_by(staying), 30)
                await looked_and_found_nothing_parked(staying)
                partition = min(owned_by(leaving))
                await publish_referrals(prefix, [(partition, "GP-1")], urgency=Urgency.ROUTINE)
                await parked_are(parked, ["ROUTINE"], 30)
            # The instance leaving has stopped: its partitions go to the one staying.
            await until(lambda: partition in owned_by(staying), 30)
            # The same referral again, raised to urgent: behind the first, on the same topic.
            await publish_referrals(prefix, [(partition, "GP-1")], urgency=Urgency.URGENT)
            await parked_are(parked, ["ROUTINE", "URGENT"], 15)
    finally:
        await pool.close()
        await delete_topics(logins.admin(), [topic.full_name(prefix) for topic in TOPICS])
    assert handled == [], "the later event overtook the one parked before it"


async def looked_and_found_nothing_parked(loop: KafkaLoop) -> None:
    """Sweeps until the instance's batches stop asking about parked events (a sweep that an
    assignment overlaps leaves them asking)."""
    for _ in range(50):
        assert await loop.sweep_parked() == 0
        if not loop.consumer.asks_about_parked:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the instance never stopped asking about parked events")


async def parked_are(read, expected: list[str], timeout_s: float) -> None:
    seen = None
    try:
        async with asyncio.timeout(timeout_s):
            while (seen := await read()) != expected:
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"expected {expected}, saw {seen}") from None
