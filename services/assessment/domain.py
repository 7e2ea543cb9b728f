"""Assessment rules, pure: what recording a submitted assessment means."""

from dataclasses import dataclass
from uuid import UUID

from contracts import AssessmentCompleted, AssessmentSubmitted
from shared.errors import InvalidEvent


@dataclass(frozen=True)
class KnownEpisode:
    episode_id: UUID
    patient_id: UUID


def complete(submitted: AssessmentSubmitted, episode: KnownEpisode | None) -> AssessmentCompleted:
    """Records the outcome; an assessment naming another patient's episode is refused."""
    if episode is not None and episode.patient_id != submitted.patient_id:
        raise InvalidEvent("the episode belongs to a different patient")
    return AssessmentCompleted(
        assessment_id=submitted.assessment_id,
        patient_id=submitted.patient_id,
        episode_id=submitted.episode_id,
        outcome=submitted.outcome,
        assessed_at=submitted.assessed_at,
    )
