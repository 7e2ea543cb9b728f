"""`make soak`: N whole journeys (referral, assessment, plan, a visit, discharge planned and
decided, episode closed), many in flight at once, while a random service is SIGKILLed every
5-15 s and restarted. Then, once the deployment has settled, the account:

  lost          journeys that did not reach their end state: an episode.closed on the log and
                the episode closed in the referral, scheduling and discharge databases
  duplicated    effects that happened twice: two different events, or two rows, where one is due
  kills         SIGKILLs made (half the restarts also arm a crash point: after the database
                commit but before the Kafka commit, or after publishing but before marking the outbox)
  redeliveries  duplicates the inboxes recognised and skipped (> 0 shows the fault path ran)

Exits 1 if anything was lost or duplicated, or if no redelivery happened (the soak proved nothing).
A deployment of its own (topic prefix, databases), removed afterwards; bounded by --minutes.
"""

import argparse
import asyncio
import random
import sys
import time

from contracts import Trust
from tools.journey import Patient, trust_systems
from tests import logins
from tests.bench.harness import ToolDeployment, own_deployment, record_rota
from tests.bench.watch import WatchedLog
from tests.soak.accounting import WATCHED, Account, account
from tests.soak.chaos import Chaos
from tests.soak.journeys import Driven, drive

SETTLE_S = 180


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--journeys", type=int, default=200, help="whole journeys to send (default 200)")
    parser.add_argument("--in-flight", type=int, default=20, help="at most this many journeys in flight at once (default 20)")
    parser.add_argument("--per-second", type=float, default=2, help="journeys started per second, so kills land all along (default 2)")
    parser.add_argument("--minutes", type=float, default=10, help="time limit for the journeys, kills included (default 10)")
    parser.add_argument("--kill-every", default="5-15", help="seconds between kills, as MIN-MAX (default 5-15)")
    parser.add_argument("--seed", type=int, default=None, help="for the choice of services and intervals (default: random, printed)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the services' logs (kept anyway when the soak fails)")
    args = parser.parse_args()
    low, high = (float(part) for part in args.kill_every.split("-"))
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    sys.exit(asyncio.run(soak(args.journeys, args.in_flight, args.per_second, args.minutes * 60, (low, high), seed, args.keep_logs)))


async def soak(
    count: int, in_flight: int, per_second: float, limit_s: float, every_s: tuple[float, float], seed: int, keep_logs: bool
) -> int:
    print(f"carepath soak: {count} journeys, {per_second:g} started per second, at most {in_flight} in flight, a random "
          f"service SIGKILLed every {every_s[0]:g}-{every_s[1]:g} s, at most {limit_s / 60:g} min (seed {seed})", flush=True)
    async with own_deployment("soak", log=lambda prefix: WatchedLog(logins.admin(), prefix, WATCHED), keep_logs=keep_logs) as deployment:
        await record_rota(deployment, Trust.BELFAST, staff=12)
        chaos = Chaos(deployment, random.Random(seed), every_s)
        began = time.monotonic()
        journeys = await _run(deployment, chaos, count, in_flight, per_second, began + limit_s)
        ran_s = time.monotonic() - began
        chaos.restart_the_fallen()
        print(f"journeys phase over after {ran_s:.0f} s; waiting for the deployment to settle...", flush=True)
        settled = True
        try:
            await deployment.settled(timeout_s=SETTLE_S)
            await deployment.log.caught_up()
        except TimeoutError:
            settled = False
        found = await account(deployment, journeys)
        redeliveries = await deployment.redeliveries()
        failed = _report(journeys, found, chaos, redeliveries, settled, ran_s)
        if failed and deployment.workspace is not None:
            deployment.workspace.keep = True  # the services' logs, for reading what went wrong
        return 1 if failed else 0


async def _run(deployment: ToolDeployment, chaos: Chaos, count: int, in_flight: int, per_second: float, deadline: float) -> list[Driven]:
    slots = asyncio.Semaphore(in_flight)
    gp, clinician, staff_app = trust_systems(deployment.kafka, deployment.prefix)
    async with gp, clinician, staff_app:

        async def one(n: int) -> Driven:
            await asyncio.sleep(n / per_second)
            async with slots:
                if time.monotonic() > deadline:
                    return Driven(Patient())  # never sent: out of time
                return await drive(deployment, (gp, clinician, staff_app), deadline)

        stop = asyncio.Event()
        killing = asyncio.create_task(chaos.run(stop))
        tasks = [asyncio.create_task(one(n)) for n in range(count)]
        progress = asyncio.create_task(_progress(tasks, chaos))
        try:
            return list(await asyncio.gather(*tasks))
        finally:
            stop.set()
            progress.cancel()
            await asyncio.gather(killing, progress, return_exceptions=True)


async def _progress(tasks: list[asyncio.Task], chaos: Chaos) -> None:
    began = time.monotonic()
    while True:
        await asyncio.sleep(15)
        done = [task.result() for task in tasks if task.done()]
        closed = sum(driven.reached == "closed" for driven in done)
        print(f"  t+{time.monotonic() - began:5.0f}s {closed} closed, {len(done) - closed} stopped short, "
              f"{len(tasks) - len(done)} to go, {sum(chaos.kills.values())} kills", flush=True)


def _report(journeys: list[Driven], found: Account, chaos: Chaos, redeliveries: dict[str, int], settled: bool, ran_s: float) -> bool:
    sent = sum(driven.reached != "not sent" for driven in journeys)
    lost = len(found.lost)
    duplicated = sum(found.duplicated.values())
    redelivered = sum(redeliveries.values())
    print("\n== carepath soak: the account ==")
    print(f"journeys sent: {sent} of {len(journeys)} (in {ran_s:.0f} s){'' if settled else '; the deployment did NOT settle within ' + str(SETTLE_S) + ' s'}")
    print(f"lost: {lost}")
    for referral_id, missing in list(found.lost.items())[:10]:
        print(f"  {referral_id}: {'; '.join(missing)}")
    if lost > 10:
        print(f"  ... and {lost - 10} more")
    print(f"duplicated effects: {duplicated}")
    for effect, n in found.duplicated.most_common():
        print(f"  {n} x {effect}")
    print(f"kills: {sum(chaos.kills.values())} ({', '.join(f'{name} {n}' for name, n in sorted(chaos.kills.items())) or 'none'})"
          + (f"; exited by themselves: {dict(chaos.exited_by_themselves)}" if chaos.exited_by_themselves else ""))
    print(f"crashes at armed crash points: {sum(chaos.crashes.values())} "
          f"({', '.join(f'{where} {n}' for where, n in sorted(chaos.crashes.items())) or 'none'})")
    print(f"redeliveries caught by the inboxes: {redelivered} ({', '.join(f'{name} {n}' for name, n in redeliveries.items())})")
    print(f"events republished by an outbox after a crash (same id on the log twice, dropped by inboxes): {found.republished}")
    print(f"dead letters: {sum(found.dead_letters.values())}")
    for reason, n in found.dead_letters.most_common(5):
        print(f"  {n} x {reason}")
    verdict = []
    if lost:
        verdict.append(f"{lost} lost")
    if duplicated:
        verdict.append(f"{duplicated} duplicated")
    if not redelivered:
        verdict.append("no redelivery: the fault path did not run")
    if chaos.exited_by_themselves:
        verdict.append(f"{sum(chaos.exited_by_themselves.values())} exit(s) nobody caused")
    print(f"soak: {'FAILED (' + ', '.join(verdict) + ')' if verdict else 'passed'}")
    return bool(verdict)


if __name__ == "__main__":
    main()
