"""Assessment events: an assessment submitted by a clinician, and its recorded outcome."""

from enum import StrEnum

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
from contracts.topics import ASSESSMENT_EVENTS, ASSESSMENT_INBOUND


class Pathway(StrEnum):
    """Where the assessment sends the patient next."""

    HOME_TREATMENT = "home-treatment"
    INPATIENT_ADMISSION = "inpatient-admission"
    CMHT = "cmht"
    RECOVERY_TEAM = "recovery-team"
    SIGNPOSTING = "signposting"
    NO_FURTHER_ACTION = "no-further-action"


class AssessmentSubmitted(Event):
    """A clinician's system submits a completed assessment for an episode."""

    type_name = "assessment.submitted"
    topic = ASSESSMENT_INBOUND

    assessment_id: UUID = Field(
        description="Id of this assessment, chosen by the submitting system.",
        examples=["7a4f1e0b-2c3d-4e5f-8a9b-0c1d2e3f4a5b"],
    )
    patient_id: UUID = patient_id_field()
    episode_id: UUID = episode_id_field()
    outcome: Pathway = Field(description="The pathway decided.", examples=["home-treatment"])
    outcome_reason: str = Field(
        min_length=1,
        max_length=4000,
        description="The clinician's reason for the outcome (clinical text).",
        examples=["Acute crisis, safe to treat at home with twice-daily visits and carer support."],
        json_schema_extra=SENSITIVE,
    )
    assessed_by: str = Field(
        min_length=1,
        max_length=64,
        description="Staff id of the assessing clinician.",
        examples=["staff-0042"],
    )
    assessed_at: AwareDatetime = at_field("the assessment was completed")


class AssessmentCompleted(Event):
    """The assessment service recorded a completed assessment and the pathway it decided."""

    type_name = "assessment.completed"
    topic = ASSESSMENT_EVENTS

    assessment_id: UUID = Field(description="Id of the assessment.", examples=["7a4f1e0b-2c3d-4e5f-8a9b-0c1d2e3f4a5b"])
    patient_id: UUID = patient_id_field()
    episode_id: UUID = episode_id_field()
    outcome: Pathway = Field(description="The pathway decided.", examples=["home-treatment"])
    assessed_at: AwareDatetime = at_field("the assessment was completed")
