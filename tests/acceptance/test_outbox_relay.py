"""The outbox relay on the real PostgreSQL: it publishes what handlers queued, in order, deletes it
once published, and gives its connection back to the pool without the session lock it held (another
instance's relay could never take over otherwise)."""

import asyncio

from shared.runtime import db, outbox
from shared.runtime.outbox import OutboxRelay, PendingEvent
from tests.factories import envelope_for, referral

_RELAY_LOCK_HELD = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"


async def test_the_relay_publishes_in_order_and_lets_go_of_its_lock_when_it_stops(scratch_database: str) -> None:
    pool = await db.create_pool(scratch_database, min_size=1, max_size=1)  # the relay's connection is the only one
    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS])
        queued = [(event, envelope_for(event)) for event in (referral() for _ in range(5))]
        async with pool.acquire() as conn, conn.transaction():
            await outbox.add(conn, *queued)
        sent: list[PendingEvent] = []
        relay = OutboxRelay(pool, _recording(sent), poll_interval_s=0.05)
        running = asyncio.create_task(relay.run())
        for _ in range(100):
            if len(sent) == len(queued):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # time to delete them
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

        async with pool.acquire() as conn:
            assert await conn.fetchval(_RELAY_LOCK_HELD) == 0, "the relay's lock outlived the relay"
            unpublished = await conn.fetchval("SELECT count(*) FROM outbox")
    finally:
        await pool.close()
    assert [event.headers["ce_id"] for event in sent] == [str(envelope.id) for _, envelope in queued]
    assert unpublished == 0


def _recording(sent: list[PendingEvent]):  # noqa: ANN202 - the relay's send
    async def send(event: PendingEvent) -> asyncio.Future[object]:
        sent.append(event)
        acknowledged: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        acknowledged.set_result(None)
        return acknowledged

    return send
