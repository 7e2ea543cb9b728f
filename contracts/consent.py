"""The vocabulary of consent: categories of information, recipients and purposes.

The decision itself lives in one place, `shared/privacy/consent.py`; these are the words events use.
"""

from enum import StrEnum

from pydantic import ConfigDict, Field, model_validator

from contracts.base import (
    NOT_BLANK,
    SENSITIVE,
    Event,
    Integer,
    Timestamp,
    Uuid,
    at_field,
    is_blank,
    patient_id_field,
    present,
    rules,
    when,
)
from contracts.topics import CONSENT_INBOUND

RECIPIENT_PATTERN = (
    r"^((htcr|cmht|ward|recovery-team):(belfast|northern|south-eastern|southern|western)"
    r"|gp|patient|carer:[A-Za-z0-9-]{1,64}|voluntary:[a-z0-9-]{1,64})$"
)
TEAM_PATTERN = r"^(htcr|cmht|ward|recovery-team):(belfast|northern|south-eastern|southern|western)$"
# The longest each pattern allows, so the schema states a length bound like every other string.
RECIPIENT_MAX_LENGTH = len("voluntary:") + 64
TEAM_MAX_LENGTH = len("recovery-team:south-eastern")
STAFF_ID_MAX_LENGTH = 64


class InformationCategory(StrEnum):
    CONTACT_DETAILS = "contact-details"
    RISK = "risk"
    CLINICAL_DETAIL = "clinical-detail"
    MEDICATION = "medication"
    COMMUNICATION_NEEDS = "communication-needs"
    CARER_GENERAL_INFORMATION = "carer-general-information"
    DISCHARGE_ARRANGEMENTS = "discharge-arrangements"


class Purpose(StrEnum):
    DIRECT_CARE = "direct-care"
    CARER_SUPPORT = "carer-support"


class DecisionMaker(StrEnum):
    PATIENT = "patient"
    BEST_INTERESTS = "best-interests"  # the patient lacks capacity for this decision


class ConsentRecorded(Event):
    """A decision about one recipient, some categories of information and a purpose: permit or
    deny, for a period. Later decisions add to earlier ones; a deny for a recipient always wins
    over any permit; `do_not_tell` means the person is not even told the patient is known."""

    type_name = "consent.recorded"
    topic = CONSENT_INBOUND
    # `valid_until` after `valid_from` is checked by the model only: JSON Schema cannot compare two fields.
    model_config = ConfigDict(
        json_schema_extra=rules(
            {"if": when(decided_by="best-interests"), "then": present("capacity_assessment", not_blank=True)},
            {"if": when(do_not_tell=True), "then": {"properties": {"permit": {"const": False}}}},
        )
    )

    consent_id: Uuid = Field(description="Id of this decision.", examples=["6c5b4a39-2817-4f6e-9d5c-4b3a29180716"])
    patient_id: Uuid = patient_id_field()
    recipient: str = Field(
        pattern=RECIPIENT_PATTERN, max_length=RECIPIENT_MAX_LENGTH, description="Who it is about.", examples=["carer:carer-1"]
    )
    categories: tuple[InformationCategory, ...] = Field(
        min_length=1,
        max_length=len(InformationCategory),
        description="The categories decided.",
        examples=[["carer-general-information", "discharge-arrangements"]],
    )
    permit: bool = Field(description="True to permit, False to deny.", examples=[True])
    purpose: Purpose | None = Field(
        default=None, description="The purpose it covers; none means every purpose.", examples=["carer-support"]
    )
    decided_by: DecisionMaker = Field(default=DecisionMaker.PATIENT, description="Who decided.", examples=["patient"])
    capacity_assessment: str | None = Field(
        default=None,
        max_length=4000,
        description="The capacity assessment behind a best-interests decision (required for one).",
        examples=["Lacks capacity for this decision during acute psychosis; reviewed daily."],
        json_schema_extra=SENSITIVE,
    )
    valid_from: Timestamp | None = Field(default=None, description="Start of the period; none means now.", examples=[None])
    valid_until: Timestamp | None = Field(
        default=None, description="End of the period (after its start); none means until changed.", examples=["2027-05-26T00:00:00+00:00"]
    )
    do_not_tell: bool = Field(
        default=False, description="Deny only: the person is not even told the patient is known.", examples=[False]
    )
    recorded_by: str = Field(min_length=1, max_length=STAFF_ID_MAX_LENGTH, description="Staff id who recorded it.", examples=["staff-0042"])
    recorded_at: Timestamp = at_field("the decision was recorded")

    @model_validator(mode="after")
    def _coherent(self) -> "ConsentRecorded":
        if self.decided_by is DecisionMaker.BEST_INTERESTS and is_blank(self.capacity_assessment):
            raise ValueError("a best-interests decision must record the capacity assessment")
        if self.do_not_tell and self.permit:
            raise ValueError("do_not_tell goes with a deny")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class ConsentWithdrawn(Event):
    """A recorded permit is withdrawn: from now on it permits nothing, in every service."""

    type_name = "consent.withdrawn"
    topic = CONSENT_INBOUND

    consent_id: Uuid = Field(description="The decision withdrawn.", examples=["6c5b4a39-2817-4f6e-9d5c-4b3a29180716"])
    patient_id: Uuid = patient_id_field()
    recorded_by: str = Field(min_length=1, max_length=STAFF_ID_MAX_LENGTH, description="Staff id who recorded it.", examples=["staff-0042"])
    withdrawn_at: Timestamp = at_field("consent was withdrawn")


