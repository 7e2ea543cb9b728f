"""The gateway's queries: a request's answer kept under its keys, in the transaction that queues
its event in the outbox (shared/runtime/outbox.py), and found again for a resend."""

import hashlib
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from contracts import Envelope, Event
from shared.runtime import outbox


@dataclass(frozen=True)
class Answer:
    """What a request was answered, as kept."""

    fingerprint: bytes
    event_id: UUID
    status: int
    location: str
    response: str


def fingerprint(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


class Store:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def answer(self, caller: str, key: str) -> Answer | None:
        row = await self.conn.fetchrow(
            "SELECT fingerprint, event_id, status, location, response FROM gateway_requests WHERE caller = $1 AND key = $2",
            caller, key)
        return Answer(**row) if row else None

    async def keep(self, caller: str, keys: list[str], answer: Answer) -> Answer | None:
        """Keeps the answer under each key; if one is already taken (a resend, or another
        request in flight under it, waited for), nothing is kept and the answer given then is returned."""
        for key in keys:
            taken = await self.conn.fetchval(
                "INSERT INTO gateway_requests (caller, key, fingerprint, event_id, status, location, response) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING false",
                caller, key, answer.fingerprint, answer.event_id, answer.status, answer.location, answer.response)
            if taken is None:
                return await self.answer(caller, key)
        return None

    async def queue(self, event: Event, envelope: Envelope) -> None:
        await outbox.add(self.conn, (event, envelope))


class PostgresDesk:
    """The web app's desk on the gateway's database: each accepted request in one transaction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def accept(self, caller: str, keys: list[str], answer: Answer, event: Event, envelope: Envelope) -> Answer:
        async with self.pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                store = Store(conn)
                kept = await store.keep(caller, keys, answer)
                if kept is not None:
                    await transaction.rollback()  # a resend: the keys taken for it so far go too
                    return kept
                await store.queue(event, envelope)
            except BaseException:
                await transaction.rollback()
                raise
            await transaction.commit()
            return answer
