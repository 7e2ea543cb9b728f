"""Referral events: a referral arriving from a Trust system, and what carepath decided."""

from enum import IntEnum, StrEnum

from contracts.base import (
    SENSITIVE,
    UUID,
    AwareDatetime,
    Event,
    Field,
    Trust,
    at_field,
    episode_id_field,
    patient_id_field,
)
from contracts.topics import REFERRAL_EVENTS, REFERRAL_INBOUND

REFERRAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


class Urgency(IntEnum):
    """Mental Health Services Data Set `ClinRespPriorityType` codes."""

    EMERGENCY = 1
    URGENT = 2
    ROUTINE = 3
    VERY_URGENT = 4


class ReferralSource(StrEnum):
    GP = "gp"
    EMERGENCY_DEPARTMENT = "emergency-department"
    CMHT = "cmht"
    PSYCHIATRIST = "psychiatrist"
    INPATIENT_WARD = "inpatient-ward"
    KNOWN_PATIENT = "known-patient"
    CARER_OF_KNOWN_PATIENT = "carer-of-known-patient"
    VOLUNTARY_ORGANISATION = "voluntary-organisation"


class ReferralSubmitted(Event):
    """A Trust system refers a person to the home treatment crisis response team.

    Published by integrating Trust systems; keyed by `referral_id` because the patient has no
    carepath id yet. The only carepath event that carries the H&C number and name, which stay
    in the referral service.
    """

    type_name = "referral.submitted"
    topic = REFERRAL_INBOUND

    referral_id: str = Field(
        pattern=REFERRAL_ID_PATTERN,
        description="The referring system's own id for this referral; unique per Trust system.",
        examples=["GP-BT-2026-000123"],
    )
    trust: Trust = Field(description="The HSC Trust the referral is made to.", examples=["belfast"])
    source: ReferralSource = Field(description="Who is referring.", examples=["gp"])
    urgency: Urgency = Field(
        description="MHSDS ClinRespPriorityType: 1 emergency, 4 very urgent, 2 urgent, 3 routine.",
        examples=[4],
    )
    hc_number: str = Field(
        pattern=r"^\d{3} ?\d{3} ?\d{4}$",
        description="The patient's 10-digit Health and Care number (modulus-11 check digit).",
        examples=["943 476 5919"],
        json_schema_extra=SENSITIVE,
    )
    patient_name: str = Field(
        min_length=1,
        max_length=200,
        description="The patient's name as the referrer knows it.",
        examples=["Alex Morgan"],
        json_schema_extra=SENSITIVE,
    )
    submitted_at: AwareDatetime = at_field("the referrer sent the referral")

    @property
    def key(self) -> str:
        return self.referral_id


class ReferralAccepted(Event):
    """The referral service accepted a referral and opened (or linked) an episode."""

    type_name = "referral.accepted"
    topic = REFERRAL_EVENTS

    referral_id: str = Field(description="The referring system's id for the referral.", examples=["GP-BT-2026-000123"])
    patient_id: UUID = patient_id_field()
    episode_id: UUID = episode_id_field()
    trust: Trust = Field(description="The HSC Trust caring for the patient.", examples=["belfast"])
    source: ReferralSource = Field(description="Who referred.", examples=["gp"])
    urgency: Urgency = Field(description="MHSDS urgency code as triaged.", examples=[4])
    accepted_at: AwareDatetime = at_field("the referral was accepted")
    assess_by: AwareDatetime = at_field("the assessment must have started (the response deadline)")


class ReferralRedirected(Event):
    """A referral that is not a crisis was redirected to another team instead of accepted."""

    type_name = "referral.redirected"
    topic = REFERRAL_EVENTS

    referral_id: str = Field(description="The referring system's id for the referral.", examples=["GP-BT-2026-000124"])
    patient_id: UUID = patient_id_field()
    trust: Trust = Field(description="The HSC Trust the referral was made to.", examples=["belfast"])
    redirected_to: str = Field(description="The team the referral was passed to.", examples=["cmht"])
    reason: str = Field(
        description="Why, in words the referrer and patient can read.",
        examples=["Routine referrals are not a crisis: the community mental health team will contact the patient."],
    )
    redirected_at: AwareDatetime = at_field("the referral was redirected")
