"""The discharge service's queries, and nothing else: a `Store` on the transaction of the event (or job) being handled."""


from datetime import datetime
from uuid import UUID

import asyncpg

from contracts import (
    AssessmentCompleted,
    DischargeProposed,
    EpisodeClosed,
    FeedbackAnswers,
    FeedbackReceived,
    FollowOnCareArranged,
    FollowUpSource,
    OnwardCare,
    Sealed,
    SummaryContent,
    VisitCompleted,
)
from services.discharge.domain import Episode, FollowUp


class Store:
    """The discharge service's queries, in the transaction of the event (or job) being handled."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def open_episode(self, assessment: AssessmentCompleted, opened_at: datetime) -> bool:
        return bool(
            await self.conn.fetchval(
                "INSERT INTO episodes (episode_id, patient_id, opened_at, trust, easy_read) VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (episode_id) DO NOTHING RETURNING true",
                assessment.episode_id,
                assessment.patient_id,
                opened_at,
                assessment.trust.value if assessment.trust else None,
                assessment.easy_read,
            )
        )

    async def last_discharge(self, patient_id: UUID, other_than: UUID) -> tuple[UUID, datetime] | None:
        row = await self.conn.fetchrow(
            "SELECT episode_id, closed_at FROM episodes WHERE patient_id = $1 AND episode_id <> $2 AND closed_at IS NOT NULL "
            "ORDER BY closed_at DESC LIMIT 1",
            patient_id,
            other_than,
        )
        return (row["episode_id"], row["closed_at"]) if row else None

    async def link_previous(self, episode_id: UUID, previous: UUID) -> None:
        await self.conn.execute("UPDATE episodes SET previous_episode_id = $2 WHERE episode_id = $1", episode_id, previous)

    async def count_visit(self, visit: VisitCompleted) -> None:
        await self.conn.execute(
            "UPDATE episodes SET visits_completed = visits_completed + 1 WHERE episode_id = $1", visit.episode_id
        )

    async def find_episode(self, episode_id: UUID) -> Episode | None:
        row = await self.conn.fetchrow("SELECT * FROM episodes WHERE episode_id = $1 FOR UPDATE", episode_id)
        if row is None:
            return None
        return Episode(
            episode_id=row["episode_id"],
            patient_id=row["patient_id"],
            visits_completed=row["visits_completed"],
            closed_at=row["closed_at"],
            trust=row["trust"],
            patient_told=row["patient_told_at"] is not None,
            patient_told_at=row["patient_told_at"],
            planned_for=row["planned_for"],
            patient_asked_to_end_sooner=row["patient_asked_to_end_sooner"],
            suicide_risk_identified=row["suicide_risk_identified"],
            onward_to=OnwardCare(row["onward_to"]) if row["onward_to"] else None,
            crisis_contacts_given=row["crisis_contacts_given_at"] is not None,
            patient_view=row["patient_view"],
            patient_wants_more_time=row["patient_wants_more_time"],
            summary=SummaryContent.model_validate_json(row["summary"]) if row["summary"] else None,
            crisis_contacts=tuple(row["crisis_contacts"]),
            easy_read=row["easy_read"],
        )

    async def save_proposal(self, proposal: DischargeProposed) -> None:
        """The patient's view is kept: a later proposal without one never blanks it; nor does one
        unsay the patient's wish to end sooner, or a risk of suicide identified."""
        await self.conn.execute(
            "UPDATE episodes SET proposed_at = $2, planned_for = $3, proposal_reason = $4, "
            "patient_view = coalesce($5, patient_view), patient_wants_more_time = patient_wants_more_time OR $6, "
            "summary = $7::jsonb, crisis_contacts = $8, patient_asked_to_end_sooner = patient_asked_to_end_sooner OR $9, "
            "suicide_risk_identified = suicide_risk_identified OR $10 WHERE episode_id = $1",
            proposal.episode_id,
            proposal.proposed_at,
            proposal.planned_for,
            proposal.reason,
            proposal.patient_view,
            proposal.patient_wants_more_time,
            proposal.summary.model_dump_json(),
            list(proposal.crisis_contacts),
            proposal.patient_asked_to_end_sooner,
            proposal.suicide_risk_identified,
        )
        await self.conn.executemany(
            "INSERT INTO carer_views (episode_id, carer_id, view, recorded_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            [(proposal.episode_id, view.carer_id, view.view, proposal.proposed_at) for view in proposal.carer_views],
        )

    async def carers(self, episode_id: UUID) -> list[str]:
        """Carers named in the discharge planning."""
        return [row[0] for row in await self.conn.fetch("SELECT carer_id FROM carer_views WHERE episode_id = $1", episode_id)]

    async def patient_told(self, episode_id: UUID, at: datetime) -> None:
        """The earliest time the patient was told, whichever record of it arrives first."""
        await self.conn.execute("UPDATE episodes SET patient_told_at = least(patient_told_at, $2) WHERE episode_id = $1", episode_id, at)

    async def follow_on(self, arranged: FollowOnCareArranged) -> None:
        await self.conn.execute(
            "UPDATE episodes SET onward_to = $2, onward_reason = $3 WHERE episode_id = $1",
            arranged.episode_id,
            arranged.onward_to.value,
            arranged.reason_if_none,
        )

    async def crisis_contacts_given(self, episode_id: UUID, at: datetime) -> None:
        await self.conn.execute(
            "UPDATE episodes SET crisis_contacts_given_at = coalesce(crisis_contacts_given_at, $2) WHERE episode_id = $1",
            episode_id,
            at,
        )

    async def close_episode(self, closed: EpisodeClosed, decided_by: str, reason: str) -> None:
        await self.conn.execute(
            "UPDATE episodes SET closed_at = $2, decided_by = $3, discharge_reason = $4 WHERE episode_id = $1",
            closed.episode_id,
            closed.closed_at,
            decided_by,
            reason,
        )

    async def contact(self, patient_id: UUID, at: datetime) -> list[tuple[UUID, datetime]]:
        """Stops the patient's open follow-up clocks started before the contact; returns each
        one's id and when it was due."""
        rows = await self.conn.fetch(
            "UPDATE followups SET contacted_at = $2 WHERE patient_id = $1 AND contacted_at IS NULL AND discharged_at <= $2 "
            "RETURNING followup_id, due_by",
            patient_id,
            at,
        )
        return [(row["followup_id"], row["due_by"]) for row in rows]

    async def open_follow_ups(self, now: datetime) -> list[FollowUp]:
        """The clocks due by now with no contact and no breach yet."""
        rows = await self.conn.fetch(
            "SELECT followup_id, patient_id, episode_id, source, trust, discharged_at, due_by FROM followups "
            "WHERE contacted_at IS NULL AND breached_at IS NULL AND due_by <= $1 ORDER BY due_by LIMIT 500 FOR UPDATE SKIP LOCKED",
            now,
        )
        return [FollowUp(**{**dict(row), "source": FollowUpSource(row["source"])}) for row in rows]

    async def mark_breached(self, followup_id: UUID, at: datetime) -> None:
        await self.conn.execute("UPDATE followups SET breached_at = $2 WHERE followup_id = $1", followup_id, at)

    async def open_episodes_unreviewed(self, opened_before: datetime) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            "SELECT episode_id, patient_id, opened_at FROM episodes WHERE closed_at IS NULL AND review_due_at IS NULL "
            "AND opened_at <= $1 LIMIT 500 FOR UPDATE SKIP LOCKED",
            opened_before,
        )

    async def mark_review_due(self, episode_id: UUID, at: datetime) -> None:
        await self.conn.execute("UPDATE episodes SET review_due_at = $2 WHERE episode_id = $1", episode_id, at)

    async def start_follow_up(
        self,
        followup_id: UUID,
        patient_id: UUID,
        episode_id: UUID | None,
        source: FollowUpSource,
        trust: str | None,
        discharged_at: datetime,
        due_by: datetime,
    ) -> None:
        await self.conn.execute(
            "INSERT INTO followups (followup_id, patient_id, episode_id, source, trust, discharged_at, due_by) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (followup_id) DO NOTHING",
            followup_id,
            patient_id,
            episode_id,
            source.value,
            trust,
            discharged_at,
            due_by,
        )

    async def save_feedback(
        self, feedback: FeedbackReceived, team: str | None, period: str, words: Sealed | None, now: datetime
    ) -> bool:
        """Keeps a response once (False if its id was already kept). The team's responses are
        kept one transaction at a time, so each summary counts every response before it."""
        if team is not None:
            await self.conn.execute("SELECT pg_advisory_xact_lock(hashtext('feedback:' || $1::text))", team)
        return bool(await self.conn.fetchval(
            "INSERT INTO feedback (feedback_id, patient_id, episode_id, respondent, team, period, answers, words_key, words, "
            "received_at, stored_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11) "
            "ON CONFLICT (feedback_id) DO NOTHING RETURNING true",
            feedback.feedback_id, feedback.patient_id, feedback.episode_id, feedback.respondent, team, period,
            feedback.answers.model_dump_json(), words.key_id if words else None, words.ciphertext if words else None,
            feedback.received_at, now,
        ))

    async def feedback_answers(self, team: str, period: str) -> list[FeedbackAnswers]:
        """The team's answers for the month, in the order they arrived."""
        rows = await self.conn.fetch("SELECT answers::text FROM feedback WHERE team = $1 AND period = $2 ORDER BY seq", team, period)
        return [FeedbackAnswers.model_validate_json(row[0]) for row in rows]

    async def open_episodes_not_invited(self, opened_before: datetime) -> list[UUID]:
        """Episodes still open, opened before then, not yet asked for feedback midway."""
        return [row[0] for row in await self.conn.fetch(
            "SELECT episode_id FROM episodes WHERE closed_at IS NULL AND feedback_invited_at IS NULL AND opened_at <= $1 "
            "LIMIT 500 FOR UPDATE SKIP LOCKED",
            opened_before,
        )]

    async def mark_feedback_invited(self, episode_id: UUID, at: datetime) -> None:
        await self.conn.execute("UPDATE episodes SET feedback_invited_at = $2 WHERE episode_id = $1", episode_id, at)
