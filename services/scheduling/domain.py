"""Scheduling rules, pure: when the first visit is, and what a visit outcome means.

Visits are arranged the day before, in a window of at most one hour (CORE fidelity items on
information and frequency); the first visit of a new home-treatment episode is the next
morning unless the plan says otherwise.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from contracts import AssessmentCompleted, Pathway, VisitCompleted, VisitOutcomeRecorded, VisitScheduled, VisitStatus
from shared.errors import InvalidEvent

FIRST_VISIT_AT = time(10, 0)
WINDOW = timedelta(hours=1)
PLANNED_MINUTES = 60


@dataclass(frozen=True)
class Visit:
    visit_id: UUID
    patient_id: UUID
    episode_id: UUID
    status: VisitStatus | None  # None while scheduled


def first_visit(assessment: AssessmentCompleted, visit_id: UUID, tz: ZoneInfo) -> VisitScheduled | None:
    """The first visit of a home-treatment episode: 10:00-11:00 local time the next day."""
    if assessment.outcome is not Pathway.HOME_TREATMENT:
        return None
    next_day = assessment.assessed_at.astimezone(tz).date() + timedelta(days=1)
    start = datetime.combine(next_day, FIRST_VISIT_AT, tzinfo=tz)
    return VisitScheduled(
        visit_id=visit_id,
        patient_id=assessment.patient_id,
        episode_id=assessment.episode_id,
        window_start=start,
        window_end=start + WINDOW,
        planned_minutes=PLANNED_MINUTES,
    )


def record_outcome(visit: Visit | None, outcome: VisitOutcomeRecorded) -> list[VisitCompleted]:
    """A completed visit becomes a VisitCompleted; an outcome already recorded changes nothing."""
    if visit is None:
        raise InvalidEvent("no visit with this id was scheduled")
    if visit.patient_id != outcome.patient_id or visit.episode_id != outcome.episode_id:
        raise InvalidEvent("the visit belongs to a different patient or episode")
    if visit.status is not None or outcome.status is not VisitStatus.COMPLETED:
        return []
    return [
        VisitCompleted(
            visit_id=visit.visit_id,
            patient_id=visit.patient_id,
            episode_id=visit.episode_id,
            actual_minutes=outcome.actual_minutes,
            completed_at=outcome.recorded_at,
        )
    ]
