from shared.settings import ServiceSettings, database_url


class Settings(ServiceSettings):
    database_url: str = database_url("scheduling")
    # Visit windows are set in the Trust's local time.
    timezone: str = "Europe/Belfast"
