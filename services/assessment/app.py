"""Wiring of the assessment service: settings, handlers and migrations into the shared runtime."""

from pathlib import Path

from contracts import AssessmentShared, CarerInformationShared
from services.assessment import handlers
from services.assessment.settings import Settings
from shared.runtime.clock import Clock
from shared.runtime.service import Service

MIGRATIONS = Path(__file__).parent / "migrations"


def create_service(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    return Service(
        "assessment",
        settings,
        handlers.build(settings),
        MIGRATIONS,
        deliveries=(AssessmentShared, CarerInformationShared),
        clock=clock,
    )
