"""The scheduling service's queries, and nothing else: a `Store` on the transaction of the event
(or job) being handled. Longer than most modules (about 360 lines, some 35 queries) because it is
every query of the service -- rota, episodes, plans, visits and the operators' reports -- in one
place, as in every service: a handler never needs a second store."""

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from uuid import UUID

import asyncpg

from contracts import (
    AssessmentCompleted,
    CarePlanAgreed,
    EpisodeClosed,
    ShiftsRostered,
    Skill,
    StaffMemberRecorded,
    VisitOutcomeRecorded,
    VisitScheduled,
    Role,
    VisitStatus,
)
from services.scheduling.domain import CUT_SHORT_BELOW, Episode, PlanWeeks, Visit
from services.scheduling.planning import Revision, Roster, Staff
from services.scheduling.rosters import SLACK, Kept, RosterCache

_VISIT_COLUMNS = (
    "visit_id, patient_id, episode_id, status, staff_id, window_start, window_end, planned_minutes, "
    "started_at IS NOT NULL AS started, late_notified_at IS NOT NULL AS late_notified, "
    "outcome_at IS NOT NULL AS outcome_recorded, replaces_visit_id, confirmed_at IS NOT NULL AS confirmed, "
    "coalesce((SELECT easy_read FROM episodes WHERE episodes.episode_id = visits.episode_id), false) AS easy_read"
)
_EPISODE_COLUMNS = (
    "e.episode_id, e.patient_id, e.team, e.required_skills, e.key_worker, e.core_team, e.closed_at, e.plan_start, "
    "e.visits_first_week, e.visits_per_week_after, e.planned_minutes, e.key_worker_chosen_at, e.key_worker_named_at, "
    "EXISTS (SELECT 1 FROM visits v WHERE v.episode_id = e.episode_id "
    "AND (v.started_at IS NOT NULL OR v.outcome_at IS NOT NULL)) AS visited, e.easy_read"
)


def _episode(row: asyncpg.Record) -> Episode:
    return Episode(
        row["episode_id"], row["patient_id"], row["team"], tuple(Skill(skill) for skill in row["required_skills"]),
        row["key_worker"], tuple(row["core_team"]), row["closed_at"], row["plan_start"], row["visits_first_week"],
        row["visits_per_week_after"], row["planned_minutes"], row["key_worker_chosen_at"], row["key_worker_named_at"],
        row["visited"], row["easy_read"],
    )


def _role(role: str | None) -> Role | None:
    """A role this version knows (one recorded by a later version is left unsaid)."""
    return Role(role) if role in tuple(Role) else None


def _visit(row: asyncpg.Record) -> Visit:
    status = VisitStatus(row["status"]) if row["status"] in tuple(VisitStatus) else None
    return Visit(
        row["visit_id"], row["patient_id"], row["episode_id"], status, row["staff_id"], row["window_start"],
        row["window_end"], row["planned_minutes"], row["started"], row["late_notified"],
        row["status"] == "cancelled", row["outcome_recorded"], row["replaces_visit_id"], row["confirmed"], row["easy_read"],
    )