class BreakGlassRequested(Event):
    """An emergency override: a named member of staff, with a reason, gives a team access for a
    limited time. It is audited and raises an alert."""

    type_name = "consent.break-glass-requested"
    topic = CONSENT_INBOUND

    override_id: Uuid = Field(description="Id of this override.", examples=["9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"])
    patient_id: Uuid = patient_id_field()
    recipient: str = Field(
        pattern=TEAM_PATTERN, max_length=TEAM_MAX_LENGTH, description="The team given access (staff teams only).", examples=["ward:belfast"]
    )
    categories: tuple[InformationCategory, ...] = Field(
        default=tuple(InformationCategory),
        min_length=1,
        max_length=len(InformationCategory),
        description="What it opens.",
        examples=[["clinical-detail"]],
    )
    staff_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$", max_length=STAFF_ID_MAX_LENGTH, description="Who broke the glass.", examples=["staff-0099"]
    )
    reason: str = Field(
        min_length=10,
        max_length=2000,
        description="Why, in words an auditor can judge (not blank).",
        examples=["Patient unconscious in ED; overdose history needed now."],
        # The schema says "not blank" as a pattern; the model says it in a validator, whose
        # message names the problem in the dead-letter reason.
        json_schema_extra={**SENSITIVE, "pattern": NOT_BLANK},
    )
    minutes: Integer = Field(default=60, ge=1, le=240, description="How long it lasts.", examples=[60])
    requested_at: Timestamp = at_field("it was requested")

    @model_validator(mode="after")
    def _reason_is_not_blank(self) -> "BreakGlassRequested":
        if is_blank(self.reason):
            raise ValueError("break glass needs a reason")
        return self


class SharedCopiesErased(Event):
    """The patient asks that copies of their information already sent to a recipient (or to
    everyone) are erased: every service destroys the keys of those copies, so what is on the log
    can no longer be opened. Later copies, if consent allows them, get new keys."""

    type_name = "consent.copies-erased"
    topic = CONSENT_INBOUND

    erasure_id: Uuid = Field(description="Id of this request.", examples=["1d2c3b4a-5968-4776-8584-93a2b1c0d9e8"])
    patient_id: Uuid = patient_id_field()
    recipient: str | None = Field(
        default=None,
        pattern=RECIPIENT_PATTERN,
        max_length=RECIPIENT_MAX_LENGTH,
        description="Whose copies; none means every recipient's.",
        examples=["carer:carer-1"],
    )
    recorded_by: str = Field(min_length=1, max_length=STAFF_ID_MAX_LENGTH, description="Staff id who recorded it.", examples=["staff-0042"])
    erased_at: Timestamp = at_field("the erasure was asked for")
