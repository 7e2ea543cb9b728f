"""Scheduling events: the rota, care plans, visits and what happens to them, escalations.

(About 310 lines: every field of every event is described, with an example, for the published
schema; the length is those descriptions.)"""

from enum import StrEnum

from pydantic import model_validator

from contracts.base import (
    MAX_INTEGER,
    BaseModel,
    ConfigDict,
    Day,
    Event,
    Field,
    Integer,
    Timestamp,
    Uuid,
    at_field,
    bounded_str,
    episode_id_field,
    patient_id_field,
)
from contracts.consent import STAFF_ID_MAX_LENGTH, TEAM_MAX_LENGTH, TEAM_PATTERN
from contracts.topics import NOTIFICATIONS, ROTA_INBOUND, SCHEDULING_EVENTS, SCHEDULING_INBOUND, VISIT_OUTCOMES

STAFF_ID = r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"


class Role(StrEnum):
    NURSE = "nurse"
    SOCIAL_WORKER = "social-worker"
    DOCTOR = "doctor"
    SUPPORT_WORKER = "support-worker"
    PEER_WORKER = "peer-worker"


class Skill(StrEnum):
    """What a visit may need of the person who makes it."""

    PERSONALITY_DISORDER = "personality-disorder"
    LEARNING_DISABILITY = "learning-disability"
    COMMUNICATION_NEEDS = "communication-needs"
    BRITISH_SIGN_LANGUAGE = "british-sign-language"
    PRESCRIBING = "prescribing"


class VisitStatus(StrEnum):
    COMPLETED = "completed"
    NOT_SEEN = "not-seen"


class RiskChange(StrEnum):
    DECREASED = "decreased"
    UNCHANGED = "unchanged"
    INCREASED = "increased"


class CarerStrain(StrEnum):
    NONE = "none"
    COPING = "coping"
    STRAINED = "strained"
    BREAKING_POINT = "breaking-point"


def visit_id_field(description: str = "Id of the visit.") -> object:
    return Field(description=description, examples=["3f2e1d0c-9b8a-4765-8432-10fedcba9876"])


def staff_id_field(description: str = "Id of the member of staff.") -> object:
    return Field(pattern=STAFF_ID, max_length=STAFF_ID_MAX_LENGTH, description=description, examples=["staff-0042"])


