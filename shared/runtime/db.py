"""PostgreSQL access shared by the services: the pool, and plain numbered SQL migrations."""

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SHARED_MIGRATIONS = Path(__file__).parent.parent / "migrations"
_MIGRATION_LOCK = 0x636172657061  # any constant: serialises migrations of concurrent starts


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 8) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, reset=_keep_session, **connect_options(dsn))


async def _keep_session(conn: asyncpg.Connection) -> None:
    """A connection goes back to the pool as it is, without asyncpg's default reset (a round trip
    per release, undoing session state carepath leaves nowhere: its advisory locks are
    transaction-scoped, except the outbox relay's, which the relay unlocks itself along with its
    LISTEN). asyncpg still rolls back an open transaction and drops the connection's listeners
    before calling this."""


def connect_options(dsn: str) -> dict[str, object]:
    """TLS to a database on this very machine protects nothing and costs every query its
    encryption in Python (asyncpg's default, `prefer`, takes TLS whenever the server offers it):
    off for a loopback host unless the URL asks for an `sslmode`. Any other host keeps the default."""
    url = urlsplit(dsn)
    if "sslmode" not in parse_qs(url.query) and (url.hostname or "") in LOOPBACK_HOSTS:
        return {"ssl": False}
    return {}


async def migrate(pool: asyncpg.Pool, directories: Sequence[Path]) -> list[str]:
    """Applies, in order, every `NNN_name.sql` not applied yet; returns those it applied."""
    applied_now = []
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row["name"] for row in await conn.fetch("SELECT name FROM schema_migrations")}
        for directory in directories:
            for path in sorted(directory.glob("[0-9][0-9][0-9]_*.sql")):
                name = f"{directory.parent.name}/{path.name}"
                if name in done:
                    continue
                await conn.execute(path.read_text())
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied_now.append(name)
    return applied_now
