"""The privacy tables every service has (consent decisions, copy keys, deliveries), as one store
on the transaction a handler runs in, `ctx.privacy`: a handler asks it for a patient's consent
and seals copies with it, and a handler test gives it a fake instead."""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from contracts import AddressedCopy, InformationCategory, Sealed
from shared.privacy import consent_store, copies
from shared.privacy.consent import ConsentState
from shared.privacy.keystore import KeyStore


class _NoKeyStore:
    """A service that sends no copies holds no keys: it never seals, and has nothing to destroy."""

    async def put(self, key_id: UUID, key: bytes) -> None:
        raise RuntimeError("this service has no key store (CAREPATH_KEYSTORE_URL): it cannot seal copies")

    async def get(self, key_id: UUID) -> bytes | None:
        return None

    async def destroy(self, key_ids: object) -> None:
        return None


_NO_KEY_STORE = _NoKeyStore()


class PrivacyStore:
    def __init__(self, conn: asyncpg.Connection, keys: KeyStore | None = None) -> None:
        self.conn = conn
        self.keys = keys if keys is not None else _NO_KEY_STORE

    async def consent(self, patient_id: UUID) -> ConsentState:
        return await consent_store.load(self.conn, patient_id)

    async def carers(self, patient_id: UUID) -> list[str]:
        """The carers the patient's consent decisions name (by carer id)."""
        return await consent_store.carers(self.conn, patient_id)

    async def seal(
        self,
        patient_id: UUID,
        recipient: str,
        event_type: type[AddressedCopy],
        content: BaseModel,
        categories: Iterable[InformationCategory],
        now: datetime,
    ) -> Sealed:
        return await copies.seal(self.conn, self.keys, patient_id, recipient, event_type, content, categories, now)

    async def seal_kept(self, patient_id: UUID, holder: str, bound_to: str, words: str, now: datetime) -> Sealed:
        """Words kept here and never sent, sealed at rest (`copies.seal_kept`)."""
        return await copies.seal_kept(self.conn, self.keys, patient_id, holder, bound_to, words, now)

    async def open_kept(self, patient_id: UUID, holder: str, bound_to: str, sealed: Sealed) -> str:
        return await copies.open_kept(self.conn, self.keys, patient_id, holder, bound_to, sealed)

    async def open_copy(self, copy: AddressedCopy) -> BaseModel:
        """The content of a copy this service sent; `copies.Unreadable` once its key is destroyed."""
        return await copies.open_copy(self.conn, self.keys, copy)

    async def provenance(self, copy: AddressedCopy) -> copies.Provenance:
        """Whether this service sealed the copy as it says (`copies.provenance`)."""
        return await copies.provenance(self.conn, self.keys, copy)

    async def destroy_keys(self, patient_id: UUID, recipient: str | None, now: datetime, because: str,
                           concerning: Iterable[InformationCategory] | None = None) -> int:
        """Makes the recipient's copies (everyone's, with None) unreadable (`copies.destroy_keys`)."""
        return await copies.destroy_keys(self.conn, self.keys, patient_id, recipient, now, because, concerning)

    async def delivered(self, event_id: UUID, copy: AddressedCopy, event_type: str, consent_version: int, at: datetime) -> None:
        """A copy given to its recipient, kept (sealed) so they can open it through this service."""
        await self.conn.execute(
            "INSERT INTO deliveries (event_id, patient_id, recipient, event_type, key_id, consent_version, delivered_at, copy) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING",
            event_id,
            copy.patient_id,
            copy.recipient,
            event_type,
            copy.sealed.key_id,
            consent_version,
            at,
            copy.model_dump_json(),
        )

    async def deliveries(self, patient_id: UUID, recipient: str) -> list[asyncpg.Record]:
        """The copies delivered to a recipient about a patient, oldest first."""
        return await self.conn.fetch(
            "SELECT * FROM deliveries WHERE patient_id = $1 AND recipient = $2 ORDER BY delivered_at", patient_id, recipient
        )
