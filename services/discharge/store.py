"""The discharge service's queries, and nothing else."""

from uuid import UUID

import asyncpg

from contracts import AssessmentCompleted, DischargeDecided, EpisodeClosed, VisitCompleted
from services.discharge.domain import Episode


async def open_episode(conn: asyncpg.Connection, assessment: AssessmentCompleted) -> None:
    await conn.execute(
        "INSERT INTO episodes (episode_id, patient_id, opened_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (episode_id) DO NOTHING",
        assessment.episode_id,
        assessment.patient_id,
        assessment.assessed_at,
    )


async def count_visit(conn: asyncpg.Connection, visit: VisitCompleted) -> None:
    await conn.execute(
        "UPDATE episodes SET visits_completed = visits_completed + 1 WHERE episode_id = $1", visit.episode_id
    )


async def find_episode(conn: asyncpg.Connection, episode_id: UUID) -> Episode | None:
    row = await conn.fetchrow(
        "SELECT episode_id, patient_id, visits_completed, closed_at FROM episodes WHERE episode_id = $1 FOR UPDATE",
        episode_id,
    )
    return Episode(**row) if row else None


async def close_episode(conn: asyncpg.Connection, closed: EpisodeClosed, decision: DischargeDecided) -> None:
    await conn.execute(
        "UPDATE episodes SET closed_at = $2, decided_by = $3, discharge_reason = $4 WHERE episode_id = $1",
        closed.episode_id,
        closed.closed_at,
        decision.decided_by,
        decision.reason,
    )
