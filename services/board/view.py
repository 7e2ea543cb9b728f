"""What the board's pages show, as plain frozen rows: the contract between the read model (which
folds carepath's events into them) and the web pages and commands (which only render them).
Every word a team lead reads is already in a row; a page adds layout, never meaning."""

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from contracts import Trust


@dataclass(frozen=True)
class WaitingRow:
    """A line of the board's "waiting for assessment" list, with the words it shows."""

    episode_id: UUID
    patient_id: UUID
    urgency: str
    clock: str
    breached: bool
    minutes_left: int  # negative once breached
    in_ed: str | None


@dataclass(frozen=True)
class VisitRow:
    """A line of the day's visits: when, who, and what the team must do about it."""

    visit_id: UUID
    patient_id: UUID
    window: str
    visitor: str
    key_worker: str
    status: str
    needs_action: bool


@dataclass(frozen=True)
class DischargeRow:
    episode_id: UUID
    patient_id: UUID
    waiting_on: str
    since: str


@dataclass(frozen=True)
class FollowUpRow:
    """A follow-up after discharge, due within 72 hours or overdue."""

    patient_id: UUID
    discharged: str  # e.g. "discharged from home treatment 30 h ago"
    due: str  # e.g. "due in 42 h" or "overdue by 5 h"
    overdue: bool
    minutes_left: int  # negative once overdue


@dataclass(frozen=True)
class CarerRow:
    """A carer recorded at breaking point, or whose carer's assessment has not been offered."""

    patient_id: UUID
    episode_id: UUID
    concern: str  # e.g. "carer at breaking point (raised 3 h ago): more visits"
    needs_action: bool


@dataclass(frozen=True)
class BelowPlanRow:
    """A patient below the contacts their care plan agreed for this week."""

    patient_id: UUID
    episode_id: UUID
    week: int
    planned: int
    completed: int
    still_booked: int
    words: str  # e.g. "week 1: 2 of 7 contacts so far, 3 more booked: 2 short"


@dataclass(frozen=True)
class WithheldRow:
    """A patient the team is told about but may not see this list's details of: the consent
    decision for the viewing team said no. The id only, and why, so the team can still act."""

    patient_id: UUID
    list_name: str  # which list the row would have been on
    reason: str  # the consent decision's reason (never patient data)


@dataclass(frozen=True)
class Board:
    """One team's board at one moment."""

    trust: Trust
    team: str  # e.g. "htcr:belfast"
    at: datetime
    local_time: str  # "Mon 7 Dec, 08:00" in the team's time zone
    waiting: tuple[WaitingRow, ...] = ()
    today: tuple[VisitRow, ...] = ()
    tomorrow: tuple[VisitRow, ...] = ()
    follow_ups: tuple[FollowUpRow, ...] = ()
    discharges: tuple[DischargeRow, ...] = ()
    carers: tuple[CarerRow, ...] = ()
    below_plan: tuple[BelowPlanRow, ...] = ()
    withheld: tuple[WithheldRow, ...] = ()


@dataclass(frozen=True)
class Figure:
    """One fidelity figure for a team's week, named by what it measures, with the episodes behind it."""

    key: str  # a slug: the CSV column and the page's anchor, e.g. "assessed-within-4h"
    measures: str  # what it measures, in plain words
    value: float | None  # a share (0..1) or a mean; None when nothing was there to count
    shown: str  # the value as shown: "82 %", "3.4 staff", "no referrals this week"
    counted: str  # "9 of 11 emergency or very urgent referrals"
    is_share: bool  # a share is charted against 100 %
    episodes: tuple[UUID, ...] = ()  # every episode counted
    short: tuple[UUID, ...] = ()  # those that did not meet it (for a share)


@dataclass(frozen=True)
class FeedbackRow:
    """One question's totals for a team's month, in words: counts only, or why they are withheld."""

    question: str  # "Felt listened to"
    shown: str  # "yes 8, partly 1, no 1 (of 10 who answered it)", or "withheld: ..."
    answered: int
    yes: int | None = None  # None: withheld (fewer than the minimum answered it)
    partly: int | None = None
    no: int | None = None


@dataclass(frozen=True)
class TeamFeedback:
    """What patients and carers told a team in a month: how many answered, and the totals."""

    period: str  # YYYY-MM
    month: str  # "December 2026"
    headline: str  # how many answered, and what the totals cover
    rows: tuple[FeedbackRow, ...] = ()


@dataclass(frozen=True)
class Fidelity:
    trust: Trust
    team: str
    week: date  # the Monday the week starts (the team's local time)
    figures: tuple[Figure, ...] = field(default=())
    feedback: "TeamFeedback | None" = None  # what patients and carers said in the month the week starts in
