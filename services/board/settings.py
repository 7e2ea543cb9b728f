from pydantic import Field, SecretStr

from contracts import Trust
from shared.runtime.settings import ServiceSettings, database_url


class Settings(ServiceSettings):
    database_url: str = database_url("board")
    # The web pages: where they are served, and who may sign in (services/board/signin.py).
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8400, ge=0, le=65_535)
    users_file: str = ".cache/board/users.json"  # `carepath board add-user` writes it
    session_secret: SecretStr | None = None  # signs the session cookie: at least 32 random characters
    cookie_https_only: bool = True  # False only where the board is reached over plain HTTP on this host
    # A Trust's identity provider (OIDC, authorization code flow); without it, the users file alone.
    oidc_metadata_url: str | None = None  # the issuer's /.well-known/openid-configuration
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_trust_claim: str = "carepath_trust"  # the claim naming the user's Trust
    oidc_trust: Trust | None = None  # a Trust's own provider: everyone it signs in is that Trust's
    oidc_redirect_url: str | None = None  # the public /oidc/callback address, when behind a proxy
