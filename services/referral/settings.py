from pydantic import SecretStr

from shared.settings import ServiceSettings, database_url


class Settings(ServiceSettings):
    database_url: str = database_url("referral")
    # Keys the lookup of a known patient by H&C number; set a real secret in production.
    identity_key: SecretStr = SecretStr("development-only-identity-key")
