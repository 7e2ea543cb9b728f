"""Destroyed means destroyed, on the real databases: a copy key destroyed by a withdrawal stays
destroyed when the service's database is restored from a backup taken before the withdrawal,
because the keys live in the service's key store, not its database."""

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import TOPICS, CarerInformation, CarerInformationShared, ConsentRecorded, ConsentWithdrawn
from contracts import InformationCategory as C
from shared.privacy import copies
from shared.privacy.copies import Unreadable
from shared.privacy.keystore import PostgresKeyStore
from shared.runtime import db
from tests.acceptance.conftest import PG_SERVER, a_deployment
from tests.acceptance.deployment import Deployment, recreate_databases
from tools.journey import Journey, Patient, consent_capture, trust_systems

SECTIONS = {
    "crisis_plan": {"warning_signs": ["stops eating"], "what_to_do": "Call the duty line.", "who_to_contact": ["HTCR duty line"]},
    "family_and_carers": {"composition": "Lives with partner.", "carers": [
        {"carer_id": "partner-8", "name": "Alex", "relationship": "partner", "contact": "07700 900888",
         "strain": "medium", "carers_assessment": "offered"}]},
}


async def test_a_withdrawn_copy_stays_unreadable_when_the_database_is_restored_from_a_backup_taken_before_the_withdrawal(
    deployment: Deployment, journey: Journey, tmp_path: Path
) -> None:
    accepted = await journey.refer()
    permit = ConsentRecorded(consent_id=uuid4(), patient_id=accepted.patient_id, recipient="carer:partner-8",
                             categories=(C.CARER_GENERAL_INFORMATION,), permit=True, recorded_by="staff-0042",
                             recorded_at=datetime.now(UTC))
    await journey.consent.publish(permit)
    await deployment.settled()
    await journey.submit_assessment(accepted, sections=SECTIONS)
    shared = await deployment.log.wait_for(CarerInformationShared, lambda e: e.patient_id == accepted.patient_id)
    await deployment.settled()
    assert (await deployment.open_copy(shared)).how_to_help  # the carer can read it
    backup = tmp_path / "assessment.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={backup}", deployment.databases["assessment"]], check=True, timeout=120)

    await journey.consent.publish(ConsentWithdrawn(consent_id=permit.consent_id, patient_id=accepted.patient_id,
                                                   recorded_by="staff-0042", withdrawn_at=datetime.now(UTC)))
    await deployment.settled()
    with pytest.raises(Unreadable):
        await deployment.open_copy(shared)

    restored = f"carepath_test_restored_{uuid4().hex[:8]}"
    await recreate_databases(PG_SERVER, [restored])
    try:
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={PG_SERVER}/{restored}", str(backup)], check=True, timeout=120)
        pool = await db.create_pool(f"{PG_SERVER}/{restored}", min_size=1, max_size=1)
        try:
            # The restored database remembers the key as live, as it was that night...
            [row] = await pool.fetch("SELECT destroyed_at FROM copy_keys WHERE key_id = $1", shared.sealed.key_id)
            assert row["destroyed_at"] is None
        finally:
            await pool.close()
        # ...but the key itself is gone from the key store: the copy does not open.
        with pytest.raises(Unreadable):
            await deployment.open_copy(shared, database=f"{PG_SERVER}/{restored}")
    finally:
        await recreate_databases(PG_SERVER, [restored], create=False)



async def test_a_key_the_restored_database_thinks_live_but_the_key_store_lost_is_never_sealed_with_again(scratch_database: str) -> None:
    """After such a restore the next copy for that recipient gets a new key, and the old record
    says why it is dead."""
    pool = await db.create_pool(scratch_database, min_size=1, max_size=2)
    keys = await PostgresKeyStore.open(scratch_database, min_size=1, max_size=1)
    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS])
        patient, now = uuid4(), datetime.now(UTC)
        content = CarerInformation(signs_of_relapse=("stops eating",), how_to_help="Call the duty line.")
        async with pool.acquire() as conn:
            first = await copies.seal(conn, keys, patient, "carer:partner-8", CarerInformationShared, content,
                                      [C.CARER_GENERAL_INFORMATION], now)
            again = await copies.seal(conn, keys, patient, "carer:partner-8", CarerInformationShared, content,
                                      [C.CARER_GENERAL_INFORMATION], now)
            assert again.key_id == first.key_id  # one live key per patient and recipient
            await keys.destroy([first.key_id])  # what a restore from before its destruction looks like
            fresh = await copies.seal(conn, keys, patient, "carer:partner-8", CarerInformationShared, content,
                                      [C.CARER_GENERAL_INFORMATION], now)
            dead = await conn.fetchrow("SELECT destroyed_at, destroyed_because FROM copy_keys WHERE key_id = $1", first.key_id)
        assert fresh.key_id != first.key_id
        assert dead["destroyed_at"] is not None and "not in the key store" in dead["destroyed_because"]
    finally:
        await keys.close()
        await pool.close()


