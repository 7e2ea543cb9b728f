"""Wiring of the referral service: settings, handlers and migrations into the shared runtime."""

from pathlib import Path

from services.referral import handlers
from services.referral.settings import Settings
from shared.clock import Clock, SystemClock
from shared.service import Service

MIGRATIONS = Path(__file__).parent / "migrations"


def create_service(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    return Service(
        name="referral",
        settings=settings,
        handlers=handlers.build(settings),
        migrations=MIGRATIONS,
        clock=clock or SystemClock(),
    )
