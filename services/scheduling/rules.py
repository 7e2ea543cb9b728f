"""Each Trust's home treatment hours, loaded from trust_rules.toml (`domain.ServiceHours`)."""

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from contracts import Trust
from services.scheduling.domain import ServiceHours

RULES_FILE = Path(__file__).parent / "trust_rules.toml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^(\d\d):00-(\d\d):00$")


def hours(text: str) -> tuple[int, int]:
    """"09:00-20:00" as (9, 20); "24/7" as (0, 24)."""
    if text == "24/7":
        return 0, 24
    if not (match := _HOURS.match(text)) or not 0 <= int(match[1]) < int(match[2]) <= 24:
        raise ValueError(f'hours must be "HH:00-HH:00" (the first before the second, up to 24:00) or "24/7", not {text!r}')
    return int(match[1]), int(match[2])


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    visiting: str | None = None
    open: str | None = None
    days: tuple[str, ...] | None = None

    @field_validator("visiting", "open")
    @classmethod
    def _hours(cls, text: str | None) -> str | None:
        if text is not None:
            hours(text)
        return text

    @field_validator("days")
    @classmethod
    def _days(cls, days: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if days is not None and (not days or set(days) - set(DAYS)):
            raise ValueError(f"days must be some of {', '.join(DAYS)}")
        return days


def load_rules(path: Path = RULES_FILE) -> dict[Trust, ServiceHours]:
    raw = tomllib.loads(path.read_text())
    try:
        default = _Rules.model_validate(raw.get("default", {}))
        per_trust = {Trust(name): _Rules.model_validate(body) for name, body in raw.get("trust", {}).items()}
        return {trust: _merge(default, per_trust.get(trust, _Rules())) for trust in Trust}
    except (ValidationError, ValueError) as error:
        raise ValueError(f"{path.name} rejected: {error}") from None


def _merge(default: _Rules, own: _Rules) -> ServiceHours:
    visiting = hours(own.visiting or default.visiting or "09:00-20:00")
    open_ = hours(own.open or default.open or own.visiting or default.visiting or "09:00-20:00")
    if not (open_[0] <= visiting[0] and visiting[1] <= open_[1]):
        raise ValueError(f"the visiting hours {visiting} must lie within the open hours {open_}")
    days = own.days or default.days or DAYS
    return ServiceHours(visiting=visiting, open=open_, days=frozenset(DAYS.index(day) for day in days))
