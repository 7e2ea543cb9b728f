"""Sealed copies: a patient's information encrypted for one recipient (AES-GCM, `cryptography`).

Each service that sends copies keeps one key per patient and recipient: which key sealed what,
for whom, in its own database (`copy_keys`), and the key itself in its key store
(`shared.privacy.keystore`), outside that database and its backups. Kafka holds only ciphertext. The associated data
binds a copy to its patient, recipient and event type: moved onto another event it does not
open. Destroying a recipient's key (consent withdrawn or narrowed, shared copies erased) makes
every copy already sent to it unreadable, for good: restoring the database from a backup taken
before brings back the record of the key, never the key. A later copy gets a new key.
"""

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

import asyncpg
from cryptography.exceptions import InvalidTag
from pydantic import BaseModel

from contracts import AddressedCopy, InformationCategory, Sealed
from shared.privacy import crypto
from shared.privacy.keystore import KeyStore


class Unreadable(Exception):
    """The copy cannot be opened: its key was destroyed, is not held here, or does not fit."""


def _associated(patient_id: UUID, recipient: str, event_type: type[AddressedCopy]) -> bytes:
    return f"{patient_id}|{recipient}|{event_type.cloudevents_type()}".encode()


async def seal(
    conn: asyncpg.Connection,
    keys: KeyStore,
    patient_id: UUID,
    recipient: str,
    event_type: type[AddressedCopy],
    content: BaseModel,
    categories: Iterable[InformationCategory],
    now: datetime,
) -> Sealed:
    key_id, key = await _live_key(conn, keys, patient_id, recipient, now)
    await conn.execute(
        "UPDATE copy_keys SET categories = ARRAY(SELECT DISTINCT unnest(categories || $2::text[]) ORDER BY 1) WHERE key_id = $1",
        key_id,
        [category.value for category in categories],
    )
    sealed = crypto.seal_bytes(key, content.model_dump_json().encode(), _associated(patient_id, recipient, event_type))
    return Sealed(key_id=key_id, ciphertext=base64.b64encode(sealed).decode())


@dataclass(frozen=True)
class Provenance:
    """What the sending service itself knows of a copy that claims to be one of its own."""

    forged: str | None = None  # why it is not a copy this service sealed as it says, if it is not
    destroyed: bool = False  # its key has been destroyed (consent changed, copies erased)


async def provenance(conn: asyncpg.Connection, keys: KeyStore, copy: AddressedCopy) -> Provenance:
    """Whether this service sealed the copy, for its patient and recipient, with what it says it
    carries: its key must be one made here, it must open with it (AES-GCM checks the patient,
    recipient and type it was sealed for), and its categories must be ones the key sealed."""
    row = await conn.fetchrow("SELECT destroyed_at, categories FROM copy_keys WHERE key_id = $1", copy.sealed.key_id)
    if row is None:
        return Provenance(forged="its key was never made here: not a copy this service sealed")
    if not {category.value for category in copy.categories} <= set(row["categories"]):
        return Provenance(forged="it claims categories its key never sealed")
    key = await keys.get(copy.sealed.key_id) if row["destroyed_at"] is None else None
    if key is None:
        return Provenance(destroyed=True)
    try:
        crypto.open_bytes(key, base64.b64decode(copy.sealed.ciphertext), _associated(copy.patient_id, copy.recipient, type(copy)))
    except (InvalidTag, ValueError):
        return Provenance(forged="it does not open with its key for this patient and recipient: altered, or not sealed here")
    return Provenance()


async def open_copy(conn: asyncpg.Connection, keys: KeyStore, copy: AddressedCopy) -> BaseModel:
    """The content of a copy this service sent, if its key still exists."""
    destroyed = await conn.fetchval("SELECT destroyed_at IS NOT NULL FROM copy_keys WHERE key_id = $1", copy.sealed.key_id)
    key = await keys.get(copy.sealed.key_id) if destroyed is False else None
    if key is None:
        raise Unreadable("the key for this copy has been destroyed or is not held here")
    raw = base64.b64decode(copy.sealed.ciphertext)
    try:
        plain = crypto.open_bytes(key, raw, _associated(copy.patient_id, copy.recipient, type(copy)))
    except InvalidTag as error:
        raise Unreadable("the copy does not open with its key (altered, or moved to another recipient)") from error
    return type(copy).content_type.model_validate_json(plain)


