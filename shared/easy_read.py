"""Times as people say them, for the easy-read messages every service writes to a patient:
"10 in the morning", "half past 2 in the afternoon", "12 midday", and a visit's hour,
"between 10 and 11 in the morning"."""

from datetime import datetime, timedelta


def part_of_day(hour: int) -> str:
    return "in the morning" if hour < 12 else "in the afternoon" if hour < 17 else "in the evening" if hour < 21 else "at night"


def _named_hour(at: datetime) -> int:
    """The hour the time is said by: 2:45 is "quarter to 3"."""
    return (at + timedelta(minutes=60 - at.minute)).hour if at.minute > 30 else at.hour


def _said(at: datetime) -> str:
    if at.minute > 30:
        to = 60 - at.minute
        return f"{'quarter' if to == 15 else f'{to} minutes'} to {_said(at + timedelta(minutes=to))}"
    if at.minute == 0 and at.hour in (0, 12):
        return "12 midnight" if at.hour == 0 else "12 midday"
    hour = at.hour % 12 or 12
    return {0: f"{hour}", 15: f"quarter past {hour}", 30: f"half past {hour}"}.get(at.minute, f"{at.minute} minutes past {hour}")


def _whole(said: str) -> bool:
    """Midday and midnight say their part of the day themselves."""
    return said.endswith(("midday", "midnight"))


def clock(at: datetime, part: str | None = None) -> str:
    """A local time as people say it: "10 in the morning", "half past 2 in the afternoon",
    "quarter to 3 in the afternoon", "12 midday", "12 midnight"."""
    said = _said(at)
    return said if _whole(said) else f"{said} {part or part_of_day(_named_hour(at))}"


def between(start: datetime, end: datetime) -> str:
    """Two local times as people say them, the part of the day said once where both are before
    midday or both after: "between 4 and 5 in the afternoon", "between 11 in the morning and 12 midday"."""
    first, last = _named_hour(start), _named_hour(end)
    if (first < 12) == (last < 12) and not _whole(_said(start)) and not _whole(_said(end)):
        return f"between {_said(start)} and {clock(end, part_of_day(first))}"
    return f"between {clock(start)} and {clock(end)}"
