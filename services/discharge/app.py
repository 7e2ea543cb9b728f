"""Wiring of the discharge service: settings, handlers and migrations into the shared runtime."""

from pathlib import Path

from services.discharge import handlers
from services.discharge.settings import Settings
from shared.clock import Clock
from shared.service import Service

MIGRATIONS = Path(__file__).parent / "migrations"


def create_service(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    return Service("discharge", settings, handlers.build(settings), MIGRATIONS, clock=clock)
