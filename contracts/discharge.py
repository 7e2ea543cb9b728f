"""Discharge events: planning with the patient, the gate, the summary, and follow-up.

Nobody is discharged without knowing: the discharge service completes a discharge only when
the patient has been told, follow-on care is arranged (or why not is recorded) and crisis
contacts have been given; otherwise it refuses, naming what is missing.

(About 330 lines: the service's 22 events and value types, every field described with
an example for the published schema. Split, one event's fields would be far from its siblings'.)
"""

from enum import StrEnum

from pydantic import model_validator

from contracts.base import (
    MAX_INTEGER,
    SENSITIVE,
    BaseModel,
    ConfigDict,
    Day,
    Event,
    Field,
    Integer,
    Timestamp,
    Trust,
    Uuid,
    at_field,
    bounded_str,
    episode_id_field,
    is_blank,
    patient_id_field,
    present,
    rules,
    when,
)
from contracts.copies import AddressedCopy
from contracts.directory import MAX_ENTRIES, Signpost
from contracts.topics import DISCHARGE_EVENTS, DISCHARGE_INBOUND, PAS_INBOUND


def _text(description: str, example: str, max_length: int = 8000) -> object:
    return Field(default=None, max_length=max_length, description=description, examples=[example], json_schema_extra=SENSITIVE)


CRISIS_CONTACT = 200  # a name and a number


def _staff() -> object:
    return Field(min_length=1, max_length=64, description="Staff id.", examples=["staff-0007"])


class CarerView(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    carer_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$", max_length=64, description="The carer.", examples=["carer-1"])
    view: str = Field(min_length=1, max_length=4000, description="Their view, in their words.", examples=["I'm worried about nights."], json_schema_extra=SENSITIVE)


class SummaryContent(BaseModel):
    """What the clinician writes for the discharge summary, under the usual headings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason_for_care: str | None = _text("Why the patient was under home treatment.", "Depressive episode with suicidal thoughts.")
    assessment_and_risk: str | None = _text("Assessment and risk at discharge.", "Risk to self now low; protective factors restored.")
    medication: str | None = _text("Medication at discharge and changes.", "Sertraline 100 mg daily, unchanged.")
    plan_and_requested_actions: str | None = _text("The plan, and what the GP and CMHT are asked to do.", "CMHT to review within 2 weeks.")


class DischargeProposed(Event):
    """A clinician proposes discharge: the reason, the patient's own view (kept, never
    overwritten), carers' views, and the summary content."""

    type_name = "discharge.proposed"
    topic = DISCHARGE_INBOUND

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    proposed_by: str = _staff()
    planned_for: Day = Field(description="The day discharge is planned for.", examples=["2026-12-10"])
    reason: str = Field(min_length=1, max_length=4000, description="Why discharge now.", examples=["Crisis resolved."], json_schema_extra=SENSITIVE)
    patient_view: str | None = _text("What the patient says about being discharged.", "I don't feel ready yet.")
    patient_wants_more_time: bool = Field(default=False, description="The patient asked for more time.", examples=[True])
    patient_asked_to_end_sooner: bool = Field(
        default=False,
        description=(
            "The patient asked for home treatment to end sooner than the notice the Trust gives (48 hours by default): "
            "the gate then lets the discharge through with less notice. Once recorded it is kept."
        ),
        examples=[False],
        json_schema_extra=SENSITIVE,
    )
    suicide_risk_identified: bool = Field(
        default=False,
        description=(
            "A risk of suicide was identified at this discharge: the follow-up contact is then due within the Trust's "
            "suicide-risk target (48 hours by default, NICE NG53) instead of its standard. Once recorded it is kept."
        ),
        examples=[True],
        json_schema_extra=SENSITIVE,
    )
    carer_views: tuple[CarerView, ...] = Field(
        default=(), max_length=10, description="Views of carers (recorded; shared only with consent).", examples=[[]]
    )
    summary: SummaryContent = Field(default_factory=SummaryContent, description="Summary content by heading.", examples=[{}])
    crisis_contacts: tuple[bounded_str(CRISIS_CONTACT), ...] = Field(
        default=(), max_length=10, description="Who to call if crisis returns.", examples=[["HTCR duty line 028 9649 6001"]]
    )
    proposed_at: Timestamp = at_field("it was proposed")


class DischargeMeetingArranged(Event):
    """A discharge meeting is arranged; the patient and consented carers are invited."""

    type_name = "discharge.meeting-arranged"
    topic = DISCHARGE_INBOUND

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    meeting_at: Timestamp = at_field("the meeting is")
    arranged_by: str = _staff()


