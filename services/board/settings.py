from pydantic import Field, SecretStr

from shared.runtime.settings import ServiceSettings, database_url


class Settings(ServiceSettings):
    database_url: str = database_url("board")
    # The web pages: where they are served, and who may sign in (services/board/signin.py).
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8400, ge=0, le=65_535)
    users_file: str = ".cache/board/users.json"
    session_secret: SecretStr | None = None
    cookie_https_only: bool = True
