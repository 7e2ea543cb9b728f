from shared.runtime.settings import ServiceSettings, database_url


KEYSTORE = database_url("assessment_keys")  # the key store of its copies: a database of its own


class Settings(ServiceSettings):
    database_url: str = database_url("assessment")
    keystore_url: str | None = KEYSTORE