class DischargeConversationRecorded(Event):
    """The discharge was talked through with the patient."""

    type_name = "discharge.conversation-recorded"
    topic = DISCHARGE_INBOUND

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    recorded_by: str = _staff()
    recorded_at: Timestamp = at_field("the conversation took place")


class DischargeNotificationAcknowledged(Event):
    """The patient acknowledged the written notice of the planned discharge."""

    type_name = "discharge.notification-acknowledged"
    topic = DISCHARGE_INBOUND

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    acknowledged_at: Timestamp = at_field("the patient acknowledged it")


class OnwardCare(StrEnum):
    CMHT = "cmht"
    RECOVERY_TEAM = "recovery-team"
    GP = "gp"
    NONE = "none"


class FollowOnCareArranged(Event):
    """Who takes over after discharge, or why nobody does."""

    type_name = "discharge.follow-on-arranged"
    topic = DISCHARGE_INBOUND
    model_config = ConfigDict(
        json_schema_extra=rules({"if": when(onward_to="none"), "then": present("reason_if_none", not_blank=True)})
    )

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    onward_to: OnwardCare = Field(description="Who takes over.", examples=["cmht"])
    reason_if_none: str | None = _text("Why no onward care; required (not blank) when none.", "Patient declined further contact.")
    arranged_by: str = _staff()
    arranged_at: Timestamp = at_field("it was arranged")

    @model_validator(mode="after")
    def _none_needs_a_reason(self) -> "FollowOnCareArranged":
        if self.onward_to is OnwardCare.NONE and is_blank(self.reason_if_none):
            raise ValueError("reason_if_none is required when no onward care is arranged")
        return self


class CrisisContactsGiven(Event):
    """The patient was given the numbers to call if crisis returns."""

    type_name = "discharge.crisis-contacts-given"
    topic = DISCHARGE_INBOUND

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    given_by: str = _staff()
    given_at: Timestamp = at_field("they were given")


class DischargeDecided(Event):
    """A clinician's system asks to complete the discharge (the gate decides)."""

    type_name = "discharge.decided"
    topic = DISCHARGE_INBOUND

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
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
    decided_at: Timestamp = at_field("the discharge was decided")


class FollowUpContactRecorded(Event):
    """Someone made the follow-up contact after a discharge."""

    type_name = "discharge.follow-up-contact-recorded"
    topic = DISCHARGE_INBOUND

    patient_id: Uuid = patient_id_field()
    contact_by: str = _staff()
    contact_at: Timestamp = at_field("the contact was made")


class WardDischargeRecorded(Event):
    """The patient administration system records a discharge from an inpatient ward."""

    type_name = "pas.ward-discharge-recorded"
    topic = PAS_INBOUND

    discharge_id: Uuid = Field(description="PAS id of the discharge.", examples=["2b3c4d5e-6f70-4182-9394-a5b6c7d8e9f0"])
    patient_id: Uuid = patient_id_field()
    trust: Trust = Field(description="The Trust of the ward.", examples=["northern"])
    ward: str = Field(min_length=1, max_length=100, description="The ward.", examples=["Holywell Hospital, Ward 3"])
    discharged_at: Timestamp = at_field("the patient left the ward")
    suicide_risk_identified: bool = Field(
        default=False,
        description=(
            "A risk of suicide was identified at discharge: the follow-up contact is then due within the Trust's "
            "suicide-risk target (48 hours by default, NICE NG53) instead of its standard (72 hours by default)."
        ),
        examples=[True],
        json_schema_extra=SENSITIVE,
    )


class GateCondition(StrEnum):
    PATIENT_TOLD = "patient-told"
    FOLLOW_ON_CARE_ARRANGED = "follow-on-care-arranged"
    CRISIS_CONTACTS_GIVEN = "crisis-contacts-given"
    NOTICE_GIVEN = "notice-given"  # told at least the Trust's notice (48 h) before the planned day, or asked for sooner


class DischargeRefused(Event):
    """A discharge could not be completed: what is missing."""

    type_name = "discharge.refused"
    topic = DISCHARGE_EVENTS

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    missing: tuple[GateCondition, ...] = Field(
        min_length=1, max_length=len(GateCondition), description="The conditions not met.", examples=[["patient-told"]]
    )
    refused_at: Timestamp = at_field("it was refused")
    explanation: str | None = Field(
        default=None,
        max_length=2000,
        description="Why, in words a clinician reads: each condition not met, one sentence each.",
        examples=["The patient has not been told: no conversation with them and no acknowledgement from them is recorded."],
        json_schema_extra=SENSITIVE,  # it names when the patient was told and when their treatment ends
    )


