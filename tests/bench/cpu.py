"""Where the machine's CPU went while the bench ran a step: seconds of CPU (user + system) used by
each service process, the Kafka broker, PostgreSQL and the bench itself, read from /proc. On a
machine where they all share two cores, the CPU one journey costs decides the rate it can sustain.

Linux only; elsewhere (no /proc) the accounting is empty and the bench prints none."""

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def _infrastructure() -> dict[str, list[int]]:
    """The Kafka broker's and PostgreSQL's processes on this machine, by what they run."""
    found: dict[str, list[int]] = {"kafka": [], "postgres": []}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"java" in command and b"kafka" in command:
            found["kafka"].append(int(entry.name))
        elif command.startswith(b"postgres"):
            found["postgres"].append(int(entry.name))
    return found


@dataclass(frozen=True)
class CpuSnapshot:
    seconds: Mapping[str, float]


def snapshot(services: Mapping[str, int]) -> CpuSnapshot:
    """CPU seconds so far of each service (by pid), the broker, PostgreSQL (all its processes,
    which come and go with connections: those gone between two snapshots are not counted) and
    this process."""
    groups: dict[str, list[int]] = {name: [pid] for name, pid in services.items()}
    groups |= _infrastructure()
    groups["bench"] = [os.getpid()]
    seconds = {}
    for name, pids in groups.items():
        used = [cpu for pid in pids if (cpu := _cpu_s(pid)) is not None]
        if used:
            seconds[name] = sum(used)
    return CpuSnapshot(seconds)


def per_unit_ms(before: CpuSnapshot, after: CpuSnapshot, journeys: int) -> dict[str, float]:
    if journeys <= 0:
        return {}
    return {
        name: (after.seconds[name] - before.seconds.get(name, 0.0)) * 1000 / journeys
        for name in after.seconds
    }


def describe(ms: Mapping[str, float], per: str = "journey") -> str:
    if not ms:
        return ""
    parts = ", ".join(f"{name} {value:.1f}" for name, value in sorted(ms.items(), key=lambda kv: -kv[1]))
    return f"CPU per {per} {sum(ms.values()):.1f} ms ({parts})"


def speed_check_ms(iterations: int = 2_000_000) -> float:
    """A fixed piece of pure Python, timed: on a shared machine the same code runs at different
    speeds from one minute to the next, and the figures beside this one are read in its light."""
    started = time.perf_counter()
    total = 0
    for n in range(iterations):
        total += n
    return (time.perf_counter() - started) * 1000
