"""Discharge events: a clinician's discharge decision, and the episode it closes."""

from contracts.base import (
    SENSITIVE,
    UUID,
    AwareDatetime,
    Event,
    Field,
    at_field,
    episode_id_field,
    patient_id_field,
)
from contracts.topics import DISCHARGE_EVENTS, DISCHARGE_INBOUND


class DischargeDecided(Event):
    """A clinician's system records the decision to discharge a patient from home treatment."""

    type_name = "discharge.decided"
    topic = DISCHARGE_INBOUND

    patient_id: UUID = patient_id_field()
    episode_id: UUID = episode_id_field()
    decided_by: str = Field(
        min_length=1, max_length=64, description="Staff id of the deciding clinician.", examples=["staff-0007"]
    )
    reason: str = Field(
        min_length=1,
        max_length=4000,
        description="Why the patient is being discharged (clinical text).",
        examples=["Crisis resolved; follow-up by CMHT agreed with the patient."],
        json_schema_extra=SENSITIVE,
    )
    decided_at: AwareDatetime = at_field("the discharge was decided")


class EpisodeClosed(Event):
    """The discharge service closed a home-treatment episode."""

    type_name = "episode.closed"
    topic = DISCHARGE_EVENTS

    patient_id: UUID = patient_id_field()
    episode_id: UUID = episode_id_field()
    visits_completed: int = Field(ge=0, description="Visits completed during the episode.", examples=[9])
    closed_at: AwareDatetime = at_field("the episode was closed")
