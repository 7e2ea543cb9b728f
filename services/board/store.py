"""The board's queries, and nothing else: a `Store` on the transaction of the event being handled
(or of the page being read). Each folded thing is kept as its fold's JSON."""

from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from contracts import TeamFeedbackSummarised, Trust
from services.board.fidelity import EpisodeRecord
from services.board.domain import (
    CARER,
    DISCHARGE,
    EPISODE,
    FOLLOW_UPS,
    REFERRAL,
    VISIT,
    Episode,
    Facts,
    FollowUps,
    Projection,
    Visit,
)


@cache
def _adapter(model: type) -> TypeAdapter:
    return TypeAdapter(model)


def _json(state: Any) -> str:
    return _adapter(type(state)).dump_json(state).decode()


def _state(model: type, text: str) -> Any:
    return _adapter(model).validate_json(text)


class Store:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def load(self, projection: Projection, key: UUID) -> Any:
        """The folded thing, or a new one; no other transaction folds it until this one ends (two
        lanes may fold one episode: its events come on topics whose partitions need not match)."""
        await self.conn.execute("SELECT pg_advisory_xact_lock(hashtext($1::text || $2::uuid::text))", projection.kind, key)
        if projection is EPISODE:
            text = await self.conn.fetchval("SELECT state::text FROM board_episodes WHERE episode_id = $1", key)
        else:
            text = await self.conn.fetchval("SELECT state::text FROM board_facts WHERE kind = $1 AND id = $2", projection.kind, key)
        return projection.model(key) if text is None else _state(projection.model, text)

    async def save(self, projection: Projection, key: UUID, state: Any) -> None:
        if isinstance(state, Episode):
            await self.conn.execute(
                "INSERT INTO board_episodes (episode_id, patient_id, trust, closed, state) VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (episode_id) DO UPDATE SET patient_id = $2, trust = $3, closed = $4, state = $5",
                key, state.patient_id, state.trust.value if state.trust else None, state.closed_at is not None, _json(state))
            return
        open_ = bool(state.open) if isinstance(state, FollowUps) else True
        await self.conn.execute(
            "INSERT INTO board_facts (kind, id, episode_id, patient_id, at, open, state) VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "ON CONFLICT (kind, id) DO UPDATE SET episode_id = $3, patient_id = $4, at = $5, open = $6, state = $7",
            projection.kind, key, getattr(state, "episode_id", None), state.patient_id,
            state.window_start if isinstance(state, Visit) else None, open_, _json(state))

    async def facts(self, trust: Trust, visits_from: datetime, visits_until: datetime) -> Facts:
        """What one Trust's team board needs: its open episodes with their referrals, discharges,
        carers and the visits in the window; the follow-up clocks still open of its patients."""
        episodes = [_state(Episode, row["state"]) for row in await self.conn.fetch(
            "SELECT state::text AS state FROM board_episodes WHERE trust = $1 AND NOT closed", trust.value)]
        rows = await self.conn.fetch(
            "SELECT f.kind, f.state::text AS state FROM board_facts f JOIN board_episodes e USING (episode_id) "
            "WHERE e.trust = $1 AND NOT e.closed AND (f.kind = ANY($2::text[]) OR f.kind = $3 AND f.at >= $4 AND f.at < $5)",
            trust.value, [REFERRAL.kind, DISCHARGE.kind, CARER.kind], VISIT.kind, visits_from, visits_until)
        follow_ups = await self.conn.fetch(
            "SELECT state::text AS state FROM board_facts WHERE kind = $1 AND open AND patient_id IN "
            "(SELECT patient_id FROM board_episodes WHERE trust = $2 AND closed)", FOLLOW_UPS.kind, trust.value)
        by_kind: dict[str, list[Any]] = {}
        models = {p.kind: p.model for p in (REFERRAL, VISIT, DISCHARGE, CARER)}
        for row in rows:
            by_kind.setdefault(row["kind"], []).append(_state(models[row["kind"]], row["state"]))
        return Facts(
            episodes=tuple(episodes), referrals=tuple(by_kind.get(REFERRAL.kind, ())), visits=tuple(by_kind.get(VISIT.kind, ())),
            discharges=tuple(by_kind.get(DISCHARGE.kind, ())), carers=tuple(by_kind.get(CARER.kind, ())),
            follow_ups=tuple(_state(FollowUps, row["state"]) for row in follow_ups),
        )

    async def fidelity_records(self, trust: Trust) -> tuple[list[Any], dict[UUID, tuple[datetime, ...]]]:
        """Every fidelity record of the Trust's episodes, and its patients' follow-up contacts."""
        records = [_state(EpisodeRecord, row["state"]) for row in await self.conn.fetch(
            "SELECT f.state::text AS state FROM board_facts f JOIN board_episodes e USING (episode_id) "
            "WHERE f.kind = 'fidelity' AND e.trust = $1", trust.value)]
        contacts = {}
        for row in await self.conn.fetch(
                "SELECT state::text AS state FROM board_facts WHERE kind = $1 AND patient_id IN "
                "(SELECT patient_id FROM board_episodes WHERE trust = $2)", FOLLOW_UPS.kind, trust.value):
            follow_ups = _state(FollowUps, row["state"])
            contacts[follow_ups.patient_id] = follow_ups.contacts
        return records, contacts

    async def team_feedback(self, team: str, period: str) -> TeamFeedbackSummarised | None:
        """The team's feedback totals for the month as last kept."""
        text = await self.conn.fetchval("SELECT state::text FROM board_feedback WHERE team = $1 AND period = $2", team, period)
        return None if text is None else TeamFeedbackSummarised.model_validate_json(text)

    async def save_team_feedback(self, summary: TeamFeedbackSummarised) -> None:
        await self.conn.execute(
            "INSERT INTO board_feedback (team, period, state) VALUES ($1, $2, $3) "
            "ON CONFLICT (team, period) DO UPDATE SET state = $3",
            summary.team, summary.period, summary.model_dump_json())

    async def patients_of(self, trust: Trust) -> list[UUID]:
        return [row["patient_id"] for row in await self.conn.fetch(
            "SELECT DISTINCT patient_id FROM board_episodes WHERE trust = $1 AND patient_id IS NOT NULL", trust.value)]

    async def forget_everything(self, group: str) -> None:
        """Before a rebuild from the log: the read model, the consent it decided by, and what the
        group had handled, parked or counted as failing. Not the outbox: audit events of views
        still unsent are sent."""
        await self.conn.execute("TRUNCATE board_episodes, board_facts, board_feedback, consent_decisions, consent_withdrawn_first")
        for table in ("inbox", "parked", "delivery_attempts"):
            await self.conn.execute(f"DELETE FROM {table} WHERE consumer = $1", group)
