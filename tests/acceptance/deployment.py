"""A whole carepath deployment for the acceptance tests: the four services as real processes
on the real Kafka broker and PostgreSQL, isolated by a topic prefix and databases of their own."""

import asyncio
import base64
import secrets
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from pydantic import BaseModel

from contracts import AddressedCopy
from services.assessment.app import create_service as assessment
from services.board.app import create_service as board
from services.discharge.app import create_service as discharge
from services.gateway.app import create_service as gateway
from services.referral.app import create_service as referral
from services.scheduling.app import create_service as scheduling
from shared.privacy import copies
from shared.privacy.keystore import PostgresKeyStore
from shared.runtime.db import connect_options, create_pool
from shared.runtime.kafka import KafkaLogin
from tools.eventlog import EventLog
from tools.journey import Patient

SERVICE_FACTORIES = {"referral": referral, "assessment": assessment, "scheduling": scheduling, "discharge": discharge}
# Run only where a test asks for it (`a_deployment(..., board=True)`): it reads every event.
OPTIONAL_FACTORIES = {"board": board, "gateway": gateway}
KEY_STORES = ("assessment_keys", "discharge_keys")  # the services that send copies keep their keys apart
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ServiceProcess:
    """One service running as `python -m services.<name>`, its output appended to a log file."""

    name: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, **extra_env: str) -> None:
        assert self.process is None or self.process.poll() is not None, f"{self.name} is already running"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}"],
                env={**self.env, **extra_env},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    def kill(self) -> None:
        """SIGKILL: no chance to commit, flush or close anything."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    async def exited(self, timeout_s: float = 60) -> int:
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} still running after {timeout_s}s")
            await asyncio.sleep(0.1)
        return self.process.returncode

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class Deployment:
    kafka: KafkaLogin  # the tests' own login (the admin's); `as_principal` plays any other
    prefix: str
    databases: dict[str, str]
    services: dict[str, ServiceProcess]
    log: EventLog
    clock_offset_file: Path
    pools: dict[str, asyncpg.Pool] = field(default_factory=dict)
    key_stores: dict[str, PostgresKeyStore] = field(default_factory=dict)
    patients: list[Patient] = field(default_factory=list)  # everyone the tests sent in

    async def query(self, service: str, sql: str, *args: object) -> list[asyncpg.Record]:
        if service not in self.pools:
            self.pools[service] = await create_pool(self.databases[service], min_size=1, max_size=2)
        return await self.pools[service].fetch(sql, *args)

    async def ready(self, timeout_s: float = 90) -> None:
        """Waits until every service has migrated, connected and beaten its heart once."""
        beats = [Path(svc.env["CAREPATH_HEARTBEAT_FILE"]) for svc in self.services.values()]
        deadline = time.monotonic() + timeout_s
        while not all(beat.exists() for beat in beats):
            if time.monotonic() > deadline:
                raise TimeoutError("services did not start: " + self.log_text()[-2000:])
            await asyncio.sleep(0.2)

    def move_clock(self, by: timedelta) -> None:
        """Every service's clock jumps forward (or back to normal with timedelta(0))."""
        self.clock_offset_file.write_text(str(by.total_seconds()))

    @contextmanager
    def deliveries_held(self) -> Iterator[None]:
        """While inside, every copy stays in flight: received off the log but not yet checked
        and delivered (the services wait at `failpoints.hold("delivery")`)."""
        hold = self.clock_offset_file.parent / "hold-delivery"
        hold.touch()
        try:
            yield
        finally:
            hold.unlink()

    def groups_of(self, service: str) -> dict[str, list[str]]:
        """Each consumer group of a service and the topics it reads."""
        built = {**SERVICE_FACTORIES, **OPTIONAL_FACTORIES}[service]()
        built = replace(built, settings=built.settings.model_copy(update={"topic_prefix": self.prefix}))
        groups = {built.group: built.handlers, built.delivery_group: built.deliveries}
        return {group: sorted({cls.topic.full_name(self.prefix) for cls in types}) for group, types in groups.items() if types}

    async def open_copy(self, copy: AddressedCopy, database: str | None = None) -> BaseModel:
        """What the recipient reads: the copy opened with the key its sending service holds
        (raises `Unreadable` once that key is destroyed); `database` reads another copy of the
        service's database (one restored from a backup, say) beside the same key store."""
        [service] = [name for name, factory in SERVICE_FACTORIES.items() if type(copy) in factory().deliveries]
        if f"{service}_keys" not in self.key_stores:
            self.key_stores[f"{service}_keys"] = await PostgresKeyStore.open(self.databases[f"{service}_keys"], min_size=1, max_size=2)
        url = database or self.databases[service]
        conn = await asyncpg.connect(url, **connect_options(url))
        try:
            return await copies.open_copy(conn, self.key_stores[f"{service}_keys"], copy)
        finally:
            await conn.close()

    async def delivered(self, service: str, patient_id: UUID, recipient: str) -> list[asyncpg.Record]:
        return await self.query(
            service, "SELECT * FROM deliveries WHERE patient_id = $1 AND recipient = $2 ORDER BY delivered_at", patient_id, recipient
        )

    async def settled(self, timeout_s: float = 60) -> None:
        """Waits until every running service has consumed and committed everything on its topics
        and published everything in its outbox: only then is an absence meaningful."""
        running = [name for name, svc in self.services.items() if svc.process and svc.process.poll() is None]
        deadline = time.monotonic() + timeout_s
        quiet_checks = 0
        while quiet_checks < 2:  # twice in a row: processing the last event may emit another
            if time.monotonic() > deadline:
                raise TimeoutError("the deployment did not settle")
            quiet = all([await self._outbox_empty(name) for name in running]) and all(
                [await self._caught_up(name) for name in running]
            )
            quiet_checks = quiet_checks + 1 if quiet else 0
            await asyncio.sleep(0.3)

    async def _outbox_empty(self, service: str) -> bool:
        rows = await self.query(service, "SELECT count(*) AS n FROM outbox WHERE set_aside_at IS NULL")
        return rows[0]["n"] == 0

    async def _caught_up(self, service: str) -> bool:
        if not self.groups_of(service):
            return True  # consumes nothing (the gateway)
        admin = AIOKafkaAdminClient(**self.kafka.options())
        consumer = AIOKafkaConsumer(**self.kafka.options(), group_id=None, enable_auto_commit=False)
        await admin.start()
        await consumer.start()
        try:
            for group, topics in self.groups_of(service).items():
                committed = await admin.list_consumer_group_offsets(group)
                ends = await consumer.end_offsets([TopicPartition(topic, p) for topic in topics for p in range(6)])
                if not all(end == 0 or (tp in committed and committed[tp].offset >= end) for tp, end in ends.items()):
                    return False
            return True
        finally:
            await consumer.stop()
            await admin.close()

    def log_text(self) -> str:
        return "".join(svc.log_path.read_text(errors="replace") for svc in self.services.values() if svc.log_path.exists())

    async def close(self) -> None:
        for svc in self.services.values():
            svc.stop()
        for pool in self.pools.values():
            await pool.close()
        for keys in self.key_stores.values():
            await keys.close()


