"""Each partition's share of the work goes ahead on its own, on the real broker: a backlog on one
partition (a Trust system resending a day's referrals, a service restarted behind) does not hold
up the events waiting on the others, nor does a batch that is slow to finish (a plan waiting for
its team's lock, a slow query)."""

import asyncio
from uuid import uuid4

from contracts import ReferralSubmitted
from contracts.topics import TOPICS
from shared.runtime import db
from shared.runtime.context import HandlerContext
from shared.runtime.errors import NotYetKnown
from shared.runtime.kafka import create_topics
from tests import logins
from tests.acceptance.deployment import delete_topics
from tests.acceptance.loops import publish_referrals, referral_loop, running, until

BACKLOG = 2_000
BATCH = 100
SLOW_S = 0.002  # each event takes a little handling, as a real one does


async def test_a_backlog_on_one_partition_does_not_hold_up_another_partitions_events(scratch_database: str) -> None:
    prefix = f"test-parallel-{uuid4().hex[:8]}"
    await create_topics(logins.admin(), prefix)
    pool = await db.create_pool(scratch_database)
    handled: list[str] = []

    async def on_referral(ctx: HandlerContext, submitted: ReferralSubmitted) -> None:
        await asyncio.sleep(SLOW_S)
        handled.append(submitted.referral_id)

    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS])
        await publish_referrals(prefix, [(0, f"BACKLOG-{n}") for n in range(BACKLOG)] + [(3, "WAITING-ALONE")])
        async with running(referral_loop(prefix, pool, on_referral, batch_size=BATCH)):
            for _ in range(600):
                if "WAITING-ALONE" in handled:
                    break
                await asyncio.sleep(0.05)
    finally:
        await pool.close()
        await delete_topics(logins.admin(), [topic.full_name(prefix) for topic in TOPICS])
    assert "WAITING-ALONE" in handled, "the event alone on its partition was never handled"
    ahead = handled.index("WAITING-ALONE")
    assert ahead < 2 * BATCH, f"the event alone on its partition waited behind {ahead:,} of the other partition's backlog"


async def test_a_slow_batch_on_one_partition_holds_up_neither_events_arriving_on_another_nor_the_sweep_of_events_parked_there(scratch_database: str) -> None:
    prefix = f"test-lanes-{uuid4().hex[:8]}"
    await create_topics(logins.admin(), prefix)
    pool = await db.create_pool(scratch_database)
    handled: list[str] = []
    slow_started, slow_may_finish = asyncio.Event(), asyncio.Event()

    async def on_referral(ctx: HandlerContext, submitted: ReferralSubmitted) -> None:
        if submitted.referral_id == "SLOW":
            slow_started.set()
            await slow_may_finish.wait()
        if submitted.referral_id == "PARKED":
            raise NotYetKnown("waits for something that never comes, in this test")
        handled.append(submitted.referral_id)

    async def parked() -> int:
        return await pool.fetchval("SELECT count(*) FROM parked WHERE consumer = $1", f"{prefix}-group")

    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS])
        loop = referral_loop(prefix, pool, on_referral, batch_size=BATCH)
        async with running(loop):
            await publish_referrals(prefix, [(3, "PARKED")])
            async with asyncio.timeout(30):
                while await parked() == 0:
                    await asyncio.sleep(0.05)
            await publish_referrals(prefix, [(0, "SLOW")])
            await asyncio.wait_for(slow_started.wait(), 30)
            # The event parked on partition 3 is tried again while partition 0's batch is in hand.
            swept_beside_the_slow_batch = await asyncio.wait_for(loop.sweep_parked(), 5)
            for n in range(3):  # each sent once the one before it is handled: a new fetch each time
                await publish_referrals(prefix, [(3, f"MEANWHILE-{n}")])
                await until(lambda n=n: f"MEANWHILE-{n}" in handled, 10)
            handled_while_slow = list(handled)
            slow_may_finish.set()
            await until(lambda: "SLOW" in handled, 10)
    finally:
        await pool.close()
        await delete_topics(logins.admin(), [topic.full_name(prefix) for topic in TOPICS])
    assert swept_beside_the_slow_batch == 0  # tried, and still waiting
    assert handled_while_slow == ["MEANWHILE-0", "MEANWHILE-1", "MEANWHILE-2"], handled_while_slow
    assert handled[-1] == "SLOW"
