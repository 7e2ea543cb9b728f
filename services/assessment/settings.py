from shared.runtime.settings import ServiceSettings, database_url


class Settings(ServiceSettings):
    database_url: str = database_url("assessment")
