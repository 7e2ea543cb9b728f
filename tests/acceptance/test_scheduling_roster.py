"""The roster a plan reads from the real PostgreSQL is the roster the rota describes. The database
works out each shift's slot hours and each booking's second itself (a plan reads hundreds of
shifts and thousands of bookings); what it gives must be what the pure roster makes of the same
shifts and visits, at the awkward edges too: shifts off the hour, across midnight and a clock
change, written in another offset, and bookings cancelled or outside the span."""

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

from services.scheduling.app import MIGRATIONS
from services.scheduling.planning import Roster, Staff
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
