"""Wiring of the scheduling service: settings, dependencies, store, handlers, jobs, migrations."""

from datetime import timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from services.scheduling import handlers
from services.scheduling.rules import load_rules
from services.scheduling.rosters import RosterCache
from services.scheduling.settings import Settings
from services.scheduling.store import Store
from shared.runtime.clock import Clock
from shared.runtime.service import Periodic, Service

MIGRATIONS = Path(__file__).parent / "migrations"


def create_service(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    deps = handlers.Dependencies(tz=ZoneInfo(settings.timezone), missed_grace=timedelta(minutes=settings.missed_grace_minutes),
                                 hours=load_rules(settings.hours_rules_file))
    every = settings.visit_check_interval_s
    return Service(
        "scheduling",
        settings,
        handlers.HANDLERS,
        MIGRATIONS,
        store=partial(Store, rosters=RosterCache()),  # one cache for the instance's transactions
        deps=deps,
        periodic=[
            Periodic("visit-checks", every, handlers.check_visits),
            Periodic("weekly-contacts", every, handlers.check_weeks),
            Periodic("key-worker-names", every, handlers.name_key_workers),
            Periodic("day-before-confirmations", every, handlers.confirm_visits),
        ],
        clock=clock,
    )
