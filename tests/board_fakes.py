"""A hand-written board reader returning fixed boards and fidelity weeks, for the web pages' tests
(unit and browser) without a database: rows as the read model would hand them over."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

from contracts import Trust
from services.board.domain import DischargeRow, VisitRow, WaitingRow
from services.board.view import BelowPlanRow, Board, CarerRow, Fidelity, Figure, FollowUpRow, WithheldRow

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # a Monday
WEEK = date(2026, 12, 7)


@dataclass
class BelfastIds:
    """The ids on the Belfast board, by what the tests look for."""

    breached: UUID = field(default_factory=uuid4)
    waiting: UUID = field(default_factory=uuid4)
    missed: UUID = field(default_factory=uuid4)
    planned: UUID = field(default_factory=uuid4)
    overdue: UUID = field(default_factory=uuid4)
    due: UUID = field(default_factory=uuid4)
    held: UUID = field(default_factory=uuid4)
    carer: UUID = field(default_factory=uuid4)
    below: UUID = field(default_factory=uuid4)
    withheld: UUID = field(default_factory=uuid4)


def belfast_board(ids: BelfastIds) -> Board:
    """A busy morning: one referral breached (listed after one that is not, as a careless reader
    might), a missed visit, an overdue follow-up, and one of every other row."""
    return Board(
        trust=Trust.BELFAST, team="htcr:belfast", at=NOW, local_time="Mon 7 Dec, 08:00",
        waiting=(
            WaitingRow(uuid4(), ids.waiting, "urgent", "20 h left of 24 h", False, 1200, None),
            WaitingRow(uuid4(), ids.breached, "very urgent", "breached: 2 h 10 min past the 4 h target", True, -130,
                       "in the ED 6 h 10 min"),
        ),
        today=(
            VisitRow(uuid4(), ids.planned, "14:00–15:00", "staff-0002", "staff-0002 (visiting)", "planned", False),
            VisitRow(uuid4(), ids.missed, "07:00–07:30", "staff-0007", "staff-0003", "missed: nobody recorded a visit", True),
        ),
        follow_ups=(
            FollowUpRow(ids.due, "discharged from home treatment 30 h ago", "due in 42 h", False, 2520),
            FollowUpRow(ids.overdue, "discharged from home treatment 77 h ago", "overdue by 5 h", True, -300),
        ),
        discharges=(DischargeRow(uuid4(), ids.held, "the patient has not been told; no crisis contacts given", "held 3 h ago"),),
        carers=(CarerRow(ids.carer, uuid4(), "carer at breaking point (raised 3 h ago): more visits", True),),
        below_plan=(BelowPlanRow(ids.below, uuid4(), 1, 7, 2, 3, "week 1: 2 of 7 contacts so far, 3 more booked: 2 short"),),
        withheld=(WithheldRow(ids.withheld, "carers", "the patient has not consented to sharing with this team"),),
    )


def empty_board(team: str = "htcr:belfast") -> Board:
    return Board(trust=Trust(team.split(":")[1]), team=team, at=NOW, local_time="Mon 7 Dec, 08:00")


def a_fidelity(team: str, week: date) -> Fidelity:
    """Two shares, a mean, a second mean twice as large, and a figure with nothing to count."""
    met, short = [uuid4() for _ in range(9)], [uuid4() for _ in range(2)]
    return Fidelity(Trust(team.split(":")[1]), team, week, (
        Figure("assessed-within-4h", "emergency and very urgent referrals assessed within 4 hours", 9 / 11, "82 %",
               "9 of 11 emergency or very urgent referrals", True, tuple(met + short), tuple(short)),
        Figure("referrer-answered-30min", "referrers answered within 30 minutes", 1.0, "100 %", "4 of 4 referrals", True,
               tuple(met[:4])),
        Figure("staff-per-episode", "staff who visited each episode", 3.4, "3.4 staff", "5 episodes", False, tuple(met[:5])),
        Figure("contacts-week-one", "contacts in the first week", 6.8, "6.8 contacts", "5 episodes", False, tuple(met[4:9])),
        Figure("reviewed-six-weeks", "episodes reviewed at six weeks", None, "no episodes reached six weeks", "0 episodes",
               True),
    ))


class FakeReader:
    """Boards by team; what each was asked, and by whom, kept to assert on."""

    def __init__(self, boards: dict[str, Board]) -> None:
        self.boards = boards
        self.weeks: dict[tuple[str, date], Fidelity] = {}
        self.asked: list[tuple[str, object]] = []

    async def board(self, team: str, viewer: str) -> Board:
        self.asked.append((team, viewer))
        return self.boards.get(team) or empty_board(team)

    async def fidelity(self, team: str, week: date) -> Fidelity:
        self.asked.append((team, week))
        return self.weeks.setdefault((team, week), a_fidelity(team, week))
