"""Discharge rules, pure: closing a home-treatment episode on a discharge decision."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from contracts import DischargeDecided, EpisodeClosed
from shared.errors import InvalidEvent


@dataclass(frozen=True)
class Episode:
    episode_id: UUID
    patient_id: UUID
    visits_completed: int
    closed_at: datetime | None


def close(episode: Episode | None, decision: DischargeDecided, now: datetime) -> list[EpisodeClosed]:
    """Closes an open episode once; a decision for a closed episode changes nothing."""
    if episode is None:
        raise InvalidEvent("no home-treatment episode with this id is known to the discharge service")
    if episode.patient_id != decision.patient_id:
        raise InvalidEvent("the episode belongs to a different patient")
    if episode.closed_at is not None:
        return []
    return [
        EpisodeClosed(
            patient_id=episode.patient_id,
            episode_id=episode.episode_id,
            visits_completed=episode.visits_completed,
            closed_at=now,
        )
    ]
