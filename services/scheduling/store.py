"""The scheduling service's queries, and nothing else."""

from uuid import UUID

import asyncpg

from contracts import AssessmentCompleted, VisitOutcomeRecorded, VisitScheduled, VisitStatus
from services.scheduling.domain import Visit


async def add_episode(conn: asyncpg.Connection, assessment: AssessmentCompleted) -> bool:
    """False when the episode was already started."""
    return bool(
        await conn.fetchval(
            "INSERT INTO episodes (episode_id, patient_id, started_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (episode_id) DO NOTHING RETURNING true",
            assessment.episode_id,
            assessment.patient_id,
            assessment.assessed_at,
        )
    )


async def add_visit(conn: asyncpg.Connection, visit: VisitScheduled) -> None:
    await conn.execute(
        "INSERT INTO visits (visit_id, episode_id, patient_id, window_start, window_end, planned_minutes) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        visit.visit_id,
        visit.episode_id,
        visit.patient_id,
        visit.window_start,
        visit.window_end,
        visit.planned_minutes,
    )


async def find_visit(conn: asyncpg.Connection, visit_id: UUID) -> Visit | None:
    row = await conn.fetchrow(
        "SELECT visit_id, patient_id, episode_id, status FROM visits WHERE visit_id = $1 FOR UPDATE", visit_id
    )
    if row is None:
        return None
    status = None if row["status"] == "scheduled" else VisitStatus(row["status"])
    return Visit(row["visit_id"], row["patient_id"], row["episode_id"], status)


async def record_outcome(conn: asyncpg.Connection, outcome: VisitOutcomeRecorded) -> None:
    await conn.execute(
        "UPDATE visits SET status = $2, actual_minutes = $3, outcome_at = $4 "
        "WHERE visit_id = $1 AND status = 'scheduled'",
        outcome.visit_id,
        outcome.status.value,
        outcome.actual_minutes,
        outcome.recorded_at,
    )
