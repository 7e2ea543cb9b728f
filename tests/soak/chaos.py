"""The fault: every few seconds one service, chosen at random, is SIGKILLed (no chance to commit,
flush or close anything) and started again at once, as a supervisor would restart it."""

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from tests.bench.harness import ToolDeployment


@dataclass
class Chaos:
    deployment: ToolDeployment
    rng: random.Random
    every_s: tuple[float, float] = (5.0, 15.0)
    kills: Counter[str] = field(default_factory=Counter)
    exited_by_themselves: Counter[str] = field(default_factory=Counter)
    _began: float = field(default_factory=time.monotonic)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.rng.uniform(*self.every_s))
                return
            except TimeoutError:
                pass
            self.restart_the_fallen()
            name = self.rng.choice(sorted(self.deployment.services))
            service = self.deployment.services[name]
            service.kill()
            service.start()
            self.kills[name] += 1
            print(f"  t+{time.monotonic() - self._began:5.0f}s SIGKILL {name}, restarted", flush=True)

    def restart_the_fallen(self) -> None:
        """A service that exited without being killed is a finding: counted, then restarted."""
        for name, service in self.deployment.services.items():
            if not self.deployment.running(name):
                code = service.process.returncode if service.process else None
                self.exited_by_themselves[name] += 1
                print(f"  {name} had exited by itself (code {code}); restarted", flush=True)
                service.start()
