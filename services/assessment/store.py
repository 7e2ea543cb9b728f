"""The assessment service's queries, and nothing else: a `Store` on the transaction of the event being handled."""

import json
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts import AssessmentSubmitted, EscalationRaised, ReferralAccepted, ReferralSource, SectionName, Trust
from services.assessment.domain import KnownEpisode, Sections, Version


class Store:
    """The assessment service's queries, in the transaction of the event (or job) being handled."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def add_episode(self, accepted: ReferralAccepted) -> None:
        await self.conn.execute(
            "INSERT INTO episodes (episode_id, patient_id, accepted_at, assess_by, trust, referral_source) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (episode_id) DO NOTHING",
            accepted.episode_id,
            accepted.patient_id,
            accepted.accepted_at,
            accepted.assess_by,
            accepted.trust.value,
            ReferralSource(accepted.source).value,
        )

    async def find_episode(self, episode_id: UUID) -> KnownEpisode | None:
        row = await self.conn.fetchrow(
            "SELECT episode_id, patient_id, trust, referral_source FROM episodes WHERE episode_id = $1", episode_id)
        if row is None:
            return None
        source = ReferralSource(row["referral_source"]) if row["referral_source"] else None
        return KnownEpisode(row["episode_id"], row["patient_id"], Trust(row["trust"]) if row["trust"] else None, source)

    async def start(self, episode_id: UUID, patient_id: UUID, at: datetime) -> bool:
        """Records when the episode's assessment began; False if it had already begun."""
        await self.conn.execute(
            "INSERT INTO episodes (episode_id, patient_id, accepted_at, assess_by) VALUES ($1, $2, $3, $3) "
            "ON CONFLICT (episode_id) DO NOTHING",
            episode_id,
            patient_id,
            at,
        )
        return bool(
            await self.conn.fetchval(
                "UPDATE episodes SET started_at = $2 WHERE episode_id = $1 AND started_at IS NULL RETURNING true",
                episode_id,
                at,
            )
        )

    async def add_assessment(self, submitted: AssessmentSubmitted, recorded_at: datetime) -> bool:
        """False when this assessment was already recorded (resubmitted under a new event id)."""
        return bool(
            await self.conn.fetchval(
                "INSERT INTO assessments (assessment_id, patient_id, episode_id, outcome, outcome_reason, assessed_by, "
                "assessed_at, recorded_at, htcr_assessed_in_person, not_in_person_reason) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (assessment_id) DO NOTHING RETURNING true",
                submitted.assessment_id,
                submitted.patient_id,
                submitted.episode_id,
                submitted.outcome.value,
                submitted.outcome_reason,
                submitted.assessed_by,
                submitted.assessed_at,
                recorded_at,
                submitted.htcr_assessed_in_person,
                submitted.not_in_person_reason,
            )
        )

    async def versions(self, patient_id: UUID) -> list[Version]:
        """Every version of the patient's assessment, locking them so concurrent updates queue."""
        rows = await self.conn.fetch(
            "SELECT version, sections FROM assessment_versions WHERE patient_id = $1 ORDER BY version FOR UPDATE", patient_id
        )
        return [Version(row["version"], {SectionName(k): v for k, v in json.loads(row["sections"]).items()}) for row in rows]

    async def source_seen(self, source_id: UUID) -> bool:
        return bool(await self.conn.fetchval("SELECT true FROM assessment_versions WHERE source_id = $1", source_id))

    async def join_care(self, patient_id: UUID, team: str, episode_id: UUID, at: datetime) -> bool:
        """True when the team was not already caring for the patient."""
        return bool(
            await self.conn.fetchval(
                "INSERT INTO care_teams (patient_id, team, episode_id, joined_at) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (patient_id, team) WHERE left_at IS NULL DO NOTHING RETURNING true",
                patient_id,
                team,
                episode_id,
                at,
            )
        )

    async def leave_care(self, episode_id: UUID, team_kind: str, at: datetime) -> None:
        await self.conn.execute(
            "UPDATE care_teams SET left_at = $3 WHERE episode_id = $1 AND team LIKE $2 || ':%' AND left_at IS NULL",
            episode_id,
            team_kind,
            at,
        )

    async def caring_teams(self, patient_id: UUID) -> list[str]:
        rows = await self.conn.fetch(
            "SELECT team FROM care_teams WHERE patient_id = $1 AND left_at IS NULL ORDER BY joined_at", patient_id
        )
        return [row["team"] for row in rows]

    async def add_admission_request(self, escalation: EscalationRaised) -> None:
        """An escalation asking for admission becomes a gatekeeping decision HTCR must make."""
        await self.conn.execute(
            "INSERT INTO admission_requests (visit_id, patient_id, episode_id, reasons, requested_at) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (visit_id) DO NOTHING",
            escalation.visit_id,
            escalation.patient_id,
            escalation.episode_id,
            [reason.value for reason in escalation.reasons],
            escalation.raised_at,
        )

    async def latest_episode(self, patient_id: UUID) -> UUID | None:
        return await self.conn.fetchval(
            "SELECT episode_id FROM assessment_versions WHERE patient_id = $1 ORDER BY version DESC LIMIT 1", patient_id
        )

    async def add_version(
        self,
        patient_id: UUID,
        number: int,
        episode_id: UUID,
        source_id: UUID,
        sections: Sections,
        by: str,
        at: datetime,
    ) -> None:
        await self.conn.execute(
            "INSERT INTO assessment_versions (patient_id, version, episode_id, source_id, sections, recorded_by, recorded_at) "
            "VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)",
            patient_id,
            number,
            episode_id,
            source_id,
            json.dumps({name.value: value for name, value in sections.items()}),
            by,
            at,
        )