class EpisodeClosed(Event):
    """The discharge service closed a home-treatment episode."""

    type_name = "episode.closed"
    topic = DISCHARGE_EVENTS

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    visits_completed: Integer = Field(ge=0, le=MAX_INTEGER, description="Visits completed during the episode.", examples=[9])
    closed_at: Timestamp = at_field("the episode was closed")
    due_at: Timestamp | None = Field(
        default=None,
        description=(
            "When the follow-up contact is due (as FollowUpBreached.due_at): the clock this discharge started, chosen by the Trust's rules "
            "(48 hours where a risk of suicide was identified, else the Trust's standard, 72 hours by default). "
            "Absent on episodes closed before it was carried: read them as 72 hours after closed_at."
        ),
        examples=["2026-11-29T09:30:00+00:00"],
    )


class SummaryHeadings(BaseModel):
    """A mental health discharge summary; a recipient sees only the headings consent allows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason_for_care: str | None = _text("Reason for care.", "Depressive episode.")
    assessment_and_risk: str | None = _text("Assessment and risk summary.", "Risk now low.")
    medication: str | None = _text("Medication.", "Sertraline 100 mg daily.")
    plan_and_requested_actions: str | None = _text("Plan and requested actions.", "CMHT review in 2 weeks.")
    # Room for the sentence the discharge service puts around the patient's own 8000 characters.
    patient_view: str | None = _text("The patient's own view, as they gave it.", "I asked for more time.", max_length=8200)
    crisis_contacts: tuple[bounded_str(CRISIS_CONTACT), ...] = Field(
        default=(), max_length=10, description="Crisis contacts.", examples=[["Lifeline 0808 808 8000"]]
    )
    who_was_informed: tuple[bounded_str(100), ...] = Field(
        default=(), max_length=20, description="Who was sent this.", examples=[["patient", "gp"]]
    )
    signposting: tuple[Signpost, ...] = Field(default=(), max_length=MAX_ENTRIES, description="Other support.", examples=[[]])


class DischargeSummaryIssued(AddressedCopy):
    """The discharge summary as sent to one recipient: only the headings consent allows, sealed for it."""

    type_name = "discharge.summary-issued"
    version = 2
    topic = DISCHARGE_EVENTS
    content_type = SummaryHeadings

    episode_id: Uuid = episode_id_field()
    issued_at: Timestamp = at_field("it was issued")
    due_by: Timestamp = at_field("it was due (3 days for the GP, 24 hours for the care plan)")


class FollowUpSource(StrEnum):
    HOME_TREATMENT = "home-treatment"
    WARD = "ward"


class FollowUpBreached(Event):
    """No follow-up contact by the time the discharge's clock fell due (48 hours with a risk of
    suicide, else the Trust's standard). Emitted once per discharge."""

    type_name = "discharge.follow-up-breached"
    topic = DISCHARGE_EVENTS

    patient_id: Uuid = patient_id_field()
    followup_id: Uuid = Field(description="The follow-up clock.", examples=["8e7d6c5b-4a39-4281-9706-f5e4d3c2b1a0"])
    source: FollowUpSource = Field(description="Discharged from home treatment or a ward.", examples=["ward"])
    discharged_at: Timestamp = at_field("the patient was discharged")
    due_at: Timestamp = at_field("the follow-up was due")
    detected_at: Timestamp = at_field("the breach was detected")
    hours_late: Integer = Field(ge=0, le=MAX_INTEGER, description="Hours past the deadline when detected.", examples=[2])


class FollowUpCompleted(Event):
    """A follow-up contact after discharge was made, and whether it was within its clock's target."""

    type_name = "discharge.follow-up-completed"
    topic = DISCHARGE_EVENTS

    patient_id: Uuid = patient_id_field()
    followup_id: Uuid = Field(description="The follow-up clock.", examples=["8e7d6c5b-4a39-4281-9706-f5e4d3c2b1a0"])
    contact_at: Timestamp = at_field("the contact was made")
    within_target: bool = Field(description="Made by the time the clock fell due (its own target: 48 hours, 72 hours or the Trust's).", examples=[True])


class EpisodeReviewDue(Event):
    """An episode has been open six weeks: it is due a review."""

    type_name = "episode.review-due"
    topic = DISCHARGE_EVENTS

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    opened_at: Timestamp = at_field("the episode opened")
    detected_at: Timestamp = at_field("the review fell due")


class ReadmissionLinked(Event):
    """Home treatment again within 28 days of discharge: the new episode is linked to the last."""

    type_name = "episode.readmission-linked"
    topic = DISCHARGE_EVENTS

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    previous_episode_id: Uuid = Field(description="The episode discharged from.", examples=["0c9d7d3e-1f7a-4c55-9a7b-2f1f0b8e4a90"])
    days_since_discharge: Integer = Field(ge=0, le=MAX_INTEGER, description="Whole days since that discharge.", examples=[10])