async def recreate_databases(server_url: str, names: Sequence[str], *, create: bool = True) -> None:
    """Drops each database if present, then (with `create`) makes it anew and empty.

    A plain DROP first: PostgreSQL itself stops an autovacuum worker busy in the database (a
    test that has just filled tables can start one). FORCE only when a session of the test's own
    is still connected: FORCE refuses to end a worker it does not own, and the test role is not
    a superuser."""
    conn = await asyncpg.connect(f"{server_url}/postgres", **connect_options(server_url))
    try:
        for name in names:
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            except asyncpg.ObjectInUseError:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create:
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def delete_topics(admin_login: KafkaLogin, names: list[str]) -> None:
    """Removes a run's topics, so a broker that many runs share does not pile up partitions
    (each costs the broker and every client something for as long as it exists)."""
    admin = AIOKafkaAdminClient(**admin_login.options(), client_id="carepath-tools")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [name for name in names if name in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


def board_env(logs: Path) -> dict[str, str]:
    """The board's pages on a free port of 127.0.0.1, over plain HTTP (the cookie not HTTPS-only),
    signing in from a users file in the deployment's directory."""
    return {"CAREPATH_WEB_PORT": str(free_port()), "CAREPATH_USERS_FILE": str(logs / "board-users.json"),
            "CAREPATH_SESSION_SECRET": random_key() + random_key(), "CAREPATH_COOKIE_HTTPS_ONLY": "false"}


def gateway_env(logs: Path, callers_file: Path) -> dict[str, str]:
    """The FHIR gateway on a free port of 127.0.0.1, its calling systems in `callers_file`."""
    return {"CAREPATH_FHIR_PORT": str(free_port()), "CAREPATH_CALLERS_FILE": str(callers_file)}


def random_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def free_port() -> int:
    """A port nothing listens on now, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def service_env(
    service: str, bootstrap: str, prefix: str, database_url: str, clock_offset_file: Path, *, keystore_url: str | None = None,
    test_hooks: bool = True,
) -> dict[str, str]:
    """A service's environment in a test deployment. `test_hooks` lets the tests move its clock
    and hold its deliveries (a file read on every event); the bench and the soak run without them,
    as a Trust would."""
    hooks = {
        "CAREPATH_CLOCK_OFFSET_FILE": str(clock_offset_file),
        "CAREPATH_HOLD_DELIVERY": str(clock_offset_file.parent / "hold-delivery"),
    }
    # Each service logs in as itself (its password from the credentials directory), whoever runs the tests.
    inherited = {name: value for name, value in os.environ.items() if name not in {"CAREPATH_KAFKA_USERNAME", "CAREPATH_KAFKA_PASSWORD"}}
    return {
        **inherited,
        "CAREPATH_ENV": "development",  # make infra's database password is the published default
        # Keys as production needs them (random, 32 bytes), made for this deployment.
        "CAREPATH_IDENTITY_KEY": random_key(),
        "CAREPATH_IDENTITY_ENCRYPTION_KEY": random_key(),
        "CAREPATH_KAFKA_BOOTSTRAP": bootstrap,
        "CAREPATH_TOPIC_PREFIX": prefix,
        "CAREPATH_DATABASE_URL": database_url,
        **({"CAREPATH_KEYSTORE_URL": keystore_url} if keystore_url else {}),
        "CAREPATH_LOG_FORMAT": "json",
        "CAREPATH_METRICS_PORT": str(free_port()),  # not the defaults: `make run` may be serving them
        "CAREPATH_RETRY_BASE_DELAY_S": "0.05",
        "CAREPATH_PARKED_RETRY_INTERVAL_S": "0.5",
        "CAREPATH_STALL_AFTER_S": "5",  # a partition with work waiting and no progress for 5 s is reported
        "CAREPATH_HEARTBEAT_INTERVAL_S": "1",
        "CAREPATH_OUTBOX_POLL_INTERVAL_S": "0.5",
        "CAREPATH_DEADLINE_CHECK_INTERVAL_S": "0.5",
        "CAREPATH_VISIT_CHECK_INTERVAL_S": "0.5",
        "CAREPATH_FOLLOW_UP_CHECK_INTERVAL_S": "0.5",
        "CAREPATH_OVERRIDE_CHECK_INTERVAL_S": "0.5",
        "CAREPATH_HEARTBEAT_FILE": str(clock_offset_file.parent / f"{service}.heartbeat"),
        "PYTHONUNBUFFERED": "1",
        **(hooks if test_hooks else {}),
    }
