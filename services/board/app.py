"""Wiring of the board service: settings, store, handlers, migrations, and its web pages served
beside the consumers on the same pool."""

from pathlib import Path

import asyncpg
import uvicorn

from services.board import handlers
from services.board.reader import Reader
from services.board.settings import Settings
from services.board.signin import OidcSettings, Users
from services.board.store import Store
from services.board.web import WebSettings, create_app
from shared.runtime.clock import Clock
from shared.runtime.service import Service

MIGRATIONS = Path(__file__).parent / "migrations"


def create_service(settings: Settings | None = None, clock: Clock | None = None, *, web: bool = True) -> Service:
    """`web=False`: the consumers alone, as `carepath board rebuild` runs them."""
    settings = settings or Settings()
    service = Service("board", settings, handlers.HANDLERS, MIGRATIONS, store=Store, clock=clock)
    if web:
        service.alongside = (lambda pool: serve(pool, settings, service.clock),)
    return service


def web_settings(settings: Settings) -> WebSettings:
    if settings.session_secret is None:
        raise SystemExit("carepath board needs CAREPATH_SESSION_SECRET (at least 32 random characters) to sign its session cookies")
    oidc = OidcSettings(settings.oidc_metadata_url, settings.oidc_client_id, settings.oidc_client_secret.get_secret_value(),
                        trust_claim=settings.oidc_trust_claim, trust=settings.oidc_trust,
                        redirect_url=settings.oidc_redirect_url) if settings.oidc_metadata_url else None
    return WebSettings(session_secret=settings.session_secret.get_secret_value(), https_only=settings.cookie_https_only, oidc=oidc)


async def serve(pool: asyncpg.Pool, settings: Settings, clock: Clock) -> None:
    app = create_app(Reader(pool, clock), Users(settings.users_file), web_settings(settings), clock)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.web_host, port=settings.web_port, log_config=None,
                                           access_log=False, lifespan="off"))
    server.install_signal_handlers = lambda: None  # the service's own handlers stop it
    await server.serve()
