"""Each Trust's referral rules, loaded from trust_rules.toml: response targets and eligibility."""

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts import Trust, Urgency

RULES_FILE = Path(__file__).parent / "trust_rules.toml"


class _ResponseHours(BaseModel):
    model_config = ConfigDict(extra="forbid")
    emergency: float | None = Field(default=None, gt=0)
    very_urgent: float | None = Field(default=None, gt=0)
    urgent: float | None = Field(default=None, gt=0)


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_age: int | None = Field(default=None, ge=0, le=130)
    max_age: int | None = Field(default=None, ge=0, le=130)
    response_hours: _ResponseHours = _ResponseHours()


@dataclass(frozen=True)
class TrustRules:
    trust: Trust
    targets: dict[Urgency, timedelta]
    min_age: int
    max_age: int | None


def load_rules(path: Path = RULES_FILE) -> dict[Trust, TrustRules]:
    raw = tomllib.loads(path.read_text())
    try:
        default = _Rules.model_validate(raw.get("default", {}))
        per_trust = {Trust(name): _Rules.model_validate(body) for name, body in raw.get("trust", {}).items()}
    except (ValidationError, ValueError) as error:
        raise ValueError(f"{path.name} rejected: {error}") from None
    return {trust: _merge(trust, default, per_trust.get(trust, _Rules())) for trust in Trust}


def _merge(trust: Trust, default: _Rules, own: _Rules) -> TrustRules:
    hours = default.response_hours.model_dump() | own.response_hours.model_dump(exclude_none=True)
    urgencies = {"emergency": Urgency.EMERGENCY, "very_urgent": Urgency.VERY_URGENT, "urgent": Urgency.URGENT}
    return TrustRules(
        trust=trust,
        targets={urgencies[name]: timedelta(hours=value) for name, value in hours.items() if value},
        min_age=own.min_age if own.min_age is not None else (default.min_age or 0),
        max_age=own.max_age if own.max_age is not None else default.max_age,
    )
