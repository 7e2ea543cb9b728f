"""The scheduling service's queries, and nothing else."""

from datetime import date, datetime
from uuid import UUID

import asyncpg

from contracts import (
    AssessmentCompleted,
    CarePlanAgreed,
    ShiftsRostered,
    Skill,
    StaffMemberRecorded,
    VisitOutcomeRecorded,
    VisitScheduled,
    VisitStatus,
)
from services.scheduling.domain import Roster, Staff, Visit

_VISIT_COLUMNS = (
    "visit_id, patient_id, episode_id, status, staff_id, window_start, window_end, planned_minutes, "
    "started_at IS NOT NULL AS started, late_notified_at IS NOT NULL AS late_notified"
)


async def lock_team(conn: asyncpg.Connection, team: str) -> None:
    """Plans for one team are made one at a time, across every instance of the service."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"schedule:{team}")


async def save_staff(conn: asyncpg.Connection, member: StaffMemberRecorded) -> None:
    await conn.execute(
        "INSERT INTO staff (staff_id, team, role, skills, team_lead, display_name) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (staff_id) DO UPDATE SET team = EXCLUDED.team, role = EXCLUDED.role, skills = EXCLUDED.skills, "
        "team_lead = EXCLUDED.team_lead, display_name = EXCLUDED.display_name",
        member.staff_id,
        member.team,
        member.role.value,
        [skill.value for skill in member.skills],
        member.team_lead,
        member.display_name,
    )


async def staff_team(conn: asyncpg.Connection, staff_id: str) -> str | None:
    return await conn.fetchval("SELECT team FROM staff WHERE staff_id = $1", staff_id)


async def replace_shifts(conn: asyncpg.Connection, roster: ShiftsRostered) -> None:
    """The new roster replaces the shifts it overlaps; the database refuses any overlap left."""
    start = min(shift.starts_at for shift in roster.shifts)
    end = max(shift.ends_at for shift in roster.shifts)
    await conn.execute(
        "DELETE FROM shifts WHERE staff_id = $1 AND tstzrange(starts_at, ends_at) && tstzrange($2, $3)",
        roster.staff_id,
        start,
        end,
    )
    await conn.executemany(
        "INSERT INTO shifts (staff_id, starts_at, ends_at) VALUES ($1, $2, $3)",
        [(roster.staff_id, shift.starts_at, shift.ends_at) for shift in roster.shifts],
    )


async def roster(conn: asyncpg.Connection, team: str, start: datetime, end: datetime) -> Roster:
    staff = await conn.fetch("SELECT staff_id, skills, team_lead, display_name FROM staff WHERE team = $1", team)
    ids = [row["staff_id"] for row in staff]
    shifts = await conn.fetch(
        "SELECT staff_id, starts_at, ends_at FROM shifts WHERE staff_id = ANY($1) AND starts_at < $3 AND ends_at > $2",
        ids,
        start,
        end,
    )
    booked = await conn.fetch(
        "SELECT staff_id, window_start FROM visits WHERE staff_id = ANY($1) AND window_start >= $2 AND window_start < $3 "
        "AND status <> 'cancelled'",
        ids,
        start,
        end,
    )
    return Roster.build(
        [Staff(r["staff_id"], frozenset(Skill(s) for s in r["skills"]), r["team_lead"], r["display_name"]) for r in staff],
        [(r["staff_id"], r["starts_at"], r["ends_at"]) for r in shifts],
        [(r["staff_id"], r["window_start"]) for r in booked],
    )


async def team_lead(conn: asyncpg.Connection, team: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM staff WHERE team = $1 AND team_lead LIMIT 1", team))


async def add_episode(conn: asyncpg.Connection, assessment: AssessmentCompleted, team: str | None) -> bool:
    """False when the episode was already started."""
    return bool(
        await conn.fetchval(
            "INSERT INTO episodes (episode_id, patient_id, started_at, team, required_skills) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (episode_id) DO NOTHING RETURNING true",
            assessment.episode_id,
            assessment.patient_id,
            assessment.assessed_at,
            team,
            [skill.value for skill in assessment.required_skills],
        )
    )


async def save_plan(conn: asyncpg.Connection, plan: CarePlanAgreed, first_day: date) -> None:
    await conn.execute(
        "UPDATE episodes SET key_worker = $2, core_team = $3, planned_minutes = $4, plan_start = $5, "
        "visits_first_week = $6, visits_per_week_after = $7 WHERE episode_id = $1",
        plan.episode_id,
        plan.key_worker,
        list(plan.core_team),
        plan.planned_minutes,
        first_day,
        plan.visits_first_week,
        plan.visits_per_week_after,
    )


async def close_episode(conn: asyncpg.Connection, episode_id: UUID, at: datetime) -> None:
    """After discharge no visit is due: the ones still ahead are cancelled."""
    await conn.execute("UPDATE episodes SET closed_at = $2 WHERE episode_id = $1 AND closed_at IS NULL", episode_id, at)
    await conn.execute(
        "UPDATE visits SET status = 'cancelled' WHERE episode_id = $1 AND status = 'scheduled'", episode_id
    )


async def episodes_with_weeks_ended(conn: asyncpg.Connection, today: date) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT episode_id, patient_id, team, plan_start, weeks_checked, visits_first_week, visits_per_week_after "
        "FROM episodes WHERE closed_at IS NULL AND plan_start IS NOT NULL "
        "AND plan_start + 7 * (weeks_checked + 1) <= $1 FOR UPDATE SKIP LOCKED",
        today,
    )


async def completed_between(conn: asyncpg.Connection, episode_id: UUID, start: datetime, end: datetime) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM visits WHERE episode_id = $1 AND status = 'completed' "
        "AND window_start >= $2 AND window_start < $3",
        episode_id,
        start,
        end,
    )


async def weeks_checked(conn: asyncpg.Connection, episode_id: UUID, weeks: int) -> None:
    await conn.execute("UPDATE episodes SET weeks_checked = $2 WHERE episode_id = $1", episode_id, weeks)


async def episode(conn: asyncpg.Connection, episode_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT episode_id, patient_id, team, core_team, required_skills FROM episodes WHERE episode_id = $1", episode_id
    )


async def set_required_skills(conn: asyncpg.Connection, episode_id: UUID, skills: tuple[Skill, ...]) -> None:
    await conn.execute(
        "UPDATE episodes SET required_skills = $2 WHERE episode_id = $1", episode_id, [skill.value for skill in skills]
    )


async def add_visit(conn: asyncpg.Connection, visit: VisitScheduled) -> None:
    await conn.execute(
        "INSERT INTO visits (visit_id, episode_id, patient_id, window_start, window_end, planned_minutes, staff_id, "
        "replaces_visit_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        visit.visit_id,
        visit.episode_id,
        visit.patient_id,
        visit.window_start,
        visit.window_end,
        visit.planned_minutes,
        visit.staff_id,
        visit.replaces_visit_id,
    )


def _visit(row: asyncpg.Record) -> Visit:
    status = None if row["status"] in ("scheduled", "missed") else VisitStatus(row["status"])
    return Visit(
        row["visit_id"], row["patient_id"], row["episode_id"], status, row["staff_id"], row["window_start"],
        row["window_end"], row["planned_minutes"], row["started"], row["late_notified"],
    )


async def find_visit(conn: asyncpg.Connection, visit_id: UUID) -> Visit | None:
    row = await conn.fetchrow(f"SELECT {_VISIT_COLUMNS} FROM visits WHERE visit_id = $1 FOR UPDATE", visit_id)
    return _visit(row) if row else None


async def visit_started(conn: asyncpg.Connection, visit_id: UUID, at: datetime) -> None:
    await conn.execute("UPDATE visits SET started_at = $2 WHERE visit_id = $1 AND started_at IS NULL", visit_id, at)


async def record_outcome(conn: asyncpg.Connection, outcome: VisitOutcomeRecorded) -> None:
    await conn.execute(
        "UPDATE visits SET status = $2, actual_minutes = $3, outcome_at = $4 "
        "WHERE visit_id = $1 AND status IN ('scheduled', 'missed')",
        outcome.visit_id,
        outcome.status.value,
        outcome.actual_minutes,
        outcome.recorded_at,
    )


async def due_for_checks(conn: asyncpg.Connection, now: datetime) -> list[Visit]:
    """Scheduled visits whose window has opened, locked for this check."""
    rows = await conn.fetch(
        f"SELECT {_VISIT_COLUMNS} FROM visits WHERE status = 'scheduled' AND window_start <= $1 "
        "ORDER BY window_start LIMIT 500 FOR UPDATE SKIP LOCKED",
        now,
    )
    return [_visit(row) for row in rows]


async def mark_late(conn: asyncpg.Connection, visit_id: UUID, at: datetime) -> None:
    await conn.execute("UPDATE visits SET late_notified_at = $2 WHERE visit_id = $1", visit_id, at)


async def mark_missed(conn: asyncpg.Connection, visit_id: UUID, at: datetime) -> None:
    await conn.execute("UPDATE visits SET status = 'missed', missed_at = $2 WHERE visit_id = $1", visit_id, at)


async def weekly_report(conn: asyncpg.Connection, tz: str) -> list[asyncpg.Record]:
    """Per team, per week: visits planned, completed, missed, and cut short (under half)."""
    return await conn.fetch(
        "SELECT coalesce(e.team, '(no team)') AS team, "
        "(date_trunc('week', v.window_start AT TIME ZONE $1))::date AS week, "
        "count(*) FILTER (WHERE v.status <> 'cancelled') AS planned, "
        "count(*) FILTER (WHERE v.status = 'completed') AS completed, "
        "count(*) FILTER (WHERE v.status = 'missed') AS missed, "
        "count(*) FILTER (WHERE v.status = 'completed' AND v.actual_minutes < v.planned_minutes * 0.5) AS cut_short, "
        "count(*) FILTER (WHERE v.staff_id IS NULL AND v.status = 'scheduled') AS unassigned "
        "FROM visits v JOIN episodes e USING (episode_id) GROUP BY 1, 2 ORDER BY 1, 2",
        tz,
    )


async def continuity(conn: asyncpg.Connection, episode_id: UUID) -> asyncpg.Record:
    """Distinct staff who visited, and the share of visits by the key worker."""
    return await conn.fetchrow(
        "SELECT count(DISTINCT v.staff_id) AS staff_seen, count(*) AS visits, "
        "coalesce(avg((v.staff_id = e.key_worker)::int), 0) AS key_worker_share "
        "FROM visits v JOIN episodes e USING (episode_id) WHERE v.episode_id = $1 AND v.status = 'completed'",
        episode_id,
    )