async def test_a_destroyed_key_offered_back_to_the_key_store_is_refused(scratch_database: str) -> None:
    """A backup from before the key store, restored, still holds keys in its database: those
    destroyed since are not taken back when they are moved to the key store."""
    keys = await PostgresKeyStore.open(scratch_database, min_size=1, max_size=1)
    try:
        kept, destroyed = uuid4(), uuid4()
        await keys.put(kept, b"k" * 32)
        await keys.put(destroyed, b"d" * 32)
        await keys.destroy([destroyed])
        await keys.put(destroyed, b"d" * 32)  # offered back
        assert await keys.get(destroyed) is None and await keys.get(kept) == b"k" * 32
    finally:
        await keys.close()


async def test_a_denied_carers_copy_stays_unreadable_and_none_is_sent_when_the_database_is_rebuilt_from_the_log_eight_days_later(
    tmp_path: Path,
) -> None:
    """The assessment service's database lost and rebuilt by reading every topic again from the
    start, eight days on (past the broker's default retention, which consent.inbound does not
    use): the rebuilt service learns of the patient's deny from the log, and nothing it does
    while catching up leaves the carer a copy they can open. A deployment of the test's own: a
    rebuild replays everything, which would upset the session's other tests."""
    async with a_deployment(tmp_path) as deployment:
        gp, clinician, staff_app = trust_systems(deployment.kafka, deployment.prefix)
        async with gp, clinician, staff_app, consent_capture(deployment.kafka, deployment.prefix) as consent:
            journey = Journey(deployment.log, gp, clinician, staff_app, Patient(), timeout_s=60, consent=consent)
            accepted = await journey.refer()
            permit = ConsentRecorded(consent_id=uuid4(), patient_id=accepted.patient_id, recipient="carer:partner-8",
                                     categories=(C.CARER_GENERAL_INFORMATION,), permit=True, recorded_by="staff-0042",
                                     recorded_at=datetime.now(UTC))
            await consent.publish(permit)
            await deployment.settled()
            await journey.submit_assessment(accepted, sections=SECTIONS)
            first = await deployment.log.wait_for(CarerInformationShared, lambda e: e.patient_id == accepted.patient_id)
            # The patient says the partner is to be told nothing: a named person's deny, which wins over everything.
            await consent.publish(ConsentRecorded(consent_id=uuid4(), patient_id=accepted.patient_id, recipient="carer:partner-8",
                                                  categories=tuple(C), permit=False, recorded_by="staff-0042",
                                                  recorded_at=datetime.now(UTC)))
            await deployment.settled()
            with pytest.raises(Unreadable):
                await deployment.open_copy(first)

            assessment = deployment.services["assessment"]
            assessment.stop()
            await deployment.pools.pop("assessment").close()  # the tests' own connections to the database lost
            await recreate_databases(PG_SERVER, [deployment.databases["assessment"].rsplit("/", 1)[1]])
            await from_the_start(deployment, deployment.groups_of("assessment"))
            deployment.move_clock(timedelta(days=8))
            try:
                Path(assessment.env["CAREPATH_HEARTBEAT_FILE"]).unlink(missing_ok=True)
                assessment.start()
                await deployment.ready()
                await deployment.settled(timeout_s=120)
            finally:
                deployment.move_clock(timedelta(0))

        copies_to_carer = deployment.log.events(CarerInformationShared, lambda e: e.patient_id == accepted.patient_id)
        assert len(copies_to_carer) >= 1
        for copy in copies_to_carer:
            with pytest.raises(Unreadable):
                await deployment.open_copy(copy)
        delivered = await deployment.delivered("assessment", accepted.patient_id, "carer:partner-8")
        assert delivered == [], "the rebuilt service delivered the carer a copy after the deny"


async def from_the_start(deployment: Deployment, groups: dict[str, list[str]]) -> None:
    """Each group's committed offsets set back to the start of every partition (while none of its
    members runs), as an operator resets a group to rebuild a database from the log."""
    for group, topics in groups.items():
        consumer = AIOKafkaConsumer(**deployment.kafka.options(), group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            counts = {topic.full_name(deployment.prefix): topic.partitions for topic in TOPICS}
            partitions = [TopicPartition(topic, p) for topic in topics for p in range(counts[topic])]
            consumer.assign(partitions)
            starts = await consumer.beginning_offsets(partitions)
            await consumer.commit({tp: offset for tp, offset in starts.items()})
        finally:
            await consumer.stop()
