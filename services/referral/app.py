"""Wiring of the referral service: settings, data files, handlers, jobs and migrations."""

from pathlib import Path

from services.referral import handlers
from services.referral.rules import RULES_FILE, load_rules
from services.referral.settings import Settings
from shared.privacy import crypto
from shared.runtime.clock import Clock
from shared.reference.directory import DIRECTORY_FILE, load_directory
from shared.runtime.service import Periodic, Service

MIGRATIONS = Path(__file__).parent / "migrations"


def create_service(settings: Settings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or Settings()
    directory = load_directory(Path(settings.directory_file) if settings.directory_file else DIRECTORY_FILE)
    rules = load_rules(Path(settings.trust_rules_file) if settings.trust_rules_file else RULES_FILE)
    return Service(
        "referral",
        settings,
        handlers.build(
            rules,
            directory,
            lookup_key=settings.identity_key.get_secret_value().encode(),
            sealing_key=crypto.key_from_secret(settings.identity_encryption_key.get_secret_value()),
        ),
        MIGRATIONS,
        periodic=[Periodic("deadline-check", settings.deadline_check_interval_s, handlers.check_deadlines)],
        on_start=handlers.publish_directory(directory),
        clock=clock,
    )
