"""How fast the referral service works through a backlog: with the service stopped, a backlog of
referrals is published; the service is started and timed until every referral's outcome and
acknowledgement are on `referral.events` (two events each, so the end offsets say when)."""

import asyncio
import random
import time
from dataclasses import dataclass

from contracts.topics import DEAD_LETTER, REFERRAL_EVENTS, REFERRAL_INBOUND
from tests.bench import cpu
from tests.bench.harness import ToolDeployment, own_deployment
from tests.bench.load import as_records, preload, referrals

EVENTS_PER_REFERRAL = 2  # referral.acknowledged and referral.accepted
POLL_S = 0.05


@dataclass(frozen=True)
class DrainResult:
    referrals: int
    done: int  # referrals whose two events were published before the time limit
    from_start_s: float  # service process started -> last acknowledgement published (or the limit)
    from_first_s: float  # start of consumption (see `measured_from`) -> last acknowledgement published
    measured_from: str
    preload_s: float
    dead_letters: int
    stored: int  # referrals rows in the referral database at the end
    cpu_ms: dict[str, float]  # CPU per referral: the service (its start-up included), broker, PostgreSQL, bench

    @property
    def finished(self) -> bool:
        return self.done == self.referrals

    @property
    def rate_from_first(self) -> float:
        return self.done / self.from_first_s if self.from_first_s > 0 else 0.0

    @property
    def rate_from_start(self) -> float:
        return self.done / self.from_start_s if self.from_start_s > 0 else 0.0


async def referral_drain(count: int, *, limit_s: float, seed: int, purpose: str = "bench") -> DrainResult:
    """A fresh deployment; only the referral service runs (nothing else competes for the CPU)."""
    records = as_records(referrals(count, random.Random(seed)))
    async with own_deployment(purpose, start=("referral",)) as deployment:
        deployment.services["referral"].stop()  # it has migrated and published the directory: now it is down
        started = time.perf_counter()
        await preload(deployment.prefix, REFERRAL_INBOUND.name, records)
        preload_s = time.perf_counter() - started
        return await _time_drain(deployment, count, limit_s, preload_s)


async def _time_drain(deployment: ToolDeployment, count: int, limit_s: float, preload_s: float) -> DrainResult:
    before = await deployment.end_offsets(REFERRAL_EVENTS)
    dead = await deployment.end_offsets(DEAD_LETTER)
    wanted = before + EVENTS_PER_REFERRAL * count
    service = deployment.services["referral"]
    service.start()
    started = time.time()
    cpu_before = cpu.snapshot({"referral": service.process.pid})
    first_published = None
    published = before
    while published < wanted and time.time() - started < limit_s:
        await asyncio.sleep(POLL_S)
        published = await deployment.end_offsets(REFERRAL_EVENTS)
        if first_published is None and published > before:
            first_published = time.time()
        if (published - before) // EVENTS_PER_REFERRAL + await deployment.end_offsets(DEAD_LETTER) - dead >= count:
            break  # some were dead-lettered: nothing more will come
    finished = time.time()
    cpu_after = cpu.snapshot({"referral": service.process.pid})
    stored, first_received = await _referrals_stored(deployment)
    if first_received is not None:
        first, measured_from = first_received, "the first referral received (referrals.received_at)"
    else:
        first, measured_from = first_published or finished, "the first outcome published"
    return DrainResult(
        referrals=count,
        done=min(count, (published - before) // EVENTS_PER_REFERRAL),
        from_start_s=finished - started,
        from_first_s=finished - first,
        measured_from=measured_from,
        preload_s=preload_s,
        dead_letters=await deployment.end_offsets(DEAD_LETTER) - dead,
        stored=stored,
        cpu_ms=cpu.per_unit_ms(cpu_before, cpu_after, min(count, (published - before) // EVENTS_PER_REFERRAL)),
    )


async def _referrals_stored(deployment: ToolDeployment) -> tuple[int, float | None]:
    """How many referrals the service stored, and when (wall clock) it received the first: the
    start of consumption, as the service itself recorded it."""
    rows = await deployment.query("referral", "SELECT count(*) AS n, min(received_at) AS first FROM referrals")
    first = rows[0]["first"]
    return rows[0]["n"], first.timestamp() if first is not None else None
