"""Whole-journey latency at a fixed rate, the four services running and each of the five Trusts'
HTCR teams on the rota (30 staff each); referrals go to the five Trusts in turn, as one
deployment serving Northern Ireland would see them. (One team taking 50 new patients a second
measures nothing a Trust would meet: its plans queue behind one another on the team's lock.)

Referrals are sent at fixed times (open loop: a slow system does not slow the sender). As soon as
a referral's `referral.accepted` is read, the assessment is submitted with the outcome home
treatment, as a fast clinician's system would. A journey's latency is referral publish (just
before the GP system's producer is asked to send it) to the first `visit.scheduled` of its
episode read off the log. The rate is sustained if the backlog did not grow: every journey of the
step completed, the last within a few seconds of the last send, and latency did not climb from
the first quarter of the step to the last. The bench's own cycle collector is off during a step (the
services' is not): its pauses would be counted as the services' latency."""

import asyncio
import gc
import math
import statistics
import time
from dataclasses import dataclass, field
from uuid import uuid4

from contracts import ReferralAccepted, Trust, VisitScheduled
from tools.journey import Journey, Patient, trust_systems
from tests.bench import cpu
from tests import logins
from tests.bench.harness import ToolDeployment, own_deployment, record_rota
from tests.bench.watch import WatchedLog
from tests.factories import new_hc_number

SUSTAINED_WITHIN_S = 5.0  # every journey done this soon after the last send
CLIMB_S = 1.0  # how much more the last quarter's median latency may be than the first quarter's
STAFF = 30
TRUSTS = tuple(Trust)


