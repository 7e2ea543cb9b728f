"""The assessment service's queries, and nothing else."""

from datetime import datetime
from uuid import UUID

import asyncpg

from contracts import AssessmentSubmitted, ReferralAccepted
from services.assessment.domain import KnownEpisode


async def add_episode(conn: asyncpg.Connection, accepted: ReferralAccepted) -> None:
    await conn.execute(
        "INSERT INTO episodes (episode_id, patient_id, accepted_at, assess_by) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (episode_id) DO NOTHING",
        accepted.episode_id,
        accepted.patient_id,
        accepted.accepted_at,
        accepted.assess_by,
    )


async def find_episode(conn: asyncpg.Connection, episode_id: UUID) -> KnownEpisode | None:
    row = await conn.fetchrow("SELECT episode_id, patient_id FROM episodes WHERE episode_id = $1", episode_id)
    return KnownEpisode(row["episode_id"], row["patient_id"]) if row else None


async def add_assessment(conn: asyncpg.Connection, submitted: AssessmentSubmitted, recorded_at: datetime) -> bool:
    """False when this assessment was already recorded (resubmitted under a new event id)."""
    return bool(
        await conn.fetchval(
            "INSERT INTO assessments (assessment_id, patient_id, episode_id, outcome, outcome_reason, "
            "assessed_by, assessed_at, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (assessment_id) DO NOTHING RETURNING true",
            submitted.assessment_id,
            submitted.patient_id,
            submitted.episode_id,
            submitted.outcome.value,
            submitted.outcome_reason,
            submitted.assessed_by,
            submitted.assessed_at,
            recorded_at,
        )
    )
