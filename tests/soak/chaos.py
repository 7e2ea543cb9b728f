"""The fault: every few seconds one service, chosen at random, is SIGKILLed (no chance to commit,
flush or close anything) and started again at once, as a supervisor would restart it. Half the
restarts arm one of the services' crash points as well, so the process also kills itself at
one of the worst moments (after its database commit but before its Kafka commit, or after
publishing but before marking its outbox): the fault path is certain to run, not left to luck."""

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from tests.bench.harness import ToolDeployment

CRASH_POINTS = ("after-inbox-commit", "relay-after-publish")
WATCH_EVERY_S = 0.5


@dataclass
class Chaos:
    deployment: ToolDeployment
    rng: random.Random
    every_s: tuple[float, float] = (5.0, 15.0)
    kills: Counter[str] = field(default_factory=Counter)
    crashes: Counter[str] = field(default_factory=Counter)  # at an armed crash point, by service@point
    exited_by_themselves: Counter[str] = field(default_factory=Counter)
    armed: dict[str, str] = field(default_factory=dict)
    _began: float = field(default_factory=time.monotonic)

    async def run(self, stop: asyncio.Event) -> None:
        next_kill = time.monotonic() + self.rng.uniform(*self.every_s)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), WATCH_EVERY_S)
                return
            except TimeoutError:
                pass
            self.restart_the_fallen()
            if time.monotonic() < next_kill:
                continue
            next_kill = time.monotonic() + self.rng.uniform(*self.every_s)
            name = self.rng.choice(sorted(self.deployment.services))
            service = self.deployment.services[name]
            service.kill()
            self.armed.pop(name, None)
            self.kills[name] += 1
            point = self.rng.choice(CRASH_POINTS) if self.rng.random() < 0.5 else None
            if point:
                self.armed[name] = point
                service.start(CAREPATH_FAILPOINT=point)
            else:
                service.start()
            armed = f", crash point {point} armed" if point else ""
            print(f"  t+{time.monotonic() - self._began:5.0f}s SIGKILL {name}, restarted{armed}", flush=True)

    def restart_the_fallen(self) -> None:
        """A service that killed itself at its armed crash point is restarted plainly; one that
        exited any other way is a finding: counted, then restarted."""
        for name, service in self.deployment.services.items():
            if self.deployment.running(name):
                continue
            code = service.process.returncode if service.process else None
            point = self.armed.pop(name, None)
            if point and code == -9:
                self.crashes[f"{name}@{point}"] += 1
                print(f"  t+{time.monotonic() - self._began:5.0f}s {name} crashed at {point}; restarted", flush=True)
            else:
                self.exited_by_themselves[name] += 1
                print(f"  {name} had exited by itself (code {code}); restarted", flush=True)
            service.start()
