"""Wiring of the scheduling service: settings, handlers, the periodic checks and migrations."""

from pathlib import Path

from services.scheduling import handlers
from services.scheduling.settings import Settings
from shared.runtime.clock import Clock
from shared.runtime.service import Periodic, Service

MIGRATIONS = Path(__file__).parent / "migrations"


def create_service(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    subscribed, (check_visits, check_weeks, name_key_workers) = handlers.build(settings)
    return Service(
        "scheduling",
        settings,
        subscribed,
        MIGRATIONS,
        periodic=[
            Periodic("visit-checks", settings.visit_check_interval_s, check_visits),
            Periodic("weekly-contacts", settings.visit_check_interval_s, check_weeks),
            Periodic("key-worker-names", settings.visit_check_interval_s, name_key_workers),
        ],
        clock=clock,
    )
