"""The Trust systems' side of the soak: whole journeys, many in flight at once, each fed in step
by step with `tools.journey.Journey` (refer, assess, record a visit, plan and decide the
discharge), each step waiting for carepath's answer on the log.

Two steps wait first for what would have happened in the time a real journey takes (minutes
to days): the assessment is submitted once HTCR has taken the referral, and the discharge is
decided once the discharge service has counted the visit. Without that pause a freshly
restarted service would dead-letter the event after its bounded wait for the episode, which is
designed behaviour, not a loss."""

import asyncio
import time
from dataclasses import dataclass
from uuid import UUID, uuid4

from tools.journey import Journey, Patient
from tools.trust import TrustSystem
from tests.bench.harness import ToolDeployment
from tests.factories import new_hc_number

STEPS = ("referral", "assessment", "visit", "discharge", "closed")
POLL_S = 0.5


@dataclass
class Driven:
    patient: Patient
    reached: str = "not sent"  # the step the driver got to: its answer never came if not "closed"
    episode_id: UUID | None = None
    problem: str | None = None  # why the driver stopped, if it did


async def drive(deployment: ToolDeployment, systems: tuple[TrustSystem, TrustSystem, TrustSystem], deadline: float) -> Driven:
    gp, clinician, staff_app = systems
    driven = Driven(Patient(hc_number=new_hc_number(), name=f"Soak-{uuid4().hex[:8]} Patient"))
    journey = Journey(deployment.log, gp, clinician, staff_app, driven.patient)

    def left() -> float:
        journey.timeout_s = max(0.1, deadline - time.monotonic())
        return journey.timeout_s

    try:
        driven.reached = "referral"
        left()
        accepted = await journey.refer()
        driven.episode_id = accepted.episode_id
        driven.reached = "assessment"
        await _until(deployment, "assessment", "SELECT 1 FROM episodes WHERE episode_id = $1", accepted.episode_id, left())
        left()
        visit = await journey.assess(accepted)
        driven.reached = "visit"
        left()
        await journey.visit(visit)
        driven.reached = "discharge"
        await _until(
            deployment, "discharge", "SELECT 1 FROM episodes WHERE episode_id = $1 AND visits_completed >= 1", accepted.episode_id, left()
        )
        left()
        await journey.discharge(accepted)
        driven.reached = "closed"
    except TimeoutError:
        driven.problem = f"no answer at the {driven.reached} step before the time limit"
    except Exception as error:  # noqa: BLE001 - the account says what stopped the driver
        driven.problem = f"{type(error).__name__} at the {driven.reached} step: {error}"
    return driven


async def _until(deployment: ToolDeployment, service: str, sql: str, arg: object, timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            try:
                if await deployment.query(service, sql, arg):
                    return
            except OSError:
                pass  # PostgreSQL is not what is being killed, but a pool may see a reset
            await asyncio.sleep(POLL_S)
