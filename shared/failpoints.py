"""Named crash points, so the reliability tests can kill a service at the worst moment.

Off unless `CAREPATH_FAILPOINT` names the point; then the process kills itself with SIGKILL
when it first reaches it, exactly as a power cut would.
"""

import os
import signal


def failpoint(name: str) -> None:
    if os.environ.get("CAREPATH_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
