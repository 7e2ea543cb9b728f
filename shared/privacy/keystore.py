"""Where copy keys are kept: outside the service's database and its backups, so a database
restored from last night's backup, or rebuilt, cannot bring back a key destroyed since. The
service's `copy_keys` table keeps only which key sealed what, for whom, and when it was destroyed.

`KeyStore` is the whole interface: three calls a KMS could answer (put a key, get one, destroy
some). `PostgresKeyStore` answers them from a database of its own (`CAREPATH_KEYSTORE_URL`); its
backups are the key store's, kept apart from the service's, and a key deleted there is gone from
every later backup. With a KMS the keys would never leave it."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

import asyncpg

_SCHEMA = """
CREATE TABLE IF NOT EXISTS copy_key_material (
    key_id     uuid PRIMARY KEY,
    key        bytea       NOT NULL,
    created_at timestamptz NOT NULL
);
-- The ids of destroyed keys, kept for good: a key once destroyed is never held again, whatever
-- offers it back (a service database restored from a backup that still held it, say).
CREATE TABLE IF NOT EXISTS destroyed_key_ids (
    key_id       uuid PRIMARY KEY,
    destroyed_at timestamptz NOT NULL
);
"""


class KeyStore(Protocol):
    async def put(self, key_id: UUID, key: bytes) -> None:
        """Holds a new key (committed before the caller records that it exists); a key id once
        destroyed is never held again."""

    async def get(self, key_id: UUID) -> bytes | None:
        """The key, or None if it was destroyed or never held here."""

    async def destroy(self, key_ids: Sequence[UUID]) -> None:
        """Forgets the keys for good."""


class PostgresKeyStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str, **pool_options: object) -> "PostgresKeyStore":
        from shared.runtime.db import create_pool  # the runtime's pool settings, written once

        pool = await create_pool(url, **pool_options)
        async with pool.acquire() as conn:
            await conn.execute(_SCHEMA)
        return cls(pool)

    async def close(self) -> None:
        await self._pool.close()

    async def put(self, key_id: UUID, key: bytes) -> None:
        await self._pool.execute(
            "INSERT INTO copy_key_material (key_id, key, created_at) SELECT $1, $2, $3 "
            "WHERE NOT EXISTS (SELECT FROM destroyed_key_ids WHERE key_id = $1) ON CONFLICT (key_id) DO NOTHING",
            key_id, key, datetime.now(UTC),
        )

    async def get(self, key_id: UUID) -> bytes | None:
        return await self._pool.fetchval("SELECT key FROM copy_key_material WHERE key_id = $1", key_id)

    async def destroy(self, key_ids: Sequence[UUID]) -> None:
        if key_ids:
            await self._pool.execute(
                "WITH gone AS (INSERT INTO destroyed_key_ids (key_id, destroyed_at) SELECT unnest($1::uuid[]), $2 "
                "ON CONFLICT (key_id) DO NOTHING) DELETE FROM copy_key_material WHERE key_id = ANY($1::uuid[])",
                list(key_ids), datetime.now(UTC),
            )