@dataclass
class RateResult:
    rate: float
    seconds: float
    sent: int = 0
    send_span_s: float = 0.0  # first send to last send, as achieved
    samples: list[tuple[float, float]] = field(default_factory=list)  # (sent, latency) of each journey done
    last_done_after_last_send_s: float = math.inf
    wait_limit_s: float = 0.0
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU per journey, by process, until all it caused was done
    speed_check_ms: float = 0.0  # the machine's speed around the step (`cpu.speed_check_ms`)

    @property
    def latencies_s(self) -> list[float]:
        return [latency for _, latency in self.samples]

    @property
    def climb_s(self) -> float:
        """Median latency of the last quarter of sends minus that of the first quarter."""
        ordered = [latency for _, latency in sorted(self.samples)]
        quarter = max(1, len(ordered) // 4)
        return statistics.median(ordered[-quarter:]) - statistics.median(ordered[:quarter]) if ordered else math.inf

    @property
    def missing(self) -> int:
        return self.sent - len(self.latencies_s)

    def percentile(self, q: float) -> float:
        """Over every journey sent, a journey that never finished counting as infinitely late."""
        ordered = sorted(self.latencies_s) + [math.inf] * self.missing
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else math.inf

    @property
    def sustained(self) -> bool:
        return (
            self.sent > 0
            and self.missing == 0
            and self.last_done_after_last_send_s <= SUSTAINED_WITHIN_S
            and self.climb_s <= CLIMB_S
        )


async def journey_latency(rates: list[float], seconds: float, *, wait_limit_s: float = 60, warm_up: int = 5) -> list[RateResult]:
    watched = {ReferralAccepted: "referral_id", VisitScheduled: "episode_id"}
    async with own_deployment("bench", log=lambda prefix: WatchedLog(logins.admin(), prefix, watched)) as deployment:
        for trust in Trust:
            await record_rota(deployment, trust, STAFF)
        gp, clinician, staff_app = trust_systems(deployment.kafka, deployment.prefix)
        async with gp, clinician, staff_app:
            systems = (gp, clinician, staff_app)
            for n in range(warm_up):  # first plans, first connections: not what is being measured
                await _one(deployment, systems, wait_limit_s, trust=TRUSTS[n % len(TRUSTS)])
            results = []
            pids = {name: svc.process.pid for name, svc in deployment.services.items() if svc.process is not None}
            for rate in rates:
                speed_ms = cpu.speed_check_ms()
                before = cpu.snapshot(pids)
                gc.disable()  # the GP and clinician systems' own collector pauses are not the services' latency
                try:
                    result = await _at_rate(deployment, systems, rate, seconds, wait_limit_s)
                finally:
                    gc.enable()
                try:
                    await deployment.settled(timeout_s=120)  # the next step starts from an empty backlog
                except TimeoutError:
                    print("  (the deployment had not caught up 120 s after the step: the next step starts behind)")
                result.cpu_ms = cpu.per_unit_ms(before, cpu.snapshot(pids), result.sent)
                result.speed_check_ms = (speed_ms + cpu.speed_check_ms()) / 2
                results.append(result)
                print(f"  {describe(result)}", flush=True)
            return results


async def _at_rate(deployment: ToolDeployment, systems, rate: float, seconds: float, wait_limit_s: float) -> RateResult:
    count = max(1, round(rate * seconds))
    result = RateResult(rate, seconds, wait_limit_s=wait_limit_s)
    begin = time.perf_counter() + 0.5
    sends: list[float] = []
    finishes: list[float] = []

    async def scheduled(n: int) -> None:
        await asyncio.sleep(max(0.0, begin + n / rate - time.perf_counter()))
        done = await _one(deployment, systems, wait_limit_s, sends, trust=TRUSTS[n % len(TRUSTS)])
        if done is not None:
            result.samples.append((done[0], done[1] - done[0]))
            finishes.append(done[1])

    tasks = [asyncio.create_task(scheduled(n)) for n in range(count)]
    await asyncio.gather(*tasks, return_exceptions=True)
    result.sent = len(sends)
    if sends:
        result.send_span_s = max(sends) - min(sends)
        if finishes and result.missing == 0:
            result.last_done_after_last_send_s = max(finishes) - max(sends)
    return result


async def _one(
    deployment: ToolDeployment, systems, wait_limit_s: float, sends: list[float] | None = None, *, trust: Trust = Trust.BELFAST
) -> tuple[float, float] | None:
    """One journey up to its first visit: (sent, first visit read), or None if not within the limit."""
    gp, clinician, staff_app = systems
    patient = Patient(hc_number=new_hc_number(), name=f"Bench-{uuid4().hex[:8]} Patient", trust=trust)
    journey = Journey(deployment.log, gp, clinician, staff_app, patient, timeout_s=wait_limit_s)
    referral = journey.referral()
    sent = time.perf_counter()
    if sends is not None:
        sends.append(sent)
    log: WatchedLog = deployment.log  # type: ignore[assignment]
    try:
        await gp.publish(referral, correlation_id=patient.correlation_id)
        accepted, _ = await log.first(ReferralAccepted, referral.referral_id, wait_limit_s)
        await journey.submit_assessment(accepted)
        _, seen = await log.first(VisitScheduled, accepted.episode_id, max(0.1, wait_limit_s - (time.perf_counter() - sent)))
    except TimeoutError:
        return None
    return sent, seen


def _ms(seconds: float) -> str:
    return "never" if math.isinf(seconds) else f"{seconds * 1000:,.0f} ms"


def describe(result: RateResult) -> str:
    achieved = (result.sent - 1) / result.send_span_s if result.send_span_s > 0 else 0.0
    mean = statistics.fmean(result.latencies_s) if result.latencies_s else math.inf
    finish = (
        f"last done {result.last_done_after_last_send_s:.1f} s after the last send"
        if result.missing == 0
        else f"{result.missing} not done within {result.wait_limit_s:.0f} s"
    )
    return (
        f"journeys at {result.rate:g}/s: p50 {_ms(result.percentile(0.5))}, p99 {_ms(result.percentile(0.99))}, "
        f"mean {_ms(mean)}, sustained {'yes' if result.sustained else 'no'} "
        f"({result.sent} sent in {result.seconds:g} s at {achieved:.1f}/s achieved, {finish}, "
        f"latency climbed {result.climb_s * 1000:+,.0f} ms from the first quarter to the last)"
        + (f"; {cpu.describe(result.cpu_ms)}" if result.cpu_ms else "")
        + (f"; speed check {result.speed_check_ms:.0f} ms" if result.speed_check_ms else "")
    )

