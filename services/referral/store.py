"""The referral service's queries, and nothing else: a `Store` on the transaction of the event
(or job) being handled, holding the keys that keep identities out of reach."""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts import ReferralAccepted, ReferralDeclined, ReferralLinked, ReferralSource, ReferralSubmitted, Trust, Urgency
from contracts.assessment import Pathway
from services.referral.closed_loop import Progress, Referrer
from services.referral.domain import Decision, KnownPatient, PendingDeadline
from shared.privacy import crypto


@dataclass(frozen=True)
class IdentityKeys:
    """The keys of the hash an H&C number is looked up by, and of the seal on a patient's
    identity: the first of each ring for what is written now, every one for finding a patient."""

    lookup: crypto.KeyRing
    sealing: crypto.KeyRing
    # Before key rings, the lookup was keyed by the setting's text itself: patients hashed so
    # are still found by it (and never added under it).
    legacy_lookup: bytes | None = None

    def lookups(self, hc_number: str) -> list[bytes]:
        """The number's lookup hash under every key, the current key's first."""
        keys = [key for _, key in self.lookup.keys] + ([self.legacy_lookup] if self.legacy_lookup else [])
        return [hc_lookup(key, hc_number) for key in keys]


def hc_lookup(key: bytes, hc_number: str) -> bytes:
    return hmac.new(key, hc_number.encode(), hashlib.sha256).digest()


_OPEN_EPISODE = "WITH episode AS (INSERT INTO episodes (episode_id, patient_id, trust, opened_at) VALUES ($4, $3, $1, $8)) "


@dataclass(frozen=True)
class ReferredEpisode:
    """An episode, and the referrals that joined it (the one that opened it first)."""

    patient_id: UUID
    referrers: list[Referrer]


def _decision_name(decision: Decision) -> str:
    if isinstance(decision, ReferralAccepted):
        return "accepted"
    if isinstance(decision, ReferralLinked):
        return "linked"
    return "declined" if isinstance(decision, ReferralDeclined) else "redirected"