async def seal_kept(
    conn: asyncpg.Connection, keys: KeyStore, patient_id: UUID, holder: str, bound_to: str, words: str, now: datetime
) -> Sealed:
    """Words a service keeps and never sends (a person's feedback in their own words), sealed at
    rest under the patient's key for `holder` (say "feedback"), bound to the record they belong
    to. The key lives in the key store like a copy's, so an erasure of all the patient's copies
    makes these unreadable too."""
    key_id, key = await _live_key(conn, keys, patient_id, holder, now)
    sealed = crypto.seal_bytes(key, words.encode(), f"{patient_id}|{holder}|{bound_to}".encode())
    return Sealed(key_id=key_id, ciphertext=base64.b64encode(sealed).decode())


async def open_kept(conn: asyncpg.Connection, keys: KeyStore, patient_id: UUID, holder: str, bound_to: str, sealed: Sealed) -> str:
    """Words `seal_kept` sealed; `Unreadable` once their key is destroyed, or on another record."""
    destroyed = await conn.fetchval("SELECT destroyed_at IS NOT NULL FROM copy_keys WHERE key_id = $1", sealed.key_id)
    key = await keys.get(sealed.key_id) if destroyed is False else None
    if key is None:
        raise Unreadable("the key for these words has been destroyed or is not held here")
    try:
        return crypto.open_bytes(key, base64.b64decode(sealed.ciphertext), f"{patient_id}|{holder}|{bound_to}".encode()).decode()
    except InvalidTag as error:
        raise Unreadable("the words do not open with their key here (altered, or moved to another record)") from error


async def destroy_keys(
    conn: asyncpg.Connection,
    keys: KeyStore,
    patient_id: UUID,
    recipient: str | None,
    now: datetime,
    because: str,
    concerning: Iterable[InformationCategory] | None = None,
) -> int:
    """Destroys the recipient's live key for this patient (every recipient's, with None), or
    only a key that has sealed one of the `concerning` categories; returns how many it destroyed.
    The keys go from the key store before this transaction commits: should it roll back, the
    record says the key lives while the key is gone, and the next copy gets a new one."""
    destroyed = await conn.fetch(
        "UPDATE copy_keys SET key = NULL, destroyed_at = $3, destroyed_because = $4 "
        "WHERE patient_id = $1 AND ($2::text IS NULL OR recipient = $2) AND destroyed_at IS NULL "
        "AND ($5::text[] IS NULL OR categories && $5::text[]) RETURNING key_id",
        patient_id,
        recipient,
        now,
        because,
        None if concerning is None else [category.value for category in concerning],
    )
    await keys.destroy([row["key_id"] for row in destroyed])
    return len(destroyed)


async def move_keys_to_store(conn: asyncpg.Connection, keys: KeyStore) -> int:
    """Keys still in the database (from before the key store) go to the key store, and out of
    the database; returns how many. One the key store has seen destroyed is not taken back."""
    rows = await conn.fetch("SELECT key_id, key FROM copy_keys WHERE key IS NOT NULL FOR UPDATE")
    for row in rows:
        await keys.put(row["key_id"], row["key"])
    await conn.execute("UPDATE copy_keys SET key = NULL WHERE key_id = ANY($1::uuid[])", [row["key_id"] for row in rows])
    return len(rows)


async def _live_key(conn: asyncpg.Connection, keys: KeyStore, patient_id: UUID, recipient: str, now: datetime) -> tuple[UUID, bytes]:
    """The recipient's live key for the patient, made (and put in the key store first) if there
    is none. A key recorded as live but missing from the key store (the database restored from a
    backup taken before it was destroyed) is recorded destroyed, and a new one made."""
    while True:
        key_id = await conn.fetchval(  # held until commit: a destruction waits for this copy, then covers it
            "SELECT key_id FROM copy_keys WHERE patient_id = $1 AND recipient = $2 AND destroyed_at IS NULL FOR SHARE",
            patient_id, recipient,
        )
        if key_id is not None:
            key = await keys.get(key_id)
            if key is not None:
                return key_id, key
            await conn.execute("UPDATE copy_keys SET destroyed_at = $2, destroyed_because = $3 WHERE key_id = $1 AND destroyed_at IS NULL",
                               key_id, now, "not in the key store (destroyed before a restore?)")
        key_id, key = uuid4(), crypto.new_key()
        await keys.put(key_id, key)
        made = await conn.fetchval(
            "INSERT INTO copy_keys (key_id, patient_id, recipient, created_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (patient_id, recipient) WHERE destroyed_at IS NULL DO NOTHING RETURNING key_id",
            key_id, patient_id, recipient, now,
        )
        if made is not None:
            return key_id, key
        await keys.destroy([key_id])  # another transaction made one first: use theirs
