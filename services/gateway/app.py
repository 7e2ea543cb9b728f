"""Wiring of the gateway: its settings, its callers, its web app served beside the outbox relay
on the service's pool. It consumes no topic: what it receives over HTTP it writes to the outbox,
and the relay every service runs publishes it."""

from pathlib import Path

import asyncpg
import uvicorn

from services.gateway.callers import Callers
from services.gateway.settings import Settings
from services.gateway.store import PostgresDesk
from services.gateway.web import GatewaySettings, create_app
from shared.runtime.clock import Clock
from shared.runtime.service import Service

MIGRATIONS = Path(__file__).parent / "migrations"


def create_service(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    service = Service("gateway", settings, {}, MIGRATIONS, clock=clock)
    service.alongside = (lambda pool: serve(pool, settings, service.clock),)
    return service


async def serve(pool: asyncpg.Pool, settings: Settings, clock: Clock) -> None:
    callers = Callers.load(Path(settings.callers_file))  # a broken file stops the gateway, naming the entry
    app = create_app(callers, PostgresDesk(pool), clock, GatewaySettings(max_body_bytes=settings.max_body_bytes))
    server = uvicorn.Server(uvicorn.Config(app, host=settings.fhir_host, port=settings.fhir_port, log_config=None,
                                           access_log=False, lifespan="off"))
    server.install_signal_handlers = lambda: None  # the service's own handlers stop it
    await server.serve()
