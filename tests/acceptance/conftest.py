"""Acceptance tests run against the real Kafka broker and PostgreSQL that `make infra` starts.

Each test session gets its own topic prefix and its own four databases, so it never reads
another run's events, and `make run` can share the same broker.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import uuid4

import pytest

from tools.eventlog import EventLog
from tools.journey import Journey, Patient, consent_capture, trust_systems
from shared.runtime.kafka import MissingCredential, wait_for_kafka
from shared.runtime.settings import DEFAULT_PG
from tests import logins
from tests.acceptance.deployment import (
    KEY_STORES,
    SERVICE_FACTORIES,
    board_env,
    gateway_env,
    Deployment,
    ServiceProcess,
    recreate_databases,
    service_env,
)
from tests.factories import new_hc_number

BOOTSTRAP = logins.settings().kafka_bootstrap
PG_SERVER = os.environ.get("CAREPATH_TEST_PG_SERVER", DEFAULT_PG)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.acceptance)


@pytest.fixture(scope="session")
async def deployment(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    try:
        await wait_for_kafka(logins.admin(), timeout_s=20)
    except (TimeoutError, MissingCredential) as error:
        pytest.fail(f"{error}: start the infrastructure with `make infra` (make test does it for you)")
    async with a_deployment(tmp_path_factory.mktemp("service-logs")) as deployed:
        yield deployed


@asynccontextmanager
async def a_deployment(logs: Path, *, board: bool = False, only: tuple[str, ...] | None = None,
                       gateway: Path | None = None) -> AsyncIterator[Deployment]:
    """The four services on topics and databases of their own, running until the block ends:
    the session's deployment, or a test's own when it must do what would upset the others.
    `board`: the board service too, its pages on a port of their own, signing in from a users
    file in `logs` (`tests.acceptance.deployment.board_env`). `only`: just these services, for
    a test that writes the others' events itself (so that none of them answers with more).
    `gateway`: the FHIR gateway too, its calling systems in that callers file (`gateway_env`)."""
    run = uuid4().hex[:8]
    prefix = f"test-{run}"
    await logins.open_deployment(prefix)
    names = (*(only or (*SERVICE_FACTORIES, *(("board",) if board else ()))), *(("gateway",) if gateway else ()))
    databases = {name: f"carepath_test_{run}_{name}" for name in (*names, *KEY_STORES)}
    await recreate_databases(PG_SERVER, list(databases.values()))
    urls = {name: f"{PG_SERVER}/{db}" for name, db in databases.items()}
    clock_offset = logs / "clock-offset-seconds"
    services = {
        name: ServiceProcess(name, service_env(name, BOOTSTRAP, prefix, urls[name], clock_offset, keystore_url=urls.get(f"{name}_keys")),
                             logs / f"{name}.log")
        for name in names
    }
    if "board" in services:
        services["board"].env |= board_env(logs)
    if gateway is not None:
        services["gateway"].env |= gateway_env(logs, gateway)
    try:
        # The tests watch everything, what Trust systems send and the dead letters too: as the admin
        # (the operator's narrower view is tested in test_trust_boundary).
        async with EventLog(logins.admin(), prefix) as log:
            deployed = Deployment(logins.admin(), prefix, urls, services, log, clock_offset)
            for service in services.values():
                service.start()
            try:
                await deployed.ready()
                yield deployed
            finally:
                await deployed.close()
    finally:
        await recreate_databases(PG_SERVER, list(databases.values()), create=False)
        await logins.close_deployment(prefix)


@pytest.fixture
async def scratch_database() -> AsyncIterator[str]:
    """An empty database of a test's own, dropped afterwards: for tests of one piece on the real
    PostgreSQL without a whole deployment."""
    name = f"carepath_test_scratch_{uuid4().hex[:8]}"
    await recreate_databases(PG_SERVER, [name])
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        await recreate_databases(PG_SERVER, [name], create=False)


@pytest.fixture
def patient(deployment: Deployment) -> Patient:
    """A fresh patient per test, with a valid H&C number and a distinctive name."""
    fresh = Patient(hc_number=new_hc_number(), name=f"Testname-{uuid4().hex[:8]} Surname")
    deployment.patients.append(fresh)
    return fresh


@pytest.fixture
async def journey(deployment: Deployment, patient: Patient) -> AsyncIterator[Journey]:
    gp, clinician, staff_app = trust_systems(deployment.kafka, deployment.prefix)
    consent = consent_capture(deployment.kafka, deployment.prefix)
    async with gp, clinician, staff_app, consent:
        yield Journey(deployment.log, gp, clinician, staff_app, patient, timeout_s=60, consent=consent)
