"""Wiring of the discharge service: settings, dependencies, store, handlers, jobs, migrations."""

from pathlib import Path

from contracts import DischargeSummaryIssued
from services.discharge import handlers
from services.discharge.rules import RULES_FILE, load_rules
from services.discharge.settings import Settings
from services.discharge.store import Store
from shared.reference.directory import DIRECTORY_FILE, load_directory
from shared.runtime.clock import Clock
from shared.runtime.service import Periodic, Service

MIGRATIONS = Path(__file__).parent / "migrations"


def create_service(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    deps = handlers.Dependencies(
        directory=load_directory(Path(settings.directory_file) if settings.directory_file else DIRECTORY_FILE),
        rules=load_rules(Path(settings.discharge_rules_file) if settings.discharge_rules_file else RULES_FILE),
    )
    every = settings.follow_up_check_interval_s
    return Service(
        "discharge",
        settings,
        handlers.HANDLERS,
        MIGRATIONS,
        store=Store,
        deps=deps,
        deliveries=(DischargeSummaryIssued,),
        periodic=[
            Periodic("follow-up-checks", every, handlers.check_follow_ups),
            Periodic("episode-reviews", every, handlers.check_reviews),
            Periodic("feedback-invitations", every, handlers.invite_feedback_midway),
            Periodic("break-glass-ends", settings.override_check_interval_s, handlers.end_overrides),
        ],
        clock=clock,
    )