class Store:
    """The scheduling service's queries, in the transaction of the event (or job) being handled."""

    def __init__(self, conn: asyncpg.Connection, rosters: RosterCache | None = None) -> None:
        self.conn = conn
        self._rosters = rosters or RosterCache()  # the instance's, kept between transactions
        self._lent: dict[str, Kept] = {}  # rosters handed out in this transaction

    async def lock_team(self, team: str) -> None:
        """Plans for one team are made one at a time, across every instance of the service: bookings,
        rota revisions and closures of its episodes all hold this lock."""
        await self.conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"schedule:{team}")

    async def lock_teams(self, teams: Iterable[str]) -> None:
        """Several teams' locks, always in the same order, so two jobs never wait on each other."""
        for team in sorted(set(teams)):
            await self.lock_team(team)

    async def teams_of(self, episode_ids: Sequence[UUID]) -> list[str]:
        rows = await self.conn.fetch(
            "SELECT DISTINCT team FROM episodes WHERE episode_id = ANY($1) AND team IS NOT NULL", list(episode_ids)
        )
        return [row["team"] for row in rows]

    async def save_staff(self, member: StaffMemberRecorded) -> None:
        await self.conn.execute(
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

    async def staff_team(self, staff_id: str) -> str | None:
        return await self.conn.fetchval("SELECT team FROM staff WHERE staff_id = $1", staff_id)

    async def replace_shifts(self, roster: ShiftsRostered) -> None:
        """The new roster replaces the shifts it overlaps; the database refuses any overlap left."""
        start = min(shift.starts_at for shift in roster.shifts)
        end = max(shift.ends_at for shift in roster.shifts)
        await self.conn.execute(
            "DELETE FROM shifts WHERE staff_id = $1 AND tstzrange(starts_at, ends_at) && tstzrange($2, $3)",
            roster.staff_id,
            start,
            end,
        )
        await self.conn.executemany(
            "INSERT INTO shifts (staff_id, starts_at, ends_at) VALUES ($1, $2, $3)",
            [(roster.staff_id, shift.starts_at, shift.ends_at) for shift in roster.shifts],
        )

    async def roster(self, team: str, start: datetime, end: datetime) -> Roster:
        """The team's roster over [start, end): the one kept from the last plan while the team's
        roster version is unchanged (`rosters`), otherwise read. The version is locked until this
        transaction ends, so no other change to the roster can come between."""
        version = await self.conn.fetchval("SELECT version FROM roster_versions WHERE team = $1 FOR UPDATE", team)
        kept = self._rosters.take(team, version, start, end)
        if kept is None:
            end += SLACK
            kept = Kept(version, start, end, await self._read_roster(team, start, end))
        if version is not None:
            self._lent[team] = kept
        return kept.roster

    async def _give_rosters_back(self) -> None:
        """Called once what was booked in the rosters handed out is written: each is kept with the
        version those writes made."""
        for team, kept in self._lent.items():
            version = await self.conn.fetchval("SELECT version FROM roster_versions WHERE team = $1", team)
            self._rosters.keep(team, replace(kept, version=version))
        self._lent.clear()

    async def _read_roster(self, team: str, start: datetime, end: datetime) -> Roster:
        """Shifts as slot hours and bookings as epoch seconds, worked out here: a team's roster is
        hundreds of shifts and thousands of bookings."""
        staff = await self.conn.fetch("SELECT staff_id, skills, team_lead, display_name, role FROM staff WHERE team = $1", team)
        ids = [row["staff_id"] for row in staff]
        shifts = await self.conn.fetch(
            "SELECT staff_id, ceil(extract(epoch FROM starts_at) / 3600)::bigint AS first_hour, "
            "floor(extract(epoch FROM ends_at) / 3600)::bigint AS stop_hour "
            "FROM shifts WHERE staff_id = ANY($1) AND starts_at < $3 AND ends_at > $2",
            ids,
            start,
            end,
        )
        booked = await self.conn.fetch(  # a row per member, not per visit: a busy team has thousands booked ahead
            "SELECT staff_id, array_agg(floor(extract(epoch FROM window_start))::bigint) AS starts FROM visits "
            "WHERE staff_id = ANY($1) AND window_start >= $2 AND window_start < $3 AND status <> 'cancelled' GROUP BY staff_id",
            ids,
            start,
            end,
        )
        return Roster.from_hours(
            [Staff(r["staff_id"], frozenset(Skill(s) for s in r["skills"]), r["team_lead"], r["display_name"], _role(r["role"]))
             for r in staff],
            [(r["staff_id"], r["first_hour"], r["stop_hour"]) for r in shifts],
            [(r["staff_id"], r["starts"]) for r in booked],
        )

    async def add_episode(self, assessment: AssessmentCompleted, team: str | None) -> Episode | None:
        """The episode an assessment starts; None when it was already started. An episode whose
        closure came first is filled in, and comes back closed."""
        started = await self.conn.fetchval(
            "INSERT INTO episodes (episode_id, patient_id, started_at, team, required_skills, easy_read) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (episode_id) DO UPDATE SET started_at = EXCLUDED.started_at, "
            "team = EXCLUDED.team, required_skills = EXCLUDED.required_skills, easy_read = EXCLUDED.easy_read "
            "WHERE episodes.started_at IS NULL RETURNING true",
            assessment.episode_id,
            assessment.patient_id,
            assessment.assessed_at,
            team,
            [skill.value for skill in assessment.required_skills],
            assessment.easy_read,
        )
        return await self.episode(assessment.episode_id) if started else None

    async def save_plan(self, plan: CarePlanAgreed, first_day: date, named: bool) -> None:
        """`named`: the plan's message told the patient the key worker's name."""
        await self.conn.execute(
            "UPDATE episodes SET key_worker = $2, core_team = $3, planned_minutes = $4, plan_start = $5, "
            "visits_first_week = $6, visits_per_week_after = $7, "
            "key_worker_chosen_at = CASE WHEN $2::text IS NULL THEN NULL ELSE $8::timestamptz END, "
            "key_worker_named_at = CASE WHEN $9::boolean THEN $8::timestamptz END WHERE episode_id = $1",
            plan.episode_id,
            plan.key_worker,
            list(plan.core_team),
            plan.planned_minutes,
            first_day,
            plan.visits_first_week,
            plan.visits_per_week_after,
            plan.agreed_at,
            named,
        )

    async def close_episode(self, closed: EpisodeClosed) -> None:
        """After discharge no visit is due: the ones still ahead are cancelled. A closure read before
        the assessment that opened the episode is kept all the same, as an episode with no start.
        A visit locked by the visit check at this moment is skipped: the check cancels it itself."""
        await self.conn.execute(
            "INSERT INTO episodes (episode_id, patient_id, closed_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (episode_id) DO UPDATE SET closed_at = EXCLUDED.closed_at WHERE episodes.closed_at IS NULL",
            closed.episode_id,
            closed.patient_id,
            closed.closed_at,
        )
        await self.conn.execute(
            "UPDATE visits SET status = 'cancelled' WHERE visit_id IN (SELECT visit_id FROM visits "
            "WHERE episode_id = $1 AND status = 'scheduled' FOR UPDATE SKIP LOCKED)",
            closed.episode_id,
        )

    async def episodes_with_weeks_ended(self, today: date) -> list[PlanWeeks]:
        rows = await self.conn.fetch(
            "SELECT episode_id, patient_id, team, plan_start, weeks_checked, visits_first_week, visits_per_week_after "
            "FROM episodes WHERE closed_at IS NULL AND plan_start IS NOT NULL "
            "AND plan_start + 7 * (weeks_checked + 1) <= $1 FOR UPDATE SKIP LOCKED",
            today,
        )
        return [PlanWeeks(**row) for row in rows]

    async def completed_between(self, episode_id: UUID, start: datetime, end: datetime) -> int:
        return await self.conn.fetchval(
            "SELECT count(*) FROM visits WHERE episode_id = $1 AND status = 'completed' "
            "AND window_start >= $2 AND window_start < $3",
            episode_id,
            start,
            end,
        )

    async def weeks_checked(self, episode_id: UUID, weeks: int) -> None:
        await self.conn.execute("UPDATE episodes SET weeks_checked = $2 WHERE episode_id = $1", episode_id, weeks)

    async def episode(self, episode_id: UUID) -> Episode | None:
        row = await self.conn.fetchrow(f"SELECT {_EPISODE_COLUMNS} FROM episodes e WHERE e.episode_id = $1", episode_id)
        return _episode(row) if row else None

    async def episode_team(self, episode_id: UUID) -> str | None:
        return await self.conn.fetchval("SELECT team FROM episodes WHERE episode_id = $1", episode_id)

    async def closed_among(self, episode_ids: Sequence[UUID]) -> set[UUID]:
        rows = await self.conn.fetch(
            "SELECT episode_id FROM episodes WHERE episode_id = ANY($1) AND closed_at IS NOT NULL", list(episode_ids)
        )
        return {row["episode_id"] for row in rows}

    async def plans_to_revise(self, team: str, now: datetime) -> list[Episode]:
        """Open plans of a team that a rota change may alter (see `planning.revise_plans`), in the
        order they were made."""
        rows = await self.conn.fetch(
            f"SELECT {_EPISODE_COLUMNS} FROM episodes e WHERE e.team = $1 AND e.closed_at IS NULL "
            "AND e.plan_start IS NOT NULL AND (e.key_worker IS NULL OR e.key_worker_named_at IS NULL OR EXISTS ("
            "SELECT 1 FROM visits v WHERE v.episode_id = e.episode_id AND v.status = 'scheduled' "
            "AND v.staff_id IS NULL AND v.window_start > $2)) ORDER BY e.started_at, e.episode_id",
            team,
            now,
        )
        return [_episode(row) for row in rows]

    async def visits_ahead(self, plans: Sequence[Episode], now: datetime) -> list[Visit]:
        """The plans' visits still to come that nobody has started: the ones a revision may move."""
        rows = await self.conn.fetch(
            f"SELECT {_VISIT_COLUMNS} FROM visits WHERE episode_id = ANY($1) AND status = 'scheduled' "
            "AND started_at IS NULL AND window_start > $2",
            [plan.episode_id for plan in plans],
            now,
        )
        return [_visit(row) for row in rows]

    async def save_revisions(self, revisions: Sequence[Revision], at: datetime) -> None:
        """Plans' new people and visits' new staff. Every visit changing hands is released first, so
        two visits swapping one window never look, for a moment, like a double booking."""
        for revision in revisions:
            await self.conn.execute(
                "UPDATE episodes SET key_worker = $2, core_team = $3, "
                "key_worker_chosen_at = CASE WHEN $4::boolean THEN $5::timestamptz ELSE key_worker_chosen_at END WHERE episode_id = $1",
                revision.plan.episode_id,
                revision.key_worker,
                list(revision.core_team),
                revision.key_worker_changed,
                at,
            )
        moved = [visit for revision in revisions for visit in revision.visits]
        if not moved:
            return
        await self.conn.execute("UPDATE visits SET staff_id = NULL WHERE visit_id = ANY($1)", [v.visit_id for v in moved])
        await self.conn.executemany(
            "UPDATE visits SET staff_id = $2 WHERE visit_id = $1",
            [(v.visit_id, v.staff_id) for v in moved if v.staff_id is not None],
        )

    async def teams_awaiting_names(self) -> list[str]:
        rows = await self.conn.fetch(
            "SELECT DISTINCT team FROM episodes WHERE key_worker IS NOT NULL AND key_worker_named_at IS NULL "
            "AND closed_at IS NULL AND team IS NOT NULL"
        )
        return [row["team"] for row in rows]

    async def plans_awaiting_names(self, teams: Sequence[str]) -> list[tuple[Episode, str | None, Role | None]]:
        """Open plans whose key worker the patient has not been told, with the name patients know them by and their role."""
        rows = await self.conn.fetch(
            f"SELECT {_EPISODE_COLUMNS}, s.display_name, s.role FROM episodes e LEFT JOIN staff s ON s.staff_id = e.key_worker "
            "WHERE e.team = ANY($1) AND e.key_worker IS NOT NULL AND e.key_worker_named_at IS NULL AND e.closed_at IS NULL",
            list(teams),
        )
        return [(_episode(row), row["display_name"], _role(row["role"])) for row in rows]

    async def key_worker_named(self, episode_id: UUID, at: datetime) -> None:
        await self.conn.execute("UPDATE episodes SET key_worker_named_at = $2 WHERE episode_id = $1", episode_id, at)

    async def set_required_skills(self, episode_id: UUID, skills: tuple[Skill, ...], easy_read: bool = False) -> None:
        """What the latest assessment version derives: the skills visiting staff need, and easy read."""
        await self.conn.execute(
            "UPDATE episodes SET required_skills = $2, easy_read = $3 WHERE episode_id = $1",
            episode_id, [skill.value for skill in skills], easy_read,
        )

    async def add_visits(self, *visits: VisitScheduled) -> None:
        """All in one statement: a plan books a week of visits."""
        if not visits:
            return
        columns = zip(*(
            (v.visit_id, v.episode_id, v.patient_id, v.window_start, v.window_end, v.planned_minutes, v.staff_id, v.replaces_visit_id)
            for v in visits
        ))
        await self.conn.execute(
            "INSERT INTO visits (visit_id, episode_id, patient_id, window_start, window_end, planned_minutes, staff_id, "
            "replaces_visit_id) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[], $5::timestamptz[], "
            "$6::integer[], $7::text[], $8::uuid[])",
            *(list(column) for column in columns),
        )
        await self._give_rosters_back()

    async def find_visit(self, visit_id: UUID) -> Visit | None:
        row = await self.conn.fetchrow(f"SELECT {_VISIT_COLUMNS} FROM visits WHERE visit_id = $1 FOR UPDATE", visit_id)
        return _visit(row) if row else None

    async def visit_started(self, visit_id: UUID, at: datetime) -> None:
        await self.conn.execute("UPDATE visits SET started_at = $2 WHERE visit_id = $1 AND started_at IS NULL", visit_id, at)

    async def record_outcome(self, outcome: VisitOutcomeRecorded) -> None:
        """The first outcome of a visit is kept. A visit cancelled at discharge that staff went to
        anyway takes the outcome's status -- unless its window has since gone to another visit of the
        same person (the database allows nobody two visits at once): then it stays cancelled, with
        the outcome kept beside it."""
        set_outcome = "actual_minutes = $2, outcome_at = $3 WHERE visit_id = $1 AND outcome_at IS NULL"
        args = (outcome.visit_id, outcome.actual_minutes, outcome.recorded_at, outcome.status.value)
        try:
            async with self.conn.transaction():  # a savepoint
                await self.conn.execute(f"UPDATE visits SET status = $4, {set_outcome}", *args)
        except asyncpg.ExclusionViolationError:
            await self.conn.execute(f"UPDATE visits SET {set_outcome}", *args[:3])

    async def cancel_visit(self, visit_id: UUID) -> None:
        await self.conn.execute("UPDATE visits SET status = 'cancelled' WHERE visit_id = $1 AND status = 'scheduled'", visit_id)

    async def due_for_checks(self, now: datetime) -> list[Visit]:
        """Scheduled visits whose window has opened, locked for this check."""
        rows = await self.conn.fetch(
            f"SELECT {_VISIT_COLUMNS} FROM visits WHERE status = 'scheduled' AND window_start <= $1 "
            "ORDER BY window_start LIMIT 500 FOR UPDATE SKIP LOCKED",
            now,
        )
        return [_visit(row) for row in rows]

    async def visits_to_confirm(self, start: datetime, end: datetime) -> list[tuple[Visit, str | None, Role | None]]:
        """Scheduled visits opening in [start, end) not confirmed yet, each with the display name
        of who is coming (None if nobody is assigned or the rota gives no name) and their role; locked."""
        rows = await self.conn.fetch(
            f"SELECT {_VISIT_COLUMNS}, (SELECT display_name FROM staff s WHERE s.staff_id = visits.staff_id) AS display_name, "
            "(SELECT role FROM staff s WHERE s.staff_id = visits.staff_id) AS role "
            "FROM visits WHERE status = 'scheduled' AND confirmed_at IS NULL AND window_start >= $1 AND window_start < $2 "
            "AND episode_id NOT IN (SELECT episode_id FROM episodes WHERE closed_at IS NOT NULL) "
            "ORDER BY window_start LIMIT 500 FOR UPDATE SKIP LOCKED",
            start, end,
        )
        return [(_visit(row), row["display_name"], _role(row["role"])) for row in rows]

    async def mark_confirmed(self, visit_id: UUID, at: datetime) -> None:
        await self.conn.execute("UPDATE visits SET confirmed_at = $2 WHERE visit_id = $1", visit_id, at)

    async def mark_late(self, visit_id: UUID, at: datetime) -> None:
        await self.conn.execute("UPDATE visits SET late_notified_at = $2 WHERE visit_id = $1", visit_id, at)

    async def mark_missed(self, visit_id: UUID, at: datetime) -> None:
        await self.conn.execute("UPDATE visits SET status = 'missed', missed_at = $2 WHERE visit_id = $1", visit_id, at)

    async def weekly_report(self, tz: str) -> list[asyncpg.Record]:
        """Per team, per week: visits planned, completed, missed, and cut short (under half)."""
        return await self.conn.fetch(
            "SELECT coalesce(e.team, '(no team)') AS team, "
            "(date_trunc('week', v.window_start AT TIME ZONE $1))::date AS week, "
            "count(*) FILTER (WHERE v.status <> 'cancelled') AS planned, "
            "count(*) FILTER (WHERE v.status = 'completed') AS completed, "
            "count(*) FILTER (WHERE v.status = 'missed') AS missed, "
            "count(*) FILTER (WHERE v.status = 'completed' AND v.actual_minutes < v.planned_minutes * $2::float8) AS cut_short, "
            "count(*) FILTER (WHERE v.staff_id IS NULL AND v.status = 'scheduled') AS unassigned "
            "FROM visits v JOIN episodes e USING (episode_id) GROUP BY 1, 2 ORDER BY 1, 2",
            tz,
            CUT_SHORT_BELOW,  # the domain's threshold: the report and VisitCompleted.cut_short agree
        )

    async def continuity(self, episode_id: UUID) -> asyncpg.Record:
        """Distinct staff who visited, and the share of visits by the key worker."""
        return await self.conn.fetchrow(
            "SELECT count(DISTINCT v.staff_id) AS staff_seen, count(*) AS visits, "
            "coalesce(avg((v.staff_id = e.key_worker)::int), 0) AS key_worker_share "
            "FROM visits v JOIN episodes e USING (episode_id) WHERE v.episode_id = $1 AND v.status = 'completed'",
            episode_id,
        )
