"""The vocabulary of consent: categories of information, recipients and purposes.

The decision itself lives in one place, `shared/consent.py`; these are the words events use.
"""

from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field

from contracts.base import Event, at_field, patient_id_field
from contracts.topics import CONSENT_INBOUND

RECIPIENT_PATTERN = (
    r"^((htcr|cmht|ward|recovery-team):(belfast|northern|south-eastern|southern|western)"
    r"|gp|patient|carer:[A-Za-z0-9-]{1,64}|voluntary:[a-z0-9-]{1,64})$"
)
TEAM_PATTERN = r"^(htcr|cmht|ward|recovery-team):(belfast|northern|south-eastern|southern|western)$"


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


class ConsentRecorded(Event):
    """A patient's decision about one recipient and some categories of information: permit or deny.

    Later decisions add to earlier ones; a deny for a recipient always wins over any permit.
    """

    type_name = "consent.recorded"
    topic = CONSENT_INBOUND

    consent_id: UUID = Field(description="Id of this decision.", examples=["6c5b4a39-2817-4f6e-9d5c-4b3a29180716"])
    patient_id: UUID = patient_id_field()
    recipient: str = Field(pattern=RECIPIENT_PATTERN, description="Who it is about.", examples=["carer:carer-1"])
    categories: tuple[InformationCategory, ...] = Field(
        min_length=1, description="The categories decided.", examples=[["carer-general-information", "discharge-arrangements"]]
    )
    permit: bool = Field(description="True to permit, False to deny.", examples=[True])
    recorded_by: str = Field(min_length=1, max_length=64, description="Staff id who recorded it.", examples=["staff-0042"])
    recorded_at: AwareDatetime = at_field("the decision was recorded")
