"""Wiring of the discharge service: settings, the directory, handlers, jobs and migrations."""

from pathlib import Path

from contracts import DischargeSummaryIssued
from services.discharge import handlers
from services.discharge.settings import Settings
from shared.runtime.clock import Clock
from shared.reference.directory import DIRECTORY_FILE, load_directory
from shared.runtime.service import Periodic, Service

MIGRATIONS = Path(__file__).parent / "migrations"


def create_service(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    directory = load_directory(Path(settings.directory_file) if settings.directory_file else DIRECTORY_FILE)
    subscribed, (check_follow_ups, check_reviews) = handlers.build(settings, directory)
    return Service(
        "discharge",
        settings,
        subscribed,
        MIGRATIONS,
        deliveries=(DischargeSummaryIssued,),
        periodic=[
            Periodic("follow-up-checks", settings.follow_up_check_interval_s, check_follow_ups),
            Periodic("episode-reviews", settings.follow_up_check_interval_s, check_reviews),
        ],
        clock=clock,
    )
