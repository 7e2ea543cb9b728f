"""Referral events: a referral arriving from a Trust system, and what carepath decided."""

from enum import IntEnum, StrEnum
from typing import Any

from pydantic import ConfigDict, model_validator

from contracts.base import (
    MAX_INTEGER,
    SENSITIVE,
    Day,
    Event,
    Field,
    Integer,
    Timestamp,
    Trust,
    Uuid,
    at_field,
    episode_id_field,
    optional_integer,
    patient_id_field,
    present,
    rules,
    when,
    whole_numbers,
)
from contracts.assessment import Pathway
from contracts.directory import MAX_ENTRIES, Signpost
from contracts.topics import REFERRAL_EVENTS, REFERRAL_INBOUND, REFERRAL_STATUS

REFERRAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
REFERRAL_ID_MAX_LENGTH = 64
# What carepath writes to the person or the referrer in a decline or a redirect.
EXPLANATION = 2000


def referral_id_field(example: str) -> Any:
    return Field(max_length=REFERRAL_ID_MAX_LENGTH, description="The referring system's id for the referral.", examples=[example])


class Urgency(IntEnum):
    """Mental Health Services Data Set `ClinRespPriorityType` codes."""

    EMERGENCY = 1
    URGENT = 2
    ROUTINE = 3
    VERY_URGENT = 4


# As JSON Schema reads it: 4.0 is 4, and true is no urgency at all.
UrgencyCode = whole_numbers(Urgency)


