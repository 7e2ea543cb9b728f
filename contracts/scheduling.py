"""Scheduling events: visits planned, their outcomes from the staff app, and completion."""

from enum import StrEnum

from contracts.base import UUID, AwareDatetime, Event, Field, at_field, episode_id_field, patient_id_field
from contracts.topics import SCHEDULING_EVENTS, VISIT_OUTCOMES


class VisitStatus(StrEnum):
    COMPLETED = "completed"
    NOT_SEEN = "not-seen"


class VisitScheduled(Event):
    """A home-treatment visit was planned, with a window of at most one hour."""

    type_name = "visit.scheduled"
    topic = SCHEDULING_EVENTS

    visit_id: UUID = Field(description="Id of the visit.", examples=["3f2e1d0c-9b8a-4765-8432-10fedcba9876"])
    patient_id: UUID = patient_id_field()
    episode_id: UUID = episode_id_field()
    window_start: AwareDatetime = at_field("the visit window opens")
    window_end: AwareDatetime = at_field("the visit window closes (at most one hour after it opens)")
    planned_minutes: int = Field(ge=1, le=240, description="Planned length of the visit in minutes.", examples=[60])


class VisitOutcomeRecorded(Event):
    """The staff mobile app records what happened at a visit."""

    type_name = "visit.outcome-recorded"
    topic = VISIT_OUTCOMES

    visit_id: UUID = Field(description="Id of the visit.", examples=["3f2e1d0c-9b8a-4765-8432-10fedcba9876"])
    patient_id: UUID = patient_id_field()
    episode_id: UUID = episode_id_field()
    status: VisitStatus = Field(description="Whether the patient was seen.", examples=["completed"])
    actual_minutes: int = Field(ge=0, le=600, description="How long the visit lasted, in minutes.", examples=[55])
    recorded_at: AwareDatetime = at_field("the outcome was recorded")


class VisitCompleted(Event):
    """The scheduling service recorded that a planned visit took place."""

    type_name = "visit.completed"
    topic = SCHEDULING_EVENTS

    visit_id: UUID = Field(description="Id of the visit.", examples=["3f2e1d0c-9b8a-4765-8432-10fedcba9876"])
    patient_id: UUID = patient_id_field()
    episode_id: UUID = episode_id_field()
    actual_minutes: int = Field(ge=0, le=600, description="How long the visit lasted, in minutes.", examples=[55])
    completed_at: AwareDatetime = at_field("the visit outcome was recorded")
