"""Wiring of the referral service: settings, data files, keys, store, handlers, jobs, migrations."""

from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from services.referral import handlers
from services.referral.rules import RULES_FILE, load_rules
from services.referral.settings import Settings
from services.referral.store import IdentityKeys, Store
from shared.privacy import crypto
from shared.reference.directory import DIRECTORY_FILE, load_directory
from shared.runtime.clock import Clock
from shared.runtime.service import Periodic, Service

MIGRATIONS = Path(__file__).parent / "migrations"


def create_service(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    lookup_setting = settings.identity_key.get_secret_value()
    identity = IdentityKeys(
        lookup=crypto.key_ring(lookup_setting),
        sealing=crypto.key_ring(settings.identity_encryption_key.get_secret_value()),
        legacy_lookup=lookup_setting.encode() if crypto.unversioned(lookup_setting) else None,
    )
    deps = handlers.Dependencies(
        rules=load_rules(Path(settings.trust_rules_file) if settings.trust_rules_file else RULES_FILE),
        directory=load_directory(Path(settings.directory_file) if settings.directory_file else DIRECTORY_FILE),
        tz=ZoneInfo(settings.timezone),
    )
    return Service(
        "referral",
        settings,
        handlers.HANDLERS,
        MIGRATIONS,
        store=partial(Store, identity=identity),
        deps=deps,
        periodic=[Periodic("deadline-check", settings.deadline_check_interval_s, handlers.check_deadlines)],
        on_start=handlers.publish_directory,
        clock=clock,
    )