class ReferralSource(StrEnum):
    """Every route in. The last three are open only to people already known to the service."""

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
    model_config = ConfigDict(
        json_schema_extra=rules({"if": when(source="emergency-department"), "then": present("ed_arrived_at")})
    )

    referral_id: str = Field(
        pattern=REFERRAL_ID_PATTERN,
        max_length=REFERRAL_ID_MAX_LENGTH,
        description="The referring system's own id for this referral; unique per Trust system.",
        examples=["GP-BT-2026-000123"],
    )
    trust: Trust = Field(description="The HSC Trust the referral is made to.", examples=["belfast"])
    source: ReferralSource = Field(description="Who is referring.", examples=["gp"])
    urgency: UrgencyCode = Field(
        description="MHSDS ClinRespPriorityType: 1 emergency, 4 very urgent, 2 urgent, 3 routine.",
        examples=[4],
    )
    hc_number: str = Field(
        # [0-9], not \d: \d takes other scripts' digits in Python and Rust, not in JSON Schema.
        pattern=r"^[0-9]{3} ?[0-9]{3} ?[0-9]{4}$",
        max_length=12,
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
    submitted_at: Timestamp = at_field("the referrer sent the referral")
    date_of_birth: Day | None = Field(
        default=None,
        description="The patient's date of birth, for the Trust's age range.",
        examples=["1990-04-12"],
        json_schema_extra=SENSITIVE,
    )
    ed_arrived_at: Timestamp | None = Field(
        default=None,
        description="When the person arrived in the emergency department; required from an ED.",
        examples=["2026-11-26T07:10:00+00:00"],
    )
    resident_trust: Trust | None = Field(
        default=None,
        description="The Trust whose area the patient lives in, when it is not `trust`.",
        examples=["northern"],
    )
    currently_inpatient: bool = Field(
        default=False,
        description="The patient is on a ward now (a ward's own step-down referral is expected to say so).",
        examples=[False],
    )

    @model_validator(mode="after")
    def _ed_referrals_say_when_the_person_arrived(self) -> "ReferralSubmitted":
        if self.source is ReferralSource.EMERGENCY_DEPARTMENT and self.ed_arrived_at is None:
            raise ValueError("ed_arrived_at is required for an emergency-department referral")
        return self

    @property
    def key(self) -> str:
        return self.referral_id


SIGNPOSTS = [
    {
        "entry_id": "belfast-cmht",
        "kind": "cmht",
        "name": "Community Mental Health Team",
        "hours": "Monday to Friday, 9am to 5pm",
        "how_to_access": "Through your GP",
        "phone": None,
    },
    {
        "entry_id": "lifeline",
        "kind": "crisis-line",
        "name": "Lifeline crisis response helpline",
        "hours": "24 hours a day, 7 days a week",
        "how_to_access": "Call free, any time",
        "phone": "0808 808 8000",
    },
]


class ReferralOutcome(StrEnum):
    ACCEPTED = "accepted"
    LINKED = "linked"
    REDIRECTED = "redirected"
    DECLINED = "declined"


class DeclineReason(StrEnum):
    NEW_PATIENT_SELF_REFERRAL = "new-patient-self-referral"
    PATIENT_NOT_KNOWN = "patient-not-known"
    OUTSIDE_AGE_RANGE = "outside-age-range"
    ALREADY_INPATIENT = "already-inpatient"
    OUTSIDE_TRUST_AREA = "outside-trust-area"


class ReferralAcknowledged(Event):
    """The referrer's receipt: what was decided, at once (the target is a reply within 30 minutes)."""

    type_name = "referral.acknowledged"
    topic = REFERRAL_EVENTS

    referral_id: str = referral_id_field("GP-BT-2026-000123")
    patient_id: Uuid = patient_id_field()
    trust: Trust = Field(description="The Trust the referral was made to.", examples=["belfast"])
    source: ReferralSource = Field(description="Who referred.", examples=["gp"])
    outcome: ReferralOutcome = Field(description="What carepath decided.", examples=["accepted"])
    received_at: Timestamp = at_field("carepath received the referral")
    assess_by: Timestamp | None = Field(
        default=None, description="The assessment deadline, when accepted.", examples=["2026-11-27T09:30:00+00:00"]
    )

class ReferralAccepted(Event):
    """The referral service accepted a referral and opened (or linked) an episode."""

    type_name = "referral.accepted"
    topic = REFERRAL_EVENTS

    referral_id: str = referral_id_field("GP-BT-2026-000123")
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    trust: Trust = Field(description="The HSC Trust caring for the patient.", examples=["belfast"])
    source: ReferralSource = Field(description="Who referred.", examples=["gp"])
    urgency: UrgencyCode = Field(description="MHSDS urgency code as triaged.", examples=[4])
    accepted_at: Timestamp = at_field("the referral was received and accepted")
    assess_by: Timestamp = at_field("the assessment must have started (the response deadline)")
    ed_arrived_at: Timestamp | None = Field(
        default=None, description="When the person arrived in the ED, for ED referrals.", examples=["2026-11-26T07:10:00+00:00"]
    )


class ReferralLinked(Event):
    """A referral for a patient whose episode is already open joined that episode."""

    type_name = "referral.linked"
    topic = REFERRAL_EVENTS

    referral_id: str = referral_id_field("ED-BT-2026-000456")
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    trust: Trust = Field(description="The Trust caring for the patient.", examples=["belfast"])
    source: ReferralSource = Field(description="Who referred.", examples=["emergency-department"])
    urgency: UrgencyCode = Field(description="MHSDS urgency code given by the referrer.", examples=[4])
    linked_at: Timestamp = at_field("the referral was linked")


class ReferralDeclined(Event):
    """carepath could not take the referral on: the reason, and where to go instead."""

    type_name = "referral.declined"
    topic = REFERRAL_EVENTS

    referral_id: str = referral_id_field("SELF-2026-000789")
    patient_id: Uuid = patient_id_field()
    trust: Trust = Field(description="The Trust the referral was made to.", examples=["belfast"])
    reason_code: DeclineReason = Field(description="Why, as a code.", examples=["new-patient-self-referral"])
    reason: str = Field(
        max_length=EXPLANATION,
        description="Why, in words the person can read.",
        examples=["The home treatment team cannot take referrals directly from people not already known to it."],
    )
    alternatives: tuple[Signpost, ...] = Field(
        min_length=2, max_length=MAX_ENTRIES, description="At least two concrete services to go to instead.", examples=[SIGNPOSTS]
    )
    declined_at: Timestamp = at_field("the referral was declined")


class ResponseTargetBreached(Event):
    """No assessment had started by the referral's deadline. Emitted once per referral."""

    type_name = "referral.response-target-breached"
    topic = REFERRAL_EVENTS

    referral_id: str = referral_id_field("ED-BT-2026-000456")
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    trust: Trust = Field(description="The Trust responsible.", examples=["belfast"])
    urgency: UrgencyCode = Field(description="MHSDS urgency code.", examples=[4])
    assess_by: Timestamp = at_field("the assessment should have started")
    detected_at: Timestamp = at_field("the breach was detected")
    minutes_late: Integer = Field(ge=0, le=MAX_INTEGER, description="How late, in whole minutes, when detected.", examples=[12])
    ed_arrived_at: Timestamp | None = Field(
        default=None, description="When the person arrived in the ED, for ED referrals.", examples=["2026-11-26T07:10:00+00:00"]
    )
    minutes_in_ed: optional_integer(ge=0) = Field(
        default=None, description="How long the person had been in the ED when detected.", examples=[262]
    )


class ReferralRedirected(Event):
    """A referral that is not a crisis was redirected to another team instead of accepted."""

    type_name = "referral.redirected"
    topic = REFERRAL_EVENTS

    referral_id: str = referral_id_field("GP-BT-2026-000124")
    patient_id: Uuid = patient_id_field()
    trust: Trust = Field(description="The HSC Trust the referral was made to.", examples=["belfast"])
    redirected_to: str = Field(max_length=64, description="The team the referral was passed to.", examples=["cmht"])
    reason: str = Field(
        max_length=EXPLANATION,
        description="Why, in words the referrer and patient can read.",
        examples=["Routine referrals are not a crisis: the community mental health team will contact the patient."],
    )
    alternatives: tuple[Signpost, ...] = Field(
        min_length=2, max_length=MAX_ENTRIES, description="At least two concrete services, the team redirected to first.", examples=[SIGNPOSTS]
    )
    redirected_at: Timestamp = at_field("the referral was redirected")


class ReferrerStatus(StrEnum):
    """The changes in a referred patient's care that the referrer is told of (closed loop)."""

    ASSESSED = "assessed"  # the assessment is done: `outcome` says what happens next
    ADMITTED = "admitted"  # the assessment decided on admission to a ward
    FIRST_VISIT = "first-visit"  # the home treatment team has seen the patient at home
    VISITS_MISSED = "visits-missed"  # planned visits in a row did not happen
    DISCHARGED = "discharged"  # home treatment has ended


# What a referring system writes as its CloudEvents source (the envelope's pattern).
REFERRING_SYSTEM_PATTERN = r"^/[A-Za-z0-9/._-]{1,120}$"


class ReferralStatusChanged(Event):
    """Closing the loop: a change that matters in the care of a patient a system referred, told
    to that referring system (a GP practice, a CMHT, a ward). Sent only as far as the patient's
    consent lets that referrer see, and audited either way; never a name, an H&C number or
    clinical text: the referrer matches it to its own record by `referral_id`."""

    type_name = "referral.status-changed"
    topic = REFERRAL_STATUS
    model_config = ConfigDict(
        json_schema_extra=rules(
            {"if": when(status="assessed"), "then": present("outcome")},
            {"if": when(status="visits-missed"), "then": present("missed_in_a_row")},
        )
    )

    referral_id: str = referral_id_field("GP-BT-2026-000123")
    referring_system: str = Field(
        pattern=REFERRING_SYSTEM_PATTERN,
        max_length=121,
        description="The system that made the referral (its CloudEvents source): the one this is for.",
        examples=["/trust/belfast/gp-system"],
    )
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    trust: Trust = Field(description="The Trust caring for the patient.", examples=["belfast"])
    status: ReferrerStatus = Field(description="What changed.", examples=["assessed"])
    outcome: Pathway | None = Field(default=None, description="The pathway the assessment decided (assessed, admitted).",
                                    examples=["home-treatment"])
    missed_in_a_row: optional_integer(ge=2) = Field(
        default=None, description="Planned visits missed in a row (visits-missed).", examples=[2]
    )
    follow_up_due_at: Timestamp | None = Field(
        default=None, description="When the follow-up contact after discharge is due (discharged).",
        examples=["2026-11-29T09:30:00+00:00"],
    )
    happened_at: Timestamp = at_field("the change happened")
    message: str = Field(
        max_length=EXPLANATION,
        description="The change in plain words, for the referrer's inbox (no name, no clinical detail).",
        examples=["Referral GP-BT-2026-000123: the home treatment team assessed your patient on Thursday 26 November. "
                  "They will have home treatment."],
    )

    @model_validator(mode="after")
    def _each_status_carries_its_detail(self) -> "ReferralStatusChanged":
        if self.status is ReferrerStatus.ASSESSED and self.outcome is None:
            raise ValueError("an assessed status carries the outcome")
        if self.status is ReferrerStatus.VISITS_MISSED and self.missed_in_a_row is None:
            raise ValueError("a visits-missed status carries how many were missed in a row")
        return self
