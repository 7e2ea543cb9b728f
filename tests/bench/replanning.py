"""Benchmark: re-plan a whole team's week — 30 staff, 60 patients, 7 visits each — and print
how long it takes. Pure planning (no broker, no database), best of several runs.

    make bench        (or: .venv/bin/python -m tests.bench.replanning)
"""

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from contracts import AssessmentCompleted, Pathway, Skill
from services.scheduling import planning

STAFF, PATIENTS, RUNS = 30, 60, 7
TZ = ZoneInfo("Europe/Belfast")
NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def team(rng: random.Random) -> tuple[list[planning.Staff], list[tuple[str, datetime, datetime]]]:
    """30 staff on a 24/7 rota of 12-hour shifts, four days on in each week, a few with skills."""
    skills = [Skill.LEARNING_DISABILITY, Skill.PERSONALITY_DISORDER, Skill.COMMUNICATION_NEEDS]
    staff = [planning.Staff(f"staff-{n:02d}", frozenset(rng.sample(skills, k=rng.choice([0, 0, 1, 2])))) for n in range(STAFF)]
    first = NOW.replace(hour=7, minute=0)
    shifts = [
        (member.staff_id, start, start + timedelta(hours=12))
        for n, member in enumerate(staff)
        for day in range(9)
        if (day + n) % 7 < 4  # staggered: each works 4 days in 7
        for start in [first + timedelta(days=day, hours=12 * (n % 2))]  # half on days, half on nights
    ]
    return staff, shifts


def replan(staff, shifts, patients: list[AssessmentCompleted]) -> list[planning.Plan]:
    roster = planning.Roster.build(staff, shifts)  # a re-plan starts from nobody booked
    return [planning.plan_home_treatment(patient, roster, TZ, NOW) for patient in patients]


def main() -> None:
    rng = random.Random(26)
    staff, shifts = team(rng)
    patients = [
        AssessmentCompleted(
            assessment_id=uuid4(), patient_id=uuid4(), episode_id=uuid4(), outcome=Pathway.HOME_TREATMENT, assessed_at=NOW,
            required_skills=tuple(rng.sample([Skill.LEARNING_DISABILITY, Skill.PERSONALITY_DISORDER], k=rng.choice([0, 0, 0, 1]))),
        )
        for _ in range(PATIENTS)
    ]
    timings, plans = [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        plans = replan(staff, shifts, patients)
        timings.append(time.perf_counter() - started)
    visits = [visit for plan in plans for visit in plan.visits]
    assigned = sum(visit.staff_id is not None for visit in visits)
    print(
        f"re-planned {STAFF} staff, {PATIENTS} patients, {len(visits)} visits over a week: "
        f"best {min(timings) * 1000:.1f} ms, median {statistics.median(timings) * 1000:.1f} ms over {RUNS} runs "
        f"({assigned} visits assigned, {len(visits) - assigned} left for the team lead)"
    )


if __name__ == "__main__":
    main()
