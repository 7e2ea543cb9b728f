"""What the board's pages read: one team's board, decided row by row by the consent function for
that team, and audited (who saw which patient's row, on which list) in the transaction that
reads it, before anything is shown; and a team's fidelity figures for a week."""

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import asyncpg

from contracts import BoardViewAudited, Envelope, Trust
from services.board import domain, feedback, fidelity
from services.board.store import Store
from services.board.view import Board, Fidelity
from shared.privacy import consent_store
from shared.runtime import outbox
from shared.runtime.clock import Clock

LONDON = ZoneInfo("Europe/London")  # the team's local time: the five Trusts are all in Northern Ireland
SOURCE = "/carepath/board"


class Reader:
    def __init__(self, pool: asyncpg.Pool, clock: Clock, tz: ZoneInfo = LONDON) -> None:
        self.pool, self.clock, self.tz = pool, clock, tz

    async def board(self, team: str, viewer: str) -> Board:
        now = self.clock.now()
        trust = Trust(team.split(":", 1)[1])
        day_after_tomorrow = datetime.combine(now.astimezone(self.tz).date() + timedelta(days=2), time(0), self.tz)
        async with self.pool.acquire() as conn, conn.transaction():
            # Visits a week either side: this week of each care plan counts the contacts made in it
            # and those still booked to its end (and the board lists today's and tomorrow's).
            facts = await Store(conn).facts(trust, now - domain.WEEK, max(now + domain.WEEK, day_after_tomorrow))
            patients = {e.patient_id for e in facts.episodes} | {f.patient_id for f in facts.follow_ups}
            consent = {patient: await consent_store.load(conn, patient) for patient in patients if patient is not None}
            shown, viewed = domain.board(team, facts, consent, now, self.tz)
            await outbox.add(conn, *(_audited(view, team, viewer, now) for view in viewed))
        return shown

    async def fidelity(self, team: str, week: date) -> Fidelity:
        """Counts, never a patient's details: the episodes behind a figure are listed by id only;
        and what patients and carers said in the week's month, as the team's totals."""
        trust = Trust(team.split(":", 1)[1])
        period = feedback.period_of_week(week)
        async with self.pool.acquire() as conn:
            records, contacts = await Store(conn).fidelity_records(trust)
            summary = await Store(conn).team_feedback(team, period)
        figures = fidelity.fidelity(records, trust, team, week, self.clock.now(), follow_up_contacts=contacts)
        return replace(figures, feedback=feedback.view(summary, period))


def _audited(view: domain.Viewed, team: str, viewer: str, now: datetime) -> tuple[BoardViewAudited, Envelope]:
    audited = BoardViewAudited(patient_id=view.patient_id, viewer=viewer, team=team, list_name=view.list_name,
                               disclosed=tuple(sorted(view.decision.permitted)), denied=tuple(sorted(view.decision.denied)),
                               consent_version=view.decision.consent_version, reason=view.decision.reason[:200], viewed_at=now)
    envelope = Envelope(id=uuid4(), source=SOURCE, type=audited.cloudevents_type(), time=now, subject=audited.key,
                        correlationid=uuid4())
    return audited, envelope
