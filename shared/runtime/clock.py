"""Time as a parameter: domain rules take `now` from a clock, so tests move time instead of sleeping."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """The system clock moved by the number of seconds written in a file: how the acceptance
    tests move a running service's time forward instead of sleeping through it. Never set in
    production (`CAREPATH_CLOCK_OFFSET_FILE` unset means the plain system clock)."""

    def __init__(self, offset_file: Path) -> None:
        self._file = offset_file

    def now(self) -> datetime:
        try:
            offset = float(self._file.read_text().strip() or 0)
        except FileNotFoundError:
            offset = 0.0
        return datetime.now(UTC) + timedelta(seconds=offset)


def clock_for(offset_file: str | None) -> Clock:
    return OffsetClock(Path(offset_file)) if offset_file else SystemClock()
