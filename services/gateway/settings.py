from pydantic import Field

from shared.runtime.settings import ServiceSettings, database_url


class Settings(ServiceSettings):
    database_url: str = database_url("gateway")
    # FHIR over HTTP(S): where it is served (TLS is ended in front of it, by the Trust's proxy),
    # and who may call (services/gateway/callers.py).
    fhir_host: str = "127.0.0.1"
    fhir_port: int = Field(default=8410, ge=0, le=65_535)
    callers_file: str = ".cache/gateway/callers.toml"
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    # It consumes nothing: a few connections for the requests and the relay.
    database_pool_size: int = Field(default=8, ge=2)
    database_pool_open: int = Field(default=2, ge=1)
