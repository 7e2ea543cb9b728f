"""Assessment events: an assessment submitted by a clinician, and its recorded outcome."""

from enum import StrEnum

from contracts.base import (
    MAX_INTEGER,
    SENSITIVE,
    Event,
    Field,
    Integer,
    Timestamp,
    Uuid,
    at_field,
    bounded_str,
    episode_id_field,
    is_blank,
    optional_integer,
    patient_id_field,
    present,
    rules,
    when,
)
from pydantic import BaseModel, ConfigDict, model_validator

from contracts.assessment_sections import NARRATIVE, PHRASE, AssessmentSections, SectionName
from contracts.base import Trust
from contracts.consent import TEAM_MAX_LENGTH, TEAM_PATTERN
from contracts.copies import AddressedCopy
from contracts.scheduling import Skill
from contracts.topics import ASSESSMENT_EVENTS, ASSESSMENT_INBOUND, ASSESSMENT_SHARED


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
    # Admission gatekeeping: an admission HTCR did not assess face to face must say why.
    model_config = ConfigDict(
        json_schema_extra=rules(
            {
                "if": when(outcome="inpatient-admission", htcr_assessed_in_person=False),
                "then": present("not_in_person_reason", not_blank=True),
            }
        )
    )

    assessment_id: Uuid = Field(
        description="Id of this assessment, chosen by the submitting system.",
        examples=["7a4f1e0b-2c3d-4e5f-8a9b-0c1d2e3f4a5b"],
    )
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
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
    assessed_at: Timestamp = at_field("the assessment was completed")
    sections: AssessmentSections = Field(
        default_factory=AssessmentSections,
        description="The assessment itself, section by section; omitted sections are unchanged from the latest.",
        examples=[{}],
    )
    htcr_assessed_in_person: bool = Field(
        default=True,
        description="HTCR assessed the patient face to face (gatekeeping of admissions).",
        examples=[True],
    )
    not_in_person_reason: str | None = Field(
        default=None,
        max_length=2000,
        description="Why HTCR did not assess in person; required, not blank, for an admission without it.",
        examples=["Admitted directly from custody suite under Article 130."],
        json_schema_extra=SENSITIVE,
    )

    @model_validator(mode="after")
    def _an_admission_without_gatekeeping_says_why(self) -> "AssessmentSubmitted":
        # Gatekeeping is auditable: the published schema says it with if/then, the model likewise.
        if (
            self.outcome is Pathway.INPATIENT_ADMISSION
            and not self.htcr_assessed_in_person
            and is_blank(self.not_in_person_reason)
        ):
            raise ValueError(
                "an admission decision without an in-person HTCR assessment must record why (not_in_person_reason)"
            )
        return self


class AssessmentStartReported(Event):
    """A clinician's system reports that an assessment has begun (this stops the response clock)."""

    type_name = "assessment.start-reported"
    topic = ASSESSMENT_INBOUND

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    started_by: str = Field(min_length=1, max_length=64, description="Staff id.", examples=["staff-0042"])
    started_at: Timestamp = at_field("the assessment began")


class AssessmentUpdated(Event):
    """A clinician's system updates some sections of a patient's assessment; only those travel."""

    type_name = "assessment.updated"
    topic = ASSESSMENT_INBOUND
    # At least one section given and not null: a null section is "unchanged", like an absent one.
    model_config = ConfigDict(
        json_schema_extra=rules(
            {
                "properties": {
                    "sections": {
                        "anyOf": [{"required": [name], "properties": {name: {"type": "object"}}} for name in SectionName]
                    }
                }
            }
        )
    )

    update_id: Uuid = Field(description="Id of this update, chosen by the sender.", examples=["0f1e2d3c-4b5a-4697-8877-665544332211"])
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    sections: AssessmentSections = Field(
        description="Only the sections that changed (at least one).",
        examples=[{"patient_view": {"what_i_need": "Someone to talk to in the evenings."}}],
    )
    updated_by: str = Field(min_length=1, max_length=64, description="Staff id.", examples=["staff-0042"])
    updated_at: Timestamp = at_field("the update was made")

    @model_validator(mode="after")
    def _has_a_section(self) -> "AssessmentUpdated":
        if not self.sections.present():
            raise ValueError("an update must carry at least one section")
        return self


class AssessmentStarted(Event):
    """The assessment of an episode has begun: the referral's response clock stops."""

    type_name = "assessment.started"
    topic = ASSESSMENT_EVENTS

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    started_at: Timestamp = at_field("the assessment began")


