"""A carepath deployment of its own for the operator tools (bench, soak): the four services as
processes on the real broker and PostgreSQL under a fresh topic prefix and fresh databases, set
up as the acceptance suite sets up its own, and removed again afterwards (topics included, so a
bench run leaves no backlog on a shared broker)."""

import asyncio
import json
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import Role, Shift, ShiftsRostered, StaffMemberRecorded, Topic, Trust
from tools.eventlog import EventLog
from shared.runtime.kafka import MissingCredential, wait_for_kafka
from shared.runtime.settings import DEFAULT_PG
from tests import logins
from tools.trust import TrustSystem
from tests.acceptance.deployment import (
    KEY_STORES,
    SERVICE_FACTORIES,
    Deployment,
    ServiceProcess,
    recreate_databases,
    service_env,
)

BOOTSTRAP = logins.settings().kafka_bootstrap
PG_SERVER = os.environ.get("CAREPATH_TEST_PG_SERVER", DEFAULT_PG)


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """The process environment replaced for a moment: a service's settings are read from it."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class ToolDeployment(Deployment):
    """The acceptance suite's deployment, with a service's consumer groups read from the service
    as that service builds itself (its own environment: the topic prefix may name the group)."""

    _ends: AIOKafkaConsumer | None = None  # kept open: asked every few milliseconds while timing
    workspace: "Workspace | None" = None

    def groups_of(self, service: str) -> dict[str, list[str]]:
        with environment(self.services[service].env):
            return super().groups_of(service)

    def heartbeat(self, service: str) -> Path:
        return Path(self.services[service].env["CAREPATH_HEARTBEAT_FILE"])

    def running(self, service: str) -> bool:
        process = self.services[service].process
        return process is not None and process.poll() is None

    async def start(self, *names: str, timeout_s: float = 90) -> None:
        """Starts services and waits until each has migrated, connected and beaten its heart."""
        for name in names:
            self.heartbeat(name).unlink(missing_ok=True)
            self.services[name].start()
        deadline = time.monotonic() + timeout_s
        while not all(self.heartbeat(name).exists() for name in names):
            for name in names:
                if not self.running(name):
                    raise RuntimeError(f"{name} exited at start: " + self.services[name].log_path.read_text()[-2000:])
            if time.monotonic() > deadline:
                raise TimeoutError(f"{', '.join(names)} did not start within {timeout_s:.0f}s")
            await asyncio.sleep(0.1)

    async def end_offsets(self, *topics: Topic) -> int:
        """How many records are on these topics now, all partitions together."""
        if self._ends is None:
            self._ends = AIOKafkaConsumer(**self.kafka.options(), group_id=None, enable_auto_commit=False)
            await self._ends.start()
        partitions = [TopicPartition(t.full_name(self.prefix), p) for t in topics for p in range(t.partitions)]
        return sum((await self._ends.end_offsets(partitions)).values())

    async def close(self) -> None:
        if self._ends is not None:
            await self._ends.stop()
        await super().close()

    async def redeliveries(self) -> dict[str, int]:
        """Duplicates each service's inboxes recognised and skipped: the `inbox.redelivered`
        counts where the runtime keeps them, else the `event.duplicate_skipped` log lines."""
        found = {}
        for name, svc in self.services.items():
            has_column = await self.query(
                name,
                "SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'inbox' AND column_name = 'redelivered'",
            )
            if has_column[0]["n"]:
                rows = await self.query(name, "SELECT coalesce(sum(redelivered), 0)::bigint AS n FROM inbox")
                found[name] = int(rows[0]["n"])
            else:
                found[name] = count_log_lines(svc.log_path, "event.duplicate_skipped")
        return found


def count_log_lines(path: Path, event: str) -> int:
    """JSON log lines of one event name (lines that are not JSON, such as tracebacks, are skipped)."""
    if not path.exists():
        return 0
    count = 0
    with open(path, errors="replace") as lines:
        for line in lines:
            if f'"{event}"' in line:
                try:
                    count += json.loads(line).get("event") == event
                except json.JSONDecodeError:
                    pass
    return count


@dataclass
class Workspace:
    """Where one run keeps its service logs; removed at the end unless asked to keep it."""

    path: Path
    keep: bool


@asynccontextmanager
async def own_deployment(
    purpose: str,
    *,
    start: Iterable[str] = tuple(SERVICE_FACTORIES),
    log: Callable[[str], EventLog] | None = None,
    keep_logs: bool = False,
) -> AsyncIterator[ToolDeployment]:
    """A fresh deployment named `<purpose>-<run>`; `log` opens the event log the run reads (none
    by default: reading every event costs the machine being measured)."""
    try:
        await wait_for_kafka(logins.admin(), timeout_s=20)
    except (TimeoutError, MissingCredential) as error:
        raise SystemExit(f"{error}: start the infrastructure with `make infra`") from None
    run = uuid4().hex[:8]
    prefix = f"{purpose}-{run}"
    databases = {name: f"carepath_{purpose}_{run}_{name}" for name in (*SERVICE_FACTORIES, *KEY_STORES)}
    workspace = Workspace(Path(tempfile.mkdtemp(prefix=f"carepath-{purpose}-{run}-")), keep_logs)
    clock_offset = workspace.path / "clock-offset-seconds"
    urls = {name: f"{PG_SERVER}/{db}" for name, db in databases.items()}
    services = {
        name: ServiceProcess(name, service_env(name, BOOTSTRAP, prefix, urls[name], clock_offset, keystore_url=urls.get(f"{name}_keys"),
                                               test_hooks=False), workspace.path / f"{name}.log")
        for name in SERVICE_FACTORIES
    }
    await logins.open_deployment(prefix)
    await recreate_databases(PG_SERVER, list(databases.values()))
    events = log(prefix) if log else None
    deployment = ToolDeployment(logins.admin(), prefix, urls, services, events, clock_offset)  # type: ignore[arg-type]
    deployment.workspace = workspace
    try:
        if events is not None:
            await events.__aenter__()
        await deployment.start(*start)
        yield deployment
    except BaseException:
        workspace.keep = True
        raise
    finally:
        await deployment.close()
        if events is not None:
            await events.__aexit__(None, None, None)
        await recreate_databases(PG_SERVER, list(databases.values()), create=False)
        await logins.close_deployment(prefix)
        if workspace.keep:
            print(f"  (service logs kept in {workspace.path})")
        else:
            shutil.rmtree(workspace.path, ignore_errors=True)


async def record_rota(deployment: Deployment, trust: Trust, staff: int) -> None:
    """The Trust's rostering system records a team (nurses, the first one its lead) on day
    shifts 07:00-21:00 for the next ten days, so every plan finds people to visit."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = tuple(Shift(starts_at=today + timedelta(days=d, hours=7), ends_at=today + timedelta(days=d, hours=21)) for d in range(10))
    async with TrustSystem(deployment.kafka, deployment.prefix, f"/trust/{trust.value}/rostering") as rostering:
        for n in range(staff):
            staff_id = f"{trust.value}-nurse-{n:02d}"
            await rostering.publish(
                StaffMemberRecorded(staff_id=staff_id, team=f"htcr:{trust.value}", role=Role.NURSE, skills=(),
                                    team_lead=n == 0, display_name=f"Nurse {n:02d}")
            )
            await rostering.publish(ShiftsRostered(staff_id=staff_id, shifts=days))
    await deployment.settled(timeout_s=120)
