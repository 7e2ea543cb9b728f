"""The referral service's queries, and nothing else."""

import hashlib
import hmac
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts import ReferralAccepted, ReferralRedirected, ReferralSubmitted
from services.referral.domain import KnownPatient


def hc_lookup(key: bytes, hc_number: str) -> bytes:
    return hmac.new(key, hc_number.encode(), hashlib.sha256).digest()


async def referral_exists(conn: asyncpg.Connection, referral: ReferralSubmitted) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT true FROM referrals WHERE trust = $1 AND referral_id = $2",
            referral.trust.value,
            referral.referral_id,
        )
    )


async def find_or_add_patient(
    conn: asyncpg.Connection, lookup: bytes, hc_number: str, name: str, new_patient_id: UUID
) -> KnownPatient:
    patient_id = await conn.fetchval(
        "INSERT INTO patients (patient_id, hc_lookup, hc_number, name) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (hc_lookup) DO UPDATE SET hc_lookup = EXCLUDED.hc_lookup RETURNING patient_id",
        new_patient_id,
        lookup,
        hc_number,
        name,
    )
    open_episode = await conn.fetchval(
        "SELECT episode_id FROM episodes WHERE patient_id = $1 AND closed_at IS NULL", patient_id
    )
    return KnownPatient(patient_id, open_episode)


async def record_decision(
    conn: asyncpg.Connection,
    referral: ReferralSubmitted,
    patient: KnownPatient,
    decision: ReferralAccepted | ReferralRedirected,
    decided_at: datetime,
) -> None:
    episode_id, assess_by, outcome = None, None, "redirected"
    if isinstance(decision, ReferralAccepted):
        episode_id, assess_by = decision.episode_id, decision.assess_by
        outcome = "linked" if patient.open_episode_id else "accepted"
        await conn.execute(
            "INSERT INTO episodes (episode_id, patient_id, trust, opened_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (episode_id) DO NOTHING",
            episode_id,
            patient.patient_id,
            referral.trust.value,
            decided_at,
        )
    await conn.execute(
        "INSERT INTO referrals (trust, referral_id, patient_id, episode_id, source, urgency, submitted_at, "
        "decision, decided_at, assess_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        referral.trust.value,
        referral.referral_id,
        patient.patient_id,
        episode_id,
        referral.source.value,
        int(referral.urgency),
        referral.submitted_at,
        outcome,
        decided_at,
        assess_by,
    )
