"""Wiring of the assessment service: settings, store, handlers and migrations."""

from pathlib import Path

from contracts import AssessmentShared, CarerInformationShared
from services.assessment import handlers
from services.assessment.settings import Settings
from services.assessment.store import Store
from shared.runtime.clock import Clock
from shared.runtime.service import Periodic, Service

MIGRATIONS = Path(__file__).parent / "migrations"


def create_service(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    return Service(
        "assessment",
        settings,
        handlers.HANDLERS,
        MIGRATIONS,
        store=Store,
        deliveries=(AssessmentShared, CarerInformationShared),
        periodic=[Periodic("break-glass-ends", settings.override_check_interval_s, handlers.end_overrides)],
        clock=clock,
    )
