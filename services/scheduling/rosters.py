"""The rosters this instance has read, kept from one plan to the next.

Every plan reads its team's roster: hundreds of shifts and thousands of bookings. Most find it as
the plan before left it, so the roster a plan used is kept with the team's roster version
(`roster_versions`, moved on by triggers at every change to the team's staff, shifts or bookings,
by any instance). The next plan locks the version, and reuses the kept roster only if the
version is still the one it was kept at and it covers the span asked for; otherwise it reads the
roster afresh. A roster is kept only once the plan has written what it booked in it, with the
version its own writes made, so a plan rolled back leaves a version that no longer matches."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from services.scheduling.planning import Roster

SLACK = timedelta(days=1)  # a roster is read this far beyond the span asked for, to serve later plans


@dataclass(frozen=True)
class Kept:
    version: UUID | None  # None: the team had no roster version when this was read
    start: datetime
    end: datetime
    roster: Roster


class RosterCache:
    def __init__(self) -> None:
        self._kept: dict[str, Kept] = {}

    def take(self, team: str, version: UUID | None, start: datetime, end: datetime) -> Kept | None:
        """The kept roster, if it is still the team's and covers [start, end); it is no longer kept
        either way, until it is given back."""
        kept = self._kept.pop(team, None)
        if kept is None or version is None or kept.version != version or not (kept.start <= start and end <= kept.end):
            return None
        return kept

    def keep(self, team: str, kept: Kept) -> None:
        self._kept[team] = kept
