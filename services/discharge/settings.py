from pydantic import Field

from shared.runtime.settings import ServiceSettings, database_url


KEYSTORE = database_url("discharge_keys")  # the key store of its copies: a database of its own


class Settings(ServiceSettings):
    database_url: str = database_url("discharge")
    keystore_url: str | None = KEYSTORE
    # How often follow-up clocks and six-week reviews are checked.
    follow_up_check_interval_s: float = Field(default=30.0, gt=0)
    directory_file: str | None = None
    # Per-Trust follow-up clocks and notice; the packaged trust_rules.toml when unset. (Not
    # `trust_rules_file`: that name, CAREPATH_TRUST_RULES_FILE, is the referral service's.)
    discharge_rules_file: str | None = None
