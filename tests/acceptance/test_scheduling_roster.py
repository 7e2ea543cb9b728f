"""The roster a plan reads from the real PostgreSQL is the roster the rota describes. The database
works out each shift's slot hours and each booking's second itself (a plan reads hundreds of
shifts and thousands of bookings); what it gives must be what the pure roster makes of the same
shifts and visits, at the awkward edges too: shifts off the hour, across midnight and a clock
change, written in another offset, and bookings cancelled or outside the span. And the roster kept
from one plan to the next (`services.scheduling.rosters`) is reused only while nothing else has
changed it: another instance, the rota, or a plan rolled back."""

import contextlib
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

from contracts import VisitScheduled
from services.scheduling.app import MIGRATIONS
from services.scheduling.planning import Roster, Staff
from services.scheduling.rosters import SLACK, RosterCache
from services.scheduling.store import Store
from shared.runtime import db

TEAM = "htcr:belfast"
SPAN = (datetime(2026, 10, 24, 0, tzinfo=UTC), datetime(2026, 11, 1, 0, tzinfo=UTC))
SUMMER = timezone(timedelta(hours=1))
SHIFTS = [
    ("a", datetime(2026, 10, 24, 8, 30, tzinfo=UTC), datetime(2026, 10, 24, 17, 15, tzinfo=UTC)),  # off the hour both ends
    ("a", datetime(2026, 10, 24, 20, tzinfo=SUMMER), datetime(2026, 10, 25, 8, tzinfo=UTC)),  # across midnight and the change
    ("a", datetime(2026, 10, 26, 9, 0, 0, 1, tzinfo=UTC), datetime(2026, 10, 26, 10, 59, 59, 999_999, tzinfo=UTC)),
    ("b", datetime(2026, 10, 23, 20, tzinfo=UTC), datetime(2026, 10, 24, 4, tzinfo=UTC)),  # begun before the span
    ("b", datetime(2026, 10, 27, 9, tzinfo=UTC), datetime(2026, 10, 27, 9, 45, tzinfo=UTC)),  # no whole hour
]
VISITS = [  # (staff, starts, status)
    ("a", datetime(2026, 10, 24, 9, tzinfo=UTC), "scheduled"),
    ("a", datetime(2026, 10, 24, 23, tzinfo=SUMMER), "completed"),
    ("a", datetime(2026, 10, 24, 11, 0, 0, 400_000, tzinfo=UTC), "missed"),
    ("a", datetime(2026, 10, 24, 14, tzinfo=UTC), "cancelled"),  # no longer booked
    ("b", datetime(2026, 10, 24, 1, tzinfo=UTC), "scheduled"),
    ("b", datetime(2026, 11, 2, 9, tzinfo=UTC), "scheduled"),  # after the span
]


async def test_the_roster_read_from_the_database_is_the_one_the_rota_describes(scratch_database: str) -> None:
    pool = await db.create_pool(scratch_database)
    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS, MIGRATIONS])
        async with pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                "INSERT INTO staff (staff_id, team, role, skills, team_lead) VALUES ($1, $2, 'nurse', '{}', false)",
                [("a", TEAM), ("b", TEAM)],
            )
            await conn.executemany("INSERT INTO shifts (staff_id, starts_at, ends_at) VALUES ($1, $2, $3)", SHIFTS)
            episode = uuid4()
            await conn.execute("INSERT INTO episodes (episode_id, patient_id, started_at) VALUES ($1, $2, $3)", episode, uuid4(), SPAN[0])
            await conn.executemany(
                "INSERT INTO visits (visit_id, episode_id, patient_id, window_start, window_end, planned_minutes, staff_id, status) "
                "VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz + interval '1 hour', 60, $5, $6)",
                [(uuid4(), episode, uuid4(), starts, staff, status) for staff, starts, status in VISITS],
            )
            read = await Store(conn).roster(TEAM, *SPAN)

        described = Roster.build(
            [Staff("a", frozenset()), Staff("b", frozenset())],
            [shift for shift in SHIFTS if shift[1] < SPAN[1] and shift[2] > SPAN[0]],
            [(staff, starts) for staff, starts, status in VISITS if status != "cancelled" and SPAN[0] <= starts < SPAN[1]],
        )
    finally:
        await pool.close()
    assert read.on_shift == described.on_shift
    assert read.booked == described.booked
    assert read.hours_on_shift("a", datetime(2026, 10, 24, 0, tzinfo=UTC), datetime(2026, 10, 24, 18, tzinfo=UTC)) == 8  # 09:00-17:00
    assert not read.available("a", datetime(2026, 10, 24, 9, tzinfo=UTC), ())  # booked
    assert read.available("a", datetime(2026, 10, 24, 14, tzinfo=UTC), ())  # its visit was cancelled
    assert not read.available("a", datetime(2026, 10, 24, 8, tzinfo=UTC), ())  # the shift starts at 08:30
    assert not read.available("b", datetime(2026, 10, 27, 9, tzinfo=UTC), ())  # 45 minutes is no slot


