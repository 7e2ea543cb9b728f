"""Named crash points, so the reliability tests can kill a service at the worst moment.

Off unless `CAREPATH_FAILPOINT` names the point; then the process kills itself with SIGKILL
when it first reaches it, exactly as a power cut would.
"""

import asyncio
import os
import signal


def failpoint(name: str) -> None:
    if os.environ.get("CAREPATH_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


async def hold(point: str) -> None:
    """Off unless `CAREPATH_HOLD_<POINT>` names a file; then waits while that file exists, so a
    test can keep a message in flight (as a slow network would) while something else happens."""
    path = os.environ.get(f"CAREPATH_HOLD_{point.upper()}")
    while path and os.path.exists(path):
        await asyncio.sleep(0.1)
