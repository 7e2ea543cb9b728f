"""Wiring of the board service: settings, store, handlers, migrations, and its web pages served
beside the consumers on the same pool."""

from pathlib import Path

from services.board import handlers
from services.board.settings import Settings
from services.board.store import Store
from shared.runtime.clock import Clock
from shared.runtime.service import Service

MIGRATIONS = Path(__file__).parent / "migrations"


def create_service(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    return Service("board", settings, handlers.HANDLERS, MIGRATIONS, store=Store, clock=clock)
