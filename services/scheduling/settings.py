from pathlib import Path

from pydantic import Field

from services.scheduling.rules import RULES_FILE
from shared.runtime.settings import ServiceSettings, database_url


class Settings(ServiceSettings):
    database_url: str = database_url("scheduling")
    # Visit windows are set in the Trust's local time.
    timezone: str = "Europe/Belfast"
    # Each Trust's visiting and open hours (services/scheduling/trust_rules.toml by default; not
    # `trust_rules_file`: CAREPATH_TRUST_RULES_FILE is the referral service's).
    hours_rules_file: Path = RULES_FILE
    # A visit with no outcome this long after its window closes is missed.
    missed_grace_minutes: int = Field(default=30, ge=0)
    # How often open visits are checked for lateness and misses.
    visit_check_interval_s: float = Field(default=30.0, gt=0)