class Shift(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    starts_at: Timestamp = Field(description="Start of the shift.", examples=["2026-11-27T08:00:00+00:00"])
    ends_at: Timestamp = Field(
        description="End of the shift: after its start, within 24 hours.", examples=["2026-11-27T20:00:00+00:00"]
    )

    @model_validator(mode="after")
    def _sane(self) -> "Shift":
        if not (0 < (self.ends_at - self.starts_at).total_seconds() <= 24 * 3600):
            raise ValueError("a shift must end after it starts, within 24 hours")
        return self


class StaffMemberRecorded(Event):
    """The rostering system records a member of staff: role, skills, team."""

    type_name = "rota.staff-recorded"
    topic = ROTA_INBOUND

    staff_id: str = staff_id_field()
    team: str = Field(pattern=TEAM_PATTERN, max_length=TEAM_MAX_LENGTH, description="Their team.", examples=["htcr:belfast"])
    role: Role = Field(description="Their role.", examples=["nurse"])
    skills: tuple[Skill, ...] = Field(
        default=(), max_length=len(Skill), description="Skills a visit may need.", examples=[["learning-disability"]]
    )
    team_lead: bool = Field(default=False, description="Leads the team (receives missed-visit alerts).", examples=[False])
    display_name: str | None = Field(
        default=None, max_length=100, description="How patients know them (first name).", examples=["Niamh"]
    )

    @property
    def key(self) -> str:
        return self.staff_id


class ShiftsRostered(Event):
    """The rostering system publishes a member of staff's shifts for a period (replacing earlier
    shifts in that period). Shifts in one roster may not overlap."""

    type_name = "rota.shifts-rostered"
    topic = ROTA_INBOUND

    staff_id: str = staff_id_field()
    shifts: tuple[Shift, ...] = Field(
        min_length=1,
        max_length=400,  # more than a year of one shift a day
        description="The shifts, 24/7 cover across the team; none may overlap another.",
        examples=[[{"starts_at": "2026-11-27T08:00:00+00:00", "ends_at": "2026-11-27T20:00:00+00:00"}]],
    )

    @model_validator(mode="after")
    def _no_overlaps(self) -> "ShiftsRostered":
        ordered = sorted(self.shifts, key=lambda shift: shift.starts_at)
        if any(later.starts_at < earlier.ends_at for earlier, later in zip(ordered, ordered[1:])):
            raise ValueError("shifts overlap")
        return self

    @property
    def key(self) -> str:
        return self.staff_id


class CarePlanAgreed(Event):
    """The level of input agreed at the start of home treatment: who, how often, how long."""

    type_name = "care-plan.agreed"
    topic = SCHEDULING_EVENTS

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    key_worker: str | None = staff_id_field("The named key worker (none if nobody with the skills is rostered).")
    core_team: tuple[bounded_str(STAFF_ID_MAX_LENGTH), ...] = Field(
        max_length=20, description="The small team who will visit.", examples=[["staff-0042", "staff-0007"]]
    )
    visits_first_week: Integer = Field(ge=1, le=MAX_INTEGER, description="Contacts planned in the first week.", examples=[7])
    visits_per_week_after: Integer = Field(ge=0, le=MAX_INTEGER, description="Contacts planned each week after.", examples=[5])
    planned_minutes: Integer = Field(ge=1, le=MAX_INTEGER, description="Planned length of each visit.", examples=[60])
    required_skills: tuple[Skill, ...] = Field(max_length=len(Skill), description="Skills every visitor needs.", examples=[[]])
    agreed_at: Timestamp = at_field("the plan was agreed")


class VisitScheduled(Event):
    """A home-treatment visit was planned, with a window of at most one hour."""

    type_name = "visit.scheduled"
    topic = SCHEDULING_EVENTS

    visit_id: Uuid = visit_id_field()
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    window_start: Timestamp = at_field("the visit window opens")
    window_end: Timestamp = at_field("the visit window closes (at most one hour after it opens)")
    planned_minutes: Integer = Field(ge=1, le=240, description="Planned length of the visit in minutes.", examples=[60])
    staff_id: str | None = Field(
        default=None, max_length=STAFF_ID_MAX_LENGTH, description="Who will visit; none if nobody could be assigned.", examples=["staff-0042"]
    )
    replaces_visit_id: Uuid | None = Field(default=None, description="The missed visit this replaces.", examples=[None])


class VisitRequested(Event):
    """A clinician asks for an extra visit on a day (e.g. after an escalation)."""

    type_name = "visit.requested"
    topic = SCHEDULING_INBOUND

    request_id: Uuid = Field(description="Id of the request.", examples=["5d4c3b2a-1908-4f7e-8d6c-5b4a39281706"])
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    day: Day = Field(description="The day wanted (Trust local time).", examples=["2026-11-27"])
    requested_by: str = staff_id_field("Who asked.")


class VisitStarted(Event):
    """The staff app reports arrival at the patient."""

    type_name = "visit.started"
    topic = SCHEDULING_INBOUND

    visit_id: Uuid = visit_id_field()
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    started_at: Timestamp = at_field("the visit started")


class VisitOutcomeRecorded(Event):
    """The staff mobile app records what happened at a visit."""

    type_name = "visit.outcome-recorded"
    topic = VISIT_OUTCOMES

    visit_id: Uuid = visit_id_field()
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    status: VisitStatus = Field(description="Whether the patient was seen.", examples=["completed"])
    actual_minutes: Integer = Field(ge=0, le=600, description="How long the visit lasted, in minutes.", examples=[55])
    recorded_at: Timestamp = at_field("the outcome was recorded")
    risk_change: RiskChange = Field(default=RiskChange.UNCHANGED, description="Risk since the last visit.", examples=["unchanged"])
    carer_strain: CarerStrain | None = Field(default=None, description="Carer strain noticed, if a carer was there.", examples=["coping"])


class VisitCompleted(Event):
    """The scheduling service recorded that a planned visit took place."""

    type_name = "visit.completed"
    topic = SCHEDULING_EVENTS

    visit_id: Uuid = visit_id_field()
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    actual_minutes: Integer = Field(ge=0, le=600, description="How long the visit lasted, in minutes.", examples=[55])
    completed_at: Timestamp = at_field("the visit outcome was recorded")
    cut_short: bool = Field(default=False, description="Much shorter than planned (under half).", examples=[False])


class VisitRunningLate(Event):
    """Nobody had arrived 15 minutes into the window: the patient is told."""

    type_name = "visit.running-late"
    topic = SCHEDULING_EVENTS

    visit_id: Uuid = visit_id_field()
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    window_start: Timestamp = at_field("the window opened")
    detected_at: Timestamp = at_field("lateness was detected")


class VisitMissed(Event):
    """No outcome by the end of the window plus the grace period. Emitted once per visit."""

    type_name = "visit.missed"
    topic = SCHEDULING_EVENTS

    visit_id: Uuid = visit_id_field()
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    staff_id: str | None = Field(default=None, max_length=STAFF_ID_MAX_LENGTH, description="Who was due to visit.", examples=["staff-0042"])
    window_end: Timestamp = at_field("the window closed")
    detected_at: Timestamp = at_field("the miss was detected")


class EscalationReason(StrEnum):
    RISK_INCREASED = "risk-increased"
    CARER_AT_BREAKING_POINT = "carer-at-breaking-point"


class EscalationAction(StrEnum):
    MORE_VISITS = "more-visits"
    ADMISSION_REQUEST = "admission-request"


class EscalationRaised(Event):
    """A visit outcome showed rising risk or a carer at breaking point."""

    type_name = "escalation.raised"
    topic = SCHEDULING_EVENTS

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    visit_id: Uuid = visit_id_field("The visit that showed it.")
    reasons: tuple[EscalationReason, ...] = Field(
        min_length=1, max_length=len(EscalationReason), description="Why.", examples=[["carer-at-breaking-point"]]
    )
    action: EscalationAction = Field(description="What is done about it.", examples=["more-visits"])
    raised_at: Timestamp = at_field("the escalation was raised")


class ContactsBelowPlan(Event):
    """A week of home treatment ended with fewer contacts than the plan promised."""

    type_name = "visit.contacts-below-plan"
    topic = SCHEDULING_EVENTS

    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    week: Integer = Field(ge=1, le=MAX_INTEGER, description="Week of the episode (1 is the first).", examples=[1])
    planned: Integer = Field(ge=0, le=MAX_INTEGER, description="Contacts the plan promised that week.", examples=[7])
    completed: Integer = Field(ge=0, le=MAX_INTEGER, description="Contacts that took place.", examples=[4])
    detected_at: Timestamp = at_field("the shortfall was detected")


class NotificationSent(Event):
    """A message to a person: the patient, a carer, a team lead, a GP. Plain words; the Trust's
    messaging system delivers it. Keyed by the patient it is about."""

    type_name = "notification.sent"
    topic = NOTIFICATIONS

    recipient: str = Field(
        pattern=r"^(patient|carer:[A-Za-z0-9-]{1,64}|team-lead:[a-z-]+:[a-z-]+|gp|cmht:[a-z-]+|recovery-team:[a-z-]+)$",
        max_length=100,
        description="Who it is for.",
        examples=["patient"],
    )
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    kind: str = Field(pattern=r"^[a-z-]{1,64}$", max_length=64, description="What it is about.", examples=["care-plan"])
    text: str = Field(min_length=1, max_length=4000, description="The message, in plain words.", examples=["Your visits this week..."])
    sent_at: Timestamp = at_field("it was sent")
    easy_read: bool = Field(
        default=False,
        description="The text is written in easy read (short sentences, one idea each, common words): the Trust's messaging "
        "system lays it out as easy read, with a picture beside each sentence.",
        examples=[False],
    )
