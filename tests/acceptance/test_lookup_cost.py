"""What a service does for each event must not cost more as its database grows: the lookups an
event makes read an index, never a whole table. Each case fills a service's real schema with
thousands of rows, then runs the service's own queries and asks PostgreSQL whether any of them read
a table from end to end (`pg_stat_xact_user_tables`, this transaction's own counts)."""

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import pytest

from services.assessment import store as assessment_store
from services.assessment.app import MIGRATIONS as ASSESSMENT_MIGRATIONS
from services.discharge import store as discharge_store
from services.discharge.app import MIGRATIONS as DISCHARGE_MIGRATIONS
from services.referral import store as referral_store
from services.referral.app import MIGRATIONS as REFERRAL_MIGRATIONS
from shared.privacy.crypto import KeyRing
from shared.runtime import db
from tests.factories import referral

HELD = 5_000  # rows already held: enough that the planner reads an index when there is one
KEYS = referral_store.IdentityKeys(lookup=KeyRing(((1, b"L" * 32),)), sealing=KeyRing(((1, b"k" * 32),)))
KNOWN_HC_NUMBER = "320 000 0019"  # patient 1234 of the fill is looked up by this number
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)

_FILL_REFERRAL = f"""
INSERT INTO patients (patient_id, hc_lookup, identity)
    SELECT md5(''||n)::uuid, decode(md5(''||n), 'hex'), '\\x00' FROM generate_series(1, {HELD}) n;
INSERT INTO episodes (episode_id, patient_id, trust, opened_at, closed_at)
    SELECT md5('e' || n)::uuid, md5(''||n)::uuid, 'belfast', now() - interval '30 days',
           CASE WHEN n % 10 = 0 THEN NULL ELSE now() END
    FROM generate_series(1, {HELD}) n;
INSERT INTO referrals (trust, referral_id, patient_id, episode_id, source, urgency, submitted_at, received_at,
                       decision, correlation_id, assessment_started_at, referring_system)
    SELECT 'belfast', 'R' || n, md5(''||n)::uuid, md5('e' || n)::uuid, 'gp', 2, now(), now(), 'accepted',
           md5('c' || n)::uuid, now(), '/trust/belfast/gp-system'
    FROM generate_series(1, {HELD}) n;
UPDATE patients SET hc_lookup = decode('{referral_store.hc_lookup(KEYS.lookup.current[1], KNOWN_HC_NUMBER).hex()}', 'hex')
    WHERE patient_id = md5('1234')::uuid;
"""

_FILL_DISCHARGE = f"""
INSERT INTO episodes (episode_id, patient_id, opened_at, closed_at, review_due_at)
    SELECT md5('e' || n)::uuid, md5(''||n)::uuid, now() - interval '60 days', now() - interval '1 day', now()
    FROM generate_series(1, {HELD}) n;
INSERT INTO followups (followup_id, patient_id, episode_id, source, discharged_at, due_by, contacted_at)
    SELECT md5('f' || n)::uuid, md5(''||n)::uuid, md5('e' || n)::uuid, 'home-treatment', now() - interval '1 day',
           now() + interval '2 days', now()
    FROM generate_series(1, {HELD}) n;
"""

_FILL_ASSESSMENT = f"""
INSERT INTO care_teams (patient_id, team, episode_id, joined_at, left_at)
    SELECT md5(''||n)::uuid, 'cmht:belfast-north', md5('e' || n)::uuid, now() - interval '30 days',
           CASE WHEN n % 2 = 0 THEN NULL ELSE now() END
    FROM generate_series(1, {HELD}) n;
"""


def _row(kind: str, n: int) -> UUID:
    """The id the fill gave row `n` of a kind (md5 of the kind and n, as in the SQL above)."""
    return UUID(hashlib.md5(f"{kind}{n}".encode()).hexdigest())


async def _a_referral_for_a_new_and_a_known_patient(conn: asyncpg.Connection) -> None:
    new, known = referral(), referral()
    store = referral_store.Store(conn, KEYS)
    assert await store.referred_patient("/trust/belfast/gp-system", new.referral_id) is None
    assert await store.referred_patient("/trust/belfast/gp-system", "R1234") is not None
    assert await store.patient_with(KNOWN_HC_NUMBER) is not None
    await store.find_or_add_patient(new, "943 476 5919", uuid4())
    patient = await store.find_or_add_patient(known, KNOWN_HC_NUMBER, uuid4())
    assert patient.known, "the known patient was not found: the case proves nothing"


async def _an_assessment_starting(conn: asyncpg.Connection) -> None:
    await referral_store.Store(conn, KEYS).assessment_started(_row("e", 4321), NOW)


async def _a_discharge_and_a_contact(conn: asyncpg.Connection) -> None:
    store = discharge_store.Store(conn)
    assert await store.last_discharge(_row("", 2345), uuid4()) is not None
    await store.contact(_row("", 2345), NOW)
    await store.open_episodes_unreviewed(NOW - timedelta(days=42))


async def _an_episode_ending(conn: asyncpg.Connection) -> None:
    await assessment_store.Store(conn).leave_care(_row("e", 3460), "cmht", NOW)


CASES = {
    "referral: a referral, new patient or known": (REFERRAL_MIGRATIONS, _FILL_REFERRAL, _a_referral_for_a_new_and_a_known_patient),
    "referral: an assessment starting": (REFERRAL_MIGRATIONS, _FILL_REFERRAL, _an_assessment_starting),
    "discharge: a discharge's history, a contact, the review sweep": (DISCHARGE_MIGRATIONS, _FILL_DISCHARGE, _a_discharge_and_a_contact),
    "assessment: the teams leaving when an episode ends": (ASSESSMENT_MIGRATIONS, _FILL_ASSESSMENT, _an_episode_ending),
}


@pytest.mark.parametrize("case", CASES)
async def test_an_events_lookups_read_an_index_not_the_whole_table(scratch_database: str, case: str) -> None:
    migrations, fill, work = CASES[case]
    tables = await _whole_table_reads(scratch_database, migrations, fill, work)
    assert tables == {}, f"{case}: read whole tables of {HELD:,} rows or more: {tables}"


async def _whole_table_reads(
    url: str, migrations: Path, fill: str, work: Callable[[asyncpg.Connection], Awaitable[None]]
) -> dict[str, int]:
    pool = await db.create_pool(url)
    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS, migrations])
        async with pool.acquire() as conn:
            await conn.execute(fill)
            await conn.execute("ANALYZE")
            async with conn.transaction():  # counts not yet flushed may include the fill's: compare
                before = await _seq_scans(conn)
                await work(conn)
                after = await _seq_scans(conn)
    finally:
        await pool.close()
    return {table: scans - before.get(table, 0) for table, scans in after.items() if scans > before.get(table, 0)}


async def _seq_scans(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT t.relname, t.seq_scan FROM pg_stat_xact_user_tables t JOIN pg_class c ON c.oid = t.relid "
        "WHERE c.reltuples >= $1",
        HELD,
    )
    return {row["relname"]: row["seq_scan"] for row in rows}
