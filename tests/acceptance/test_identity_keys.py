"""Identity keys on the real database: a patient recorded before key rings (the lookup keyed by
the setting's text) is still found, and one recorded under an older key of the ring too; a new
patient is recorded under the newest key."""

import base64
import hashlib
import hmac
import secrets
from uuid import uuid4

from services.referral.app import MIGRATIONS, create_service
from services.referral.settings import Settings
from shared.runtime import db
from tests.factories import new_hc_number, referral


async def test_patients_hashed_the_old_way_or_under_an_older_key_are_found_and_new_ones_use_the_newest(scratch_database: str) -> None:
    old_text, older, newest = "a pre-ring passphrase set in 2025", secrets.token_bytes(32), secrets.token_bytes(32)
    before_rings, under_v1, new_patient = new_hc_number(), new_hc_number(), new_hc_number()
    pool = await db.create_pool(scratch_database, min_size=1, max_size=2)
    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS, MIGRATIONS])
        known = {before_rings: uuid4(), under_v1: uuid4()}
        async with pool.acquire() as conn:
            for number, key in ((before_rings, old_text.encode()), (under_v1, older)):
                digest = hmac.new(key, number.replace(" ", "").encode(), hashlib.sha256).digest()
                await conn.execute("INSERT INTO patients (patient_id, hc_lookup, identity) VALUES ($1, $2, '\\x00')", known[number], digest)

        def store_with(setting: str):
            service = create_service(Settings(database_url=scratch_database, identity_key=setting))
            return lambda conn: service.store(conn)

        async with pool.acquire() as conn:
            # the service as it was configured before rings: the text itself
            found = await store_with(old_text)(conn).find_or_add_patient(referral(), before_rings.replace(" ", ""), uuid4())
            assert found.patient_id == known[before_rings]
            ring = f"v2:{base64.b64encode(newest).decode()},v1:{base64.b64encode(older).decode()}"
            store = store_with(ring)(conn)
            assert (await store.find_or_add_patient(referral(), under_v1.replace(" ", ""), uuid4())).patient_id == known[under_v1]
            added = await store.find_or_add_patient(referral(), new_patient.replace(" ", ""), uuid4())
            stored = await conn.fetchval("SELECT hc_lookup FROM patients WHERE patient_id = $1", added.patient_id)
        assert stored == hmac.new(newest, new_patient.replace(" ", "").encode(), hashlib.sha256).digest()
    finally:
        await pool.close()
