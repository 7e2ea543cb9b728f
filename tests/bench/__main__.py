"""`make bench`: carepath's throughput and latency on the real broker, in one run, beside a
yardstick measured on the same broker and PostgreSQL in the same run.

  baseline   a minimal one-at-a-time relay (consume, one transaction with an inbox row and an
             outbox row, produce with acks=all and wait, commit the offset): messages/s
  drain      the referral service working through a backlog of N referrals: referrals/s
  latency    whole journeys (referral -> accepted -> assessment -> first visit scheduled) sent at
             fixed rates with all four services running: p50/p99, and whether the rate held
  catch-up   the referral service restarted after an hour down at 10 journeys/s (36,000
             referrals waiting): seconds until every one is acknowledged

Each part starts a deployment of its own (topic prefix, databases) and removes it afterwards.
"""

import argparse
import math
import os
import random
import sys
import time

import uvloop

from tests.bench import cpu, drain, latency, relay
from tests.bench.harness import BOOTSTRAP
from tests.bench.load import as_records, referrals
from shared.runtime.service import steady_collector

PARTS = ("baseline", "drain", "latency", "catch-up")
AN_HOUR_AT_10_PER_S = 36_000


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=5000, help="records for the baseline and referrals for the drain (default 5000)")
    parser.add_argument("--rates", default="10,50", help="journeys per second, comma-separated (default 10,50)")
    parser.add_argument("--rate-seconds", type=float, default=30, help="how long each rate is held (default 30)")
    parser.add_argument("--catch-up-journeys", type=int, default=AN_HOUR_AT_10_PER_S,
                        help=f"backlog for the catch-up (default {AN_HOUR_AT_10_PER_S:,}: an hour at 10/s)")
    parser.add_argument("--limit", type=float, default=180, help="seconds any one drain may take before it is cut short (default 180)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"which parts, comma-separated (default {','.join(PARTS)})")
    parser.add_argument("--seed", type=int, default=26)
    args = parser.parse_args()
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    rates = [float(rate) for rate in args.rates.split(",")]
    steady_collector()  # the GP and clinician systems' own pauses are not the services' latency
    sys.exit(uvloop.run(run(args, parts, rates)))  # the loop the services run on: the GP system's own cost kept low


async def run(args: argparse.Namespace, parts: list[str], rates: list[float]) -> int:
    load = os.getloadavg()
    print(f"carepath bench: broker {BOOTSTRAP}, {os.cpu_count()} CPUs shared with Kafka and PostgreSQL, "
          f"load average {load[0]:.2f} at start, speed check {cpu.speed_check_ms():.0f} ms "
          "(a fixed loop of pure Python: on a shared machine it varies, and so does everything else)", flush=True)
    lines: list[str] = []
    began = time.perf_counter()
    baseline = None
    if "baseline" in parts:
        print(f"baseline: a minimal one-at-a-time relay over {args.messages:,} referral-sized records...", flush=True)
        baseline = await relay.minimal_relay(as_records(referrals(args.messages, random.Random(args.seed))), timeout_s=args.limit)
        lines.append(f"baseline minimal relay: {baseline.rate:,.0f} msg/s ({baseline.messages:,} records in {baseline.seconds:.1f} s, "
                     "one at a time: consume, inbox+outbox transaction, produce acks=all and wait, commit)")
        print(f"  {lines[-1]}", flush=True)
    if "drain" in parts:
        print(f"drain: {args.messages:,} referrals waiting, then the referral service is started...", flush=True)
        result = await drain.referral_drain(args.messages, limit_s=args.limit, seed=args.seed + 1)
        lines.append(_drain_line("referral service drain", result, baseline))
        print(f"  {lines[-1]}", flush=True)
    if "latency" in parts:
        print(f"latency: journeys at {', '.join(f'{r:g}/s' for r in rates)}, {args.rate_seconds:g} s each, all four services...", flush=True)
        for result in await latency.journey_latency(rates, args.rate_seconds):
            target = " (target: >= 50 journeys/s sustained with p99 < 100 ms: " + (
                "met)" if result.sustained and result.percentile(0.99) < 0.1 else "missed)"
            ) if result.rate >= 50 else ""
            lines.append(latency.describe(result) + target)
    if "catch-up" in parts:
        journeys = args.catch_up_journeys
        scale = "an hour stopped at 10 journeys/s" if journeys == AN_HOUR_AT_10_PER_S else f"scaled down from {AN_HOUR_AT_10_PER_S:,} by --catch-up-journeys"
        print(f"catch-up: {journeys:,} referrals waiting ({scale}), then the referral service is started...", flush=True)
        result = await drain.referral_drain(journeys, limit_s=max(args.limit, 60.0), seed=args.seed + 2)
        lines.append(_catch_up_line(result, scale))
        print(f"  {lines[-1]}", flush=True)
    print(f"\n== carepath bench: figures ({time.perf_counter() - began:.0f} s in all, same broker, one run) ==")
    for line in lines:
        print(line)
    return 0


def _drain_line(label: str, result: drain.DrainResult, baseline: relay.RelayResult | None) -> str:
    ratio = ""
    if baseline is not None:
        times = result.rate_from_first / baseline.rate
        ratio = f" ({times:.2f}x baseline; target >= 1.5x: {'met' if times >= 1.5 else 'missed'})"
    aim = "met" if result.finished and result.rate_from_first >= 1000 else "missed"
    done = "" if result.finished else f"; cut short at {result.from_start_s:.0f} s with {result.done:,} of {result.referrals:,} done"
    return (
        f"{label}: {result.rate_from_first:,.0f} referrals/s measured from {result.measured_from} to the last "
        f"acknowledgement published{ratio}; "
        f"{result.rate_from_start:,.0f}/s from service start; aim >= 1,000/s: {aim} "
        f"({result.referrals:,} referrals{done}{_anomalies(result)})"
        + (f"; {cpu.describe(result.cpu_ms, per='referral')}" if result.cpu_ms else "")
    )


def _catch_up_line(result: drain.DrainResult, scale: str) -> str:
    """The target is for the full hour's backlog: a scaled-down or cut-short run is judged on the
    time the full backlog would take at the rate measured (consumption start to last outcome,
    plus the start-up it took)."""
    startup = result.from_start_s - result.from_first_s
    rate = result.rate_from_first
    full = startup + AN_HOUR_AT_10_PER_S / rate if rate > 0 else math.inf
    projection = "" if result.finished and result.referrals == AN_HOUR_AT_10_PER_S else (
        f"; the full {AN_HOUR_AT_10_PER_S:,} would take ~{full:,.0f} s at that rate"
    )
    verdict = "met" if full < 60 else "missed"
    if result.finished:
        measured = f"{result.referrals:,} referrals ({scale}) acknowledged {result.from_start_s:.1f} s after the service was started"
    else:
        measured = (f"NOT caught up when cut short at {result.from_start_s:.0f} s: {result.done:,} of {result.referrals:,} "
                    f"referrals ({scale}) acknowledged")
    return (f"catch-up after an hour stopped: {measured} ({rate:,.0f}/s once consuming, {startup:.1f} s to start){projection}; "
            f"target < 60 s for {AN_HOUR_AT_10_PER_S:,}: {verdict}{_anomalies(result)}"
            + (f"; {cpu.describe(result.cpu_ms, per='referral')}" if result.cpu_ms else ""))


def _anomalies(result: drain.DrainResult) -> str:
    notes = []
    if result.dead_letters:
        notes.append(f"{result.dead_letters} dead-lettered")
    if result.stored != result.done and result.finished:
        notes.append(f"{result.stored} stored")
    return ("; " + ", ".join(notes)) if notes else ""


if __name__ == "__main__":
    main()
