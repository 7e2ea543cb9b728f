from pydantic import Field, SecretStr

from shared.runtime.settings import ServiceSettings, database_url

DEVELOPMENT_SECRET = "development-only-secret-change-me"


class Settings(ServiceSettings):
    database_url: str = database_url("referral")
    # Keys the lookup of a known patient by H&C number, and seals identifying details at rest:
    # each 32 random bytes in base64, or a ring of them for rotation (`v2:<new>,v1:<old>`, the
    # first in use). The defaults are for development; production refuses them.
    identity_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    identity_encryption_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    # How often accepted referrals are checked against their assessment deadline.
    deadline_check_interval_s: float = Field(default=30.0, gt=0)
    # The local time the referrer's status messages are written in.
    timezone: str = "Europe/Belfast"
    # Data files: per-Trust rules, and the service directory used for signposting.
    trust_rules_file: str | None = None
    directory_file: str | None = None
