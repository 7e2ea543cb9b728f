"""What the operators' command reads from the services' own databases: the copies delivered to
a recipient (and whether each still opens), what changed between two versions of a patient's
assessment, and scheduling's weekly report and an episode's continuity. Each goes through the
service's or the privacy tables' store, never its own SQL. A read of clinical content is
audited (who, why, what) in the transaction that reads it, before anything is shown."""

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from contracts.registry import EVENT_TYPES
from shared.privacy import audit, copies
from shared.privacy.keystore import PostgresKeyStore
from shared.privacy.store import PrivacyStore
from shared.runtime.db import connect_options


@dataclass(frozen=True)
class Reader:
    """Who is reading clinical content, and why: both go on the audit trail."""

    operator: str
    reason: str
    login: str | None = None  # the account that ran the command, beside the operator it names


async def copies_delivered(patient_id: UUID, recipient: str, urls: dict[str, tuple[str | None, str | None]], reader: Reader) -> None:
    """Each copy delivered to the recipient, oldest first, opened with the key its sending
    service holds; a copy whose key was destroyed says so instead. `urls`: for the assessment
    and discharge services, their database and key store (None: the service's setting)."""
    from services.assessment.settings import Settings as AssessmentSettings
    from services.discharge.settings import Settings as DischargeSettings

    defaults = {"assessment": AssessmentSettings(), "discharge": DischargeSettings()}
    lines = []
    for service, (database_url, keystore_url) in urls.items():
        url = database_url or defaults[service].database_url
        keys = await PostgresKeyStore.open(keystore_url or defaults[service].keystore_url, min_size=1, max_size=1)
        conn = await asyncpg.connect(url, **connect_options(url))
        try:
            read = conn.transaction()
            await read.start()
            await audit.operator_read(conn, service, patient_id, reader.operator, reader.reason, f"copies delivered to {recipient}",
                                      reader.login)
            privacy = PrivacyStore(conn, keys)
            for row in await privacy.deliveries(patient_id, recipient):
                copy = EVENT_TYPES[row["event_type"]].model_validate_json(row["copy"])
                try:
                    content = (await privacy.open_copy(copy)).model_dump_json(exclude_none=True)
                except copies.Unreadable as error:
                    content = f"UNREADABLE: {error}"
                lines.append((row["delivered_at"], f"  {row['delivered_at']:%Y-%m-%d %H:%M:%S} {row['event_type']} "
                              f"({', '.join(copy.categories)}; consent v{row['consent_version']}): {content}"))
            await read.commit()  # the audit is recorded, or nothing is shown
        finally:
            await conn.close()
            await keys.close()
    print(f"copies delivered to {recipient} about patient {patient_id}: {len(lines)}")
    for _, line in sorted(lines):
        print(line)


async def assessment_diff(patient_id: UUID, old: int | None, new: int | None, database_url: str | None, reader: Reader) -> None:
    """What changed in a patient's assessment between two versions, field by field."""
    from services.assessment import domain, store
    from services.assessment.settings import Settings as AssessmentSettings

    url = database_url or AssessmentSettings().database_url
    conn = await asyncpg.connect(url, **connect_options(url))
    try:
        async with conn.transaction():
            await audit.operator_read(conn, "assessment", patient_id, reader.operator, reader.reason,
                                      f"assessment versions {old if old is not None else 'previous'} to {new or 'latest'}", reader.login)
            versions = await store.Store(conn).versions(patient_id)
    finally:
        await conn.close()
    if not versions:
        raise SystemExit(f"no assessment recorded for patient {patient_id}")
    new = new or versions[-1].number
    old = old if old is not None else new - 1
    numbers = {version.number for version in versions} | {0}
    if old not in numbers or new not in numbers:
        raise SystemExit(f"patient {patient_id} has versions 1 to {versions[-1].number}")
    changes = domain.diff(domain.as_of(versions, old), domain.as_of(versions, new))
    print(f"assessment of patient {patient_id}: version {old} -> {new}, {len(changes)} field(s) changed")
    for change in changes:
        print(f"  {change.path}: {change.before!r} -> {change.after!r}")


async def scheduling_report(episode_id: UUID | None, database_url: str | None) -> None:
    from services.scheduling import store
    from services.scheduling.settings import Settings as SchedulingSettings

    settings = SchedulingSettings()
    url = database_url or settings.database_url
    conn = await asyncpg.connect(url, **connect_options(url))
    try:
        if episode_id is not None:
            row = await store.Store(conn).continuity(episode_id)
            print(
                f"episode {episode_id}: {row['visits']} visits by {row['staff_seen']} staff, "
                f"{float(row['key_worker_share']):.0%} by the key worker"
            )
            return
        print(f"{'team':<26} {'week of':<10} {'planned':>7} {'done':>5} {'missed':>6} {'cut short':>9} {'unassigned':>10}")
        for row in await store.Store(conn).weekly_report(settings.timezone):
            print(
                f"{row['team']:<26} {row['week']!s:<10} {row['planned']:>7} {row['completed']:>5} {row['missed']:>6} "
                f"{row['cut_short']:>9} {row['unassigned']:>10}"
            )
    finally:
        await conn.close()