# ---------------------------------------------------------------- the roster kept between plans

DAY = datetime(2026, 12, 7, tzinfo=UTC)
PLAN_SPAN = (DAY, DAY + timedelta(days=9))


async def _team_on_shift(conn) -> None:  # noqa: ANN001
    await conn.executemany(
        "INSERT INTO staff (staff_id, team, role, skills, team_lead) VALUES ($1, $2, 'nurse', '{}', false)",
        [("a", TEAM), ("b", TEAM)],
    )
    await conn.executemany(
        "INSERT INTO shifts (staff_id, starts_at, ends_at) VALUES ($1, $2, $3)",
        [(staff, DAY + timedelta(days=n, hours=8), DAY + timedelta(days=n, hours=20)) for staff in "ab" for n in range(10)],
    )
    await conn.execute("INSERT INTO episodes (episode_id, patient_id, started_at) VALUES ($1, $2, $3)", EPISODE, uuid4(), DAY)


EPISODE = uuid4()


def _visit(staff: str | None, starts: datetime) -> VisitScheduled:
    return VisitScheduled(
        visit_id=uuid4(), patient_id=uuid4(), episode_id=EPISODE, window_start=starts, window_end=starts + timedelta(hours=1),
        planned_minutes=60, staff_id=staff,
    )


async def _a_plan(conn, cache: RosterCache, staff: str, slot: datetime) -> Roster:  # noqa: ANN001
    """What a plan does with the roster: read it under the version lock, book in it, write the visit."""
    store = Store(conn, cache)
    roster = await store.roster(TEAM, *PLAN_SPAN)
    roster.book(staff, slot)
    await store.add_visits(_visit(staff, slot))
    return roster


async def _version(conn) -> UUID | None:  # noqa: ANN001
    return await conn.fetchval("SELECT version FROM roster_versions WHERE team = $1", TEAM)