class AssessmentVersionRecorded(Event):
    """A new version of the patient's assessment was recorded: which sections changed (names only)."""

    type_name = "assessment.version-recorded"
    topic = ASSESSMENT_EVENTS

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    assessment_version: Integer = Field(ge=1, le=MAX_INTEGER, description="The new version number (per patient).", examples=[2])
    changed_sections: tuple[SectionName, ...] = Field(
        max_length=len(SectionName), description="Sections changed in this version.", examples=[["risk"]]
    )
    recorded_at: Timestamp = at_field("the version was recorded")
    required_skills: tuple[Skill, ...] = Field(
        default=(),
        max_length=len(Skill),
        description="Skills visiting staff need, derived from the whole current assessment (not clinical detail).",
        examples=[["learning-disability"]],
    )
    easy_read: bool = Field(
        default=False,
        description="The patient's messages are sent in easy read: the current assessment records a learning disability or a "
        "communication need (derived, so scheduling and discharge never see the detail).",
        examples=[False],
    )


class AssessmentShared(AddressedCopy):
    """The assessment sent to one team caring for the patient: only the sections its consent
    decision permits, sealed for that team. On joining, a team gets the whole current assessment;
    later, only changes; after its key is destroyed, what it may still see is re-issued."""

    type_name = "assessment.shared"
    version = 2
    topic = ASSESSMENT_SHARED
    content_type = AssessmentSections

    recipient: str = Field(
        pattern=TEAM_PATTERN, max_length=TEAM_MAX_LENGTH, description="The team it is addressed to.", examples=["ward:belfast"]
    )
    episode_id: Uuid = episode_id_field()
    assessment_version: Integer = Field(ge=1, le=MAX_INTEGER, description="The version this brings the team up to.", examples=[3])
    reason: str = Field(
        pattern=r"^(joined|updated|break-glass|reissued)$",
        max_length=16,
        description="`joined` (the whole record), `updated` (changed sections), `break-glass` (an emergency "
        "override) or `reissued` (the whole permitted record again, after the team's copy key was destroyed).",
        examples=["joined"],
    )
    withheld_sections: tuple[SectionName, ...] = Field(
        max_length=len(SectionName), description="Sections this team may not see (names only).", examples=[["collateral_information"]]
    )
    shared_at: Timestamp = at_field("it was shared")


class AssessmentCompleted(Event):
    """The assessment service recorded a completed assessment and the pathway it decided."""

    type_name = "assessment.completed"
    topic = ASSESSMENT_EVENTS

    assessment_id: Uuid = Field(description="Id of the assessment.", examples=["7a4f1e0b-2c3d-4e5f-8a9b-0c1d2e3f4a5b"])
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    outcome: Pathway = Field(description="The pathway decided.", examples=["home-treatment"])
    assessed_at: Timestamp = at_field("the assessment was completed")
    assessment_version: optional_integer(ge=1) = Field(default=None, description="The version it recorded.", examples=[1])
    htcr_assessed_in_person: bool = Field(default=True, description="HTCR gatekeeping was face to face.", examples=[True])
    trust: Trust | None = Field(default=None, description="The Trust caring for the patient.", examples=["belfast"])
    required_skills: tuple[Skill, ...] = Field(
        default=(),
        max_length=len(Skill),
        description="Skills visiting staff need, derived from the assessment.",
        examples=[["learning-disability"]],
    )
    step_down: bool = Field(
        default=False,
        description="The patient comes home from an inpatient ward (the ward referred them): the first visit is the same day "
        "when the Trust's hours allow.",
        examples=[False],
    )
    visits_a_day_at_first: Integer = Field(
        default=1,
        ge=1,
        le=2,
        description="Visits a day on the first three days of home treatment: 2 where the assessment found a high risk to self "
        "or a carer under high strain, else 1 (derived, so scheduling never sees the risk itself).",
        examples=[2],
    )
    easy_read: bool = Field(
        default=False,
        description="The patient's messages are sent in easy read: the assessment records a learning disability or a "
        "communication need (derived, so scheduling and discharge never see the detail).",
        examples=[False],
    )


class CarerInformation(BaseModel):
    """General information for a carer, from the crisis plan."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # As long as the crisis plan's warning signs and what to do, which they are taken from.
    signs_of_relapse: tuple[bounded_str(PHRASE), ...] = Field(
        max_length=20, description="What to look out for.", examples=[["stops eating", "not sleeping"]]
    )
    how_to_help: str = Field(max_length=NARRATIVE, description="What to do when they appear.", examples=["Call the team's duty line."])


class CarerInformationShared(AddressedCopy):
    """General information for a named carer: the signs of relapse and how to help, sealed for
    that carer. Never the patient's risk or clinical detail; sent only as consent allows."""

    type_name = "assessment.carer-information-shared"
    version = 2
    topic = ASSESSMENT_SHARED
    content_type = CarerInformation

    recipient: str = Field(pattern=r"^carer:[A-Za-z0-9-]{1,64}$", max_length=70, description="The carer.", examples=["carer:partner-1"])
    episode_id: Uuid = episode_id_field()
    shared_at: Timestamp = at_field("it was shared")