class Store:
    """The referral service's queries, in the transaction of the event (or job) being handled."""

    def __init__(self, conn: asyncpg.Connection, identity: IdentityKeys) -> None:
        self.conn = conn
        self.identity = identity

    async def referred_patient(self, referring_system: str, referral_id: str) -> UUID | None:
        """The patient of the referral this system sent under this id before, if it did."""
        return await self.conn.fetchval(
            "SELECT patient_id FROM referrals WHERE referring_system = $1 AND referral_id = $2", referring_system, referral_id
        )

    async def patient_with(self, hc_number: str) -> UUID | None:
        return await self._known_under(self.identity.lookups(hc_number))

    async def _known_under(self, lookups: list[bytes]) -> UUID | None:
        """The patient with any of these lookup hashes: a probe of the unique index each, by
        equality (`= ANY($1)` read the whole table per referral under load, the plan PostgreSQL chose)."""
        for lookup in lookups:
            if found := await self.conn.fetchval("SELECT patient_id FROM patients WHERE hc_lookup = $1", lookup):
                return found
        return None

    async def find_or_add_patient(self, referral: ReferralSubmitted, hc_number: str, new_id: UUID) -> KnownPatient:
        """The patient with this H&C number, added (identity sealed) the first time they are seen."""
        identity = {
            "hc_number": hc_number,
            "name": referral.patient_name,
            "date_of_birth": referral.date_of_birth.isoformat() if referral.date_of_birth else None,
        }
        current, *older = self.identity.lookups(hc_number)
        # Known under an older key (or from before key rings)? A probe of the unique index each.
        known = await self._known_under(older)
        if known:
            rows = await self.conn.fetch(
                "SELECT p.patient_id, e.episode_id, e.closed_at FROM patients p LEFT JOIN episodes e USING (patient_id) "
                "WHERE p.patient_id = $1", known,
            )
        else:
            version, key = self.identity.sealing.current
            rows = await self.conn.fetch(  # the patient, with each of their episodes (none: a row of nulls)
                "WITH patient AS (INSERT INTO patients (patient_id, hc_lookup, identity, identity_key_version) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (hc_lookup) DO UPDATE SET hc_lookup = EXCLUDED.hc_lookup RETURNING patient_id) "
                "SELECT patient.patient_id, e.episode_id, e.closed_at FROM patient LEFT JOIN episodes e USING (patient_id)",
                new_id, current, crypto.seal(key, str(new_id), identity), version,
            )
        episodes = [row for row in rows if row["episode_id"] is not None]
        open_episode = next((row["episode_id"] for row in episodes if row["closed_at"] is None), None)
        return KnownPatient(rows[0]["patient_id"], known=bool(episodes), open_episode_id=open_episode)

    async def record(self, referral: ReferralSubmitted, referring_system: str, decision: Decision, received_at: datetime,
                     correlation_id: UUID, trace: str | None = None) -> None:
        """The referral and its decision, with its journey's correlation id and trace; an accepted
        referral's new episode in the same statement."""
        episode_id = getattr(decision, "episode_id", None)
        opens_episode = isinstance(decision, ReferralAccepted)
        await self.conn.execute(
            (_OPEN_EPISODE if opens_episode else "")
            + "INSERT INTO referrals (trust, referral_id, patient_id, episode_id, source, urgency, submitted_at, "
            "received_at, ed_arrived_at, decision, decline_reason, assess_by, correlation_id, referring_system, traceparent) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            referral.trust.value,
            referral.referral_id,
            decision.patient_id,
            episode_id,
            referral.source.value,
            int(referral.urgency),
            referral.submitted_at,
            received_at,
            referral.ed_arrived_at,
            _decision_name(decision),
            decision.reason_code.value if isinstance(decision, ReferralDeclined) else None,
            getattr(decision, "assess_by", None),
            correlation_id,
            referring_system,
            trace,
        )

    async def assessment_started(self, episode_id: UUID, started_at: datetime) -> None:
        """Stops the response clock of the episode's referral."""
        await self.conn.execute(
            "UPDATE referrals SET assessment_started_at = $2 "
            "WHERE episode_id = $1 AND decision = 'accepted' AND assessment_started_at IS NULL",
            episode_id,
            started_at,
        )

    async def close_episode(self, episode_id: UUID, closed_at: datetime) -> None:
        """After discharge, a new referral opens a new episode instead of joining the old one."""
        await self.conn.execute("UPDATE episodes SET closed_at = $2 WHERE episode_id = $1 AND closed_at IS NULL", episode_id, closed_at)

    async def referred_episode(self, episode_id: UUID) -> ReferredEpisode | None:
        """The episode and its referrers, if this service has opened it."""
        rows = await self.conn.fetch(
            "SELECT e.patient_id, r.referral_id, r.referring_system, r.source, r.trust FROM episodes e "
            "LEFT JOIN referrals r ON r.episode_id = e.episode_id AND r.decision IN ('accepted', 'linked') "
            "WHERE e.episode_id = $1 ORDER BY r.received_at",
            episode_id,
        )
        if not rows:
            return None
        referrers = [Referrer(row["referral_id"], row["referring_system"], ReferralSource(row["source"]), Trust(row["trust"]))
                     for row in rows if row["referral_id"] is not None]
        return ReferredEpisode(rows[0]["patient_id"], referrers)

    async def progress(self, episode_id: UUID) -> Progress:
        """What the episode's referrers have been told so far, locked until the transaction ends."""
        row = await self.conn.fetchrow(
            "SELECT outcome, seen_at_home, missed_in_a_row, discharged FROM referrer_progress WHERE episode_id = $1 FOR UPDATE",
            episode_id,
        )
        if row is None:
            return Progress()
        return Progress(Pathway(row["outcome"]) if row["outcome"] else None, row["seen_at_home"], row["missed_in_a_row"], row["discharged"])

    async def save_progress(self, episode_id: UUID, progress: Progress, at: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO referrer_progress (episode_id, outcome, seen_at_home, missed_in_a_row, discharged, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (episode_id) DO UPDATE SET outcome = EXCLUDED.outcome, "
            "seen_at_home = EXCLUDED.seen_at_home, missed_in_a_row = EXCLUDED.missed_in_a_row, "
            "discharged = EXCLUDED.discharged, updated_at = EXCLUDED.updated_at",
            episode_id,
            progress.outcome.value if progress.outcome else None,
            progress.seen_at_home,
            progress.missed_in_a_row,
            progress.discharged,
            at,
        )

    async def overdue(self, now: datetime) -> list[tuple[PendingDeadline, UUID, str | None]]:
        """Accepted referrals past their deadline with no assessment and no breach yet, locked, each
        with its journey's correlation id and trace."""
        rows = await self.conn.fetch(
            "SELECT r.referral_id, r.patient_id, r.episode_id, r.trust, r.urgency, r.assess_by, r.ed_arrived_at, "
            "r.correlation_id, r.traceparent FROM referrals r WHERE r.decision = 'accepted' AND r.assessment_started_at IS NULL "
            "AND r.breached_at IS NULL AND r.assess_by < $1 ORDER BY r.assess_by LIMIT 500 FOR UPDATE SKIP LOCKED",
            now,
        )
        return [
            (
                PendingDeadline(
                    referral_id=row["referral_id"],
                    patient_id=row["patient_id"],
                    episode_id=row["episode_id"],
                    trust=Trust(row["trust"]),
                    urgency=Urgency(row["urgency"]),
                    assess_by=row["assess_by"],
                    ed_arrived_at=row["ed_arrived_at"],
                ),
                row["correlation_id"],
                row["traceparent"],
            )
            for row in rows
        ]

    async def mark_breached(self, episode_id: UUID, at: datetime) -> None:
        """The referral that opened the episode has breached its response target."""
        await self.conn.execute(
            "UPDATE referrals SET breached_at = $2 WHERE episode_id = $1 AND decision = 'accepted'", episode_id, at
        )

    async def directory_hash(self, trust: Trust) -> str | None:
        return await self.conn.fetchval("SELECT content_hash FROM directory_publications WHERE trust = $1", trust.value)

    async def directory_published(self, trust: Trust, content_hash: str, at: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO directory_publications (trust, content_hash, published_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (trust) DO UPDATE SET content_hash = EXCLUDED.content_hash, published_at = EXCLUDED.published_at",
            trust.value,
            content_hash,
            at,
        )