async def test_every_change_to_a_teams_staff_shifts_or_bookings_gives_it_a_new_roster_version(scratch_database: str) -> None:
    pool = await db.create_pool(scratch_database)
    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS, MIGRATIONS])
        async with pool.acquire() as conn:
            await _team_on_shift(conn)
            seen = [await _version(conn)]
            visit = _visit("a", DAY + timedelta(hours=9))
            changes = {
                "a visit booked": lambda: Store(conn).add_visits(visit),
                "its staff changed": lambda: conn.execute("UPDATE visits SET staff_id = 'b' WHERE visit_id = $1", visit.visit_id),
                "it was cancelled": lambda: Store(conn).cancel_visit(visit.visit_id),
                "a shift added": lambda: conn.execute(
                    "INSERT INTO shifts (staff_id, starts_at, ends_at) VALUES ('a', $1, $2)", DAY + timedelta(days=20), DAY + timedelta(days=20, hours=8)
                ),
                "a shift removed": lambda: conn.execute("DELETE FROM shifts WHERE staff_id = 'a' AND starts_at = $1", DAY + timedelta(days=20)),
                "a member's skills changed": lambda: conn.execute("UPDATE staff SET skills = '{learning-disability}' WHERE staff_id = 'b'"),
            }
            for change, do in changes.items():
                await do()
                seen.append(await _version(conn))
                assert seen[-1] is not None and seen[-1] != seen[-2], f"{change}: the team's roster version did not move"
            unchanged = _visit("a", DAY + timedelta(hours=11))
            await Store(conn).add_visits(unchanged)
            before = await _version(conn)
            await conn.execute("UPDATE visits SET started_at = $2, late_notified_at = $2 WHERE visit_id = $1", unchanged.visit_id, DAY)
            await Store(conn).mark_missed(unchanged.visit_id, DAY)
            assert await _version(conn) == before, "a visit started, late or missed is still booked: the roster did not change"
            await Store(conn).add_visits(_visit(None, DAY + timedelta(hours=12)))
            assert await _version(conn) == before, "a visit with nobody on it books nobody"
    finally:
        await pool.close()


async def test_a_plan_reuses_the_roster_the_last_plan_left_while_nothing_else_changed_it(scratch_database: str) -> None:
    pool = await db.create_pool(scratch_database)
    cache = RosterCache()
    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS, MIGRATIONS])
        async with pool.acquire() as conn:
            await _team_on_shift(conn)
            async with conn.transaction():
                first = await _a_plan(conn, cache, "a", DAY + timedelta(hours=9))
            async with conn.transaction():
                second = await _a_plan(conn, cache, "a", DAY + timedelta(hours=10))
            assert second is first, "the second plan read the roster again although only the first plan had changed it"
            async with conn.transaction():
                third = await Store(conn, cache).roster(TEAM, *PLAN_SPAN)
            assert not third.available("a", DAY + timedelta(hours=9), ()) and not third.available("a", DAY + timedelta(hours=10), ())
            assert third.booked == (await Store(conn)._read_roster(TEAM, PLAN_SPAN[0], PLAN_SPAN[1] + SLACK)).booked
    finally:
        await pool.close()


async def test_a_plan_reads_the_roster_again_after_another_instance_a_rota_change_or_a_rolled_back_plan(scratch_database: str) -> None:
    pool = await db.create_pool(scratch_database)
    cache = RosterCache()
    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS, MIGRATIONS])
        async with pool.acquire() as conn, pool.acquire() as elsewhere:
            await _team_on_shift(conn)
            async with conn.transaction():
                await _a_plan(conn, cache, "a", DAY + timedelta(hours=9))

            await Store(elsewhere).add_visits(_visit("b", DAY + timedelta(hours=9)))  # another instance's plan
            async with conn.transaction():
                roster = await _a_plan(conn, cache, "a", DAY + timedelta(hours=10))
            assert not roster.available("b", DAY + timedelta(hours=9), ()), "another instance's booking was not seen"

            await elsewhere.execute("DELETE FROM shifts WHERE staff_id = 'b' AND starts_at = $1", DAY + timedelta(days=1, hours=8))
            async with conn.transaction():
                roster = await _a_plan(conn, cache, "a", DAY + timedelta(hours=11))
            assert not roster.available("b", DAY + timedelta(days=1, hours=9), ()), "the rota change was not seen"

            with contextlib.suppress(RuntimeError):
                async with conn.transaction():
                    await _a_plan(conn, cache, "a", DAY + timedelta(hours=12))
                    raise RuntimeError("the plan's transaction fails after its visit was written")
            async with conn.transaction():
                roster = await Store(conn, cache).roster(TEAM, *PLAN_SPAN)
            assert roster.available("a", DAY + timedelta(hours=12), ()), "a booking rolled back was still in the roster"
            assert not roster.available("a", DAY + timedelta(hours=11), ())
    finally:
        await pool.close()
