"""Each Trust's discharge rules, loaded from trust_rules.toml: the follow-up clocks (the standard
and the one for a risk of suicide) and the notice a patient is given before home treatment ends."""

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts import Trust

RULES_FILE = Path(__file__).parent / "trust_rules.toml"
MAX_HOURS = 24 * 7 * 4  # no clock or notice longer than four weeks: a larger number is a typing slip


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    follow_up_hours: float | None = Field(default=None, gt=0, le=MAX_HOURS)
    suicide_risk_follow_up_hours: float | None = Field(default=None, gt=0, le=MAX_HOURS)
    # 0: no notice rule; the gate asks only that the patient was told, not how long before.
    discharge_notice_hours: float | None = Field(default=None, ge=0, le=MAX_HOURS)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    default: _Rules
    trust: dict[Trust, _Rules] = {}


@dataclass(frozen=True)
class TrustRules:
    follow_up: timedelta
    suicide_risk_follow_up: timedelta
    discharge_notice: timedelta


@dataclass(frozen=True)
class DischargeRules:
    """The default rules and each Trust's own; an episode whose Trust is not known gets the default."""

    default: TrustRules
    trusts: dict[Trust, TrustRules]

    def of(self, trust: str | None) -> TrustRules:
        return self.trusts[Trust(trust)] if trust else self.default


def load_rules(path: Path = RULES_FILE) -> DischargeRules:
    try:
        raw = _File.model_validate(tomllib.loads(path.read_text()))
        default = _merge(_Rules(), raw.default)
        missing = [name for name, value in vars(default).items() if value is None]
        if missing:
            raise ValueError(f"[default] needs {', '.join(missing)}")
    except (ValidationError, ValueError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path.name} rejected: {error}") from None
    return DischargeRules(_rules(default), {trust: _rules(_merge(default, raw.trust.get(trust, _Rules()))) for trust in Trust})


def _merge(default: _Rules, own: _Rules) -> _Rules:
    return default.model_copy(update=own.model_dump(exclude_none=True))


def _rules(merged: _Rules) -> TrustRules:
    assert merged.follow_up_hours and merged.suicide_risk_follow_up_hours and merged.discharge_notice_hours is not None
    return TrustRules(
        follow_up=timedelta(hours=merged.follow_up_hours),
        suicide_risk_follow_up=timedelta(hours=merged.suicide_risk_follow_up_hours),
        discharge_notice=timedelta(hours=merged.discharge_notice_hours),
    )
