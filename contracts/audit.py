"""The audit trail: every disclosure and every denial of a patient's information."""

from contracts.base import MAX_INTEGER, Event, Field, Integer, Timestamp, Uuid, at_field, patient_id_field
from contracts.consent import (
    RECIPIENT_MAX_LENGTH,
    RECIPIENT_PATTERN,
    STAFF_ID_MAX_LENGTH,
    TEAM_MAX_LENGTH,
    TEAM_PATTERN,
    InformationCategory,
    Purpose,
)
from contracts.topics import AUDIT

CATEGORIES = len(InformationCategory)


class DisclosureAudited(Event):
    """Who received (or was refused) which categories of information about a patient, why, and
    under which consent version. Append-only: nothing in carepath changes or removes these."""

    type_name = "audit.disclosure"
    topic = AUDIT

    patient_id: Uuid = patient_id_field()
    recipient: str = Field(
        pattern=RECIPIENT_PATTERN, max_length=RECIPIENT_MAX_LENGTH, description="Who it was for.", examples=["ward:belfast"]
    )
    purpose: Purpose = Field(description="For what.", examples=["direct-care"])
    disclosed: tuple[InformationCategory, ...] = Field(
        max_length=CATEGORIES, description="Categories sent.", examples=[["risk", "medication"]]
    )
    denied: tuple[InformationCategory, ...] = Field(
        max_length=CATEGORIES, description="Categories withheld.", examples=[["clinical-detail"]]
    )
    permitted: bool = Field(description="Anything was disclosed.", examples=[True])
    consent_version: Integer = Field(ge=0, le=MAX_INTEGER, description="Consent state version the decision used.", examples=[2])
    reason: str = Field(max_length=200, description="The decision's reason (never patient data).", examples=["recorded consent"])
    override: bool = Field(default=False, description="A break-glass override was used.", examples=[False])
    via: str = Field(max_length=100, description="The kind of event that carried it.", examples=["carepath.assessment.shared.v2"])
    disclosure_event_id: Uuid | None = Field(default=None, description="The event that carried it, if sent.", examples=[None])
    decided_at: Timestamp = at_field("the decision was made")


class BreakGlassAlerted(Event):
    """Someone used an emergency override: an alert for the Caldicott guardian and team lead."""

    type_name = "audit.break-glass"
    topic = AUDIT

    patient_id: Uuid = patient_id_field()
    override_id: Uuid = Field(description="The override.", examples=["9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"])
    recipient: str = Field(
        pattern=RECIPIENT_PATTERN, max_length=RECIPIENT_MAX_LENGTH, description="The team given access.", examples=["ward:belfast"]
    )
    staff_id: str = Field(max_length=STAFF_ID_MAX_LENGTH, description="Who broke the glass.", examples=["staff-0099"])
    categories: tuple[InformationCategory, ...] = Field(
        max_length=CATEGORIES, description="What it opened.", examples=[["clinical-detail"]]
    )
    expires_at: Timestamp = at_field("the override ends")
    alerted_at: Timestamp = at_field("the alert was raised")


class ConsentChangeAudited(Event):
    """A consent decision recorded or withdrawn, as the audit trail keeps it (emitted once, by the
    assessment service, which holds the record): with the consent version it produced and how
    many of the recipient's copy keys were destroyed there, making their earlier copies unreadable."""

    type_name = "audit.consent-changed"
    topic = AUDIT

    patient_id: Uuid = patient_id_field()
    consent_id: Uuid = Field(description="The decision recorded or withdrawn.", examples=["6c5b4a39-2817-4f6e-9d5c-4b3a29180716"])
    change: str = Field(
        pattern=r"^(recorded|withdrawn|copies-erased|override-ended)$",
        max_length=16,
        description="`recorded`, `withdrawn`, `copies-erased` (then `consent_id` is the erasure's id and nothing was decided), or "
        "`override-ended` (a break-glass window passed: `consent_id` is the override's, its copies no longer open).",
        examples=["withdrawn"],
    )
    recipient: str = Field(
        pattern=RECIPIENT_PATTERN + "|^everyone$",
        max_length=RECIPIENT_MAX_LENGTH,
        description="Who the decision is about.",
        examples=["ward:belfast"],
    )
    permit: bool = Field(description="The decision permitted (false: it denied).", examples=[True])
    categories: tuple[InformationCategory, ...] = Field(
        max_length=CATEGORIES, description="The categories decided.", examples=[["clinical-detail"]]
    )
    consent_version: Integer = Field(ge=0, le=MAX_INTEGER, description="The patient's consent version after the change.", examples=[3])
    keys_destroyed: Integer = Field(
        ge=0, le=MAX_INTEGER, description="Copy keys for this recipient destroyed by the change.", examples=[1]
    )
    changed_at: Timestamp = at_field("the change was applied")


class OperatorReadAudited(Event):
    """An operator read a patient's clinical content from a service's database (`carepath copies`,
    `carepath assessment diff`): who, why and what. Recorded before the content is shown."""

    type_name = "audit.operator-read"
    topic = AUDIT

    patient_id: Uuid = patient_id_field()
    operator: str = Field(
        pattern=r"^[A-Za-z0-9._@-]{1,64}$", max_length=64,
        description="Who read it: CAREPATH_OPERATOR, else the login name.", examples=["j.smith"],
    )
    login: str | None = Field(default=None, max_length=64, description="The login name of the account that ran the command.",
                              examples=["jsmith"])
    reason: str = Field(min_length=3, max_length=200, description="Why, as the operator gave it (--reason).",
                        examples=["INC-4411: the ward reports a copy it cannot open"])
    read: str = Field(max_length=100, description="What was read.", examples=["copies delivered to ward:belfast"])
    service: str = Field(pattern=r"^(assessment|discharge)$", max_length=16, description="Whose database it was read from.",
                         examples=["assessment"])
    read_at: Timestamp = at_field("it was read")


OPERATOR_PATTERN = r"^[A-Za-z0-9._@-]{1,64}$"


class DeadLetterRedriven(Event):
    """An operator put a dead-lettered record back on the topic it came from (`carepath
    deadletters redrive`): who, why, which one. Recorded before the record is sent; the services
    handle a redriven event once, however often it is redriven (their inbox knows its id)."""

    type_name = "audit.dead-letter-redriven"
    topic = AUDIT

    redrive_id: Uuid = Field(description="This redrive; the redriven record carries it (`carepath_redrive_id`).",
                             examples=["3f2e1d0c-9b8a-4766-a554-433221100fed"])
    patient_id: Uuid | None = Field(default=None, description="The patient, when the record names one (its `ce_subject`).",
                                    examples=["5b0e8a52-6f4c-4c4e-9a53-0e6f2a1d7c11"])
    operator: str = Field(pattern=OPERATOR_PATTERN, max_length=64, description="Who redrove it: CAREPATH_OPERATOR, else the login name.",
                          examples=["j.smith"])
    login: str | None = Field(default=None, max_length=64, description="The login name of the account that ran the command.",
                              examples=["jsmith"])
    reason: str = Field(min_length=3, max_length=200, description="Why, as the operator gave it (--reason).",
                        examples=["INC-4412: the GP system resent with the referral id fixed"])
    dead_letter: str = Field(pattern=r"^[0-9]{1,6}:[0-9]{1,19}$", max_length=26,
                             description="Where the dead letter sits on the dead-letter topic: partition:offset.", examples=["2:118"])
    to_topic: str = Field(pattern=r"^[a-z0-9._-]{1,200}$", max_length=200, description="The topic it was put back on.",
                          examples=["carepath.referral.inbound"])
    event_type: str | None = Field(default=None, pattern=r"^carepath\.[a-z0-9.-]{1,100}\.v[0-9]{1,4}$", max_length=120,
                                   description="Its CloudEvents type, when it had a known one.", examples=["carepath.referral.submitted.v1"])
    event_id: Uuid | None = Field(default=None, description="Its CloudEvents id, when it had one.",
                                  examples=["1b4e28ba-2fa1-11d2-883f-0016d3cca427"])
    failed_with: str = Field(max_length=300, description="Why it was dead-lettered, as the consumer said.",
                             examples=["rejected: no open episode for this patient"])
    redriven_at: Timestamp = at_field("it was redriven")

    @property
    def key(self) -> str:
        """The patient's id when known, so the patient's audit trail shows it; else the redrive's."""
        return str(self.patient_id or self.redrive_id)


class BoardViewAudited(Event):
    """A member of staff saw a patient's row on a team's board (or was refused it by consent):
    who, which team's board, which list, and what the consent decision let them see. Recorded in
    the transaction that reads the board, before the page is served."""

    type_name = "audit.board-view"
    topic = AUDIT

    patient_id: Uuid = patient_id_field()
    viewer: str = Field(pattern=OPERATOR_PATTERN, max_length=64, description="Who looked: their sign-in name.", examples=["j.smith"])
    team: str = Field(pattern=TEAM_PATTERN, max_length=TEAM_MAX_LENGTH, description="Whose board it was.", examples=["htcr:belfast"])
    list_name: str = Field(pattern=r"^[a-z -]{1,40}$", max_length=40, description="The list the row is on.",
                           examples=["waiting for assessment"])
    disclosed: tuple[InformationCategory, ...] = Field(max_length=CATEGORIES, description="Categories the row showed.",
                                                       examples=[["risk"]])
    denied: tuple[InformationCategory, ...] = Field(max_length=CATEGORIES, description="Categories withheld.", examples=[[]])
    consent_version: Integer = Field(ge=0, le=MAX_INTEGER, description="Consent state version the decision used.", examples=[0])
    reason: str = Field(max_length=200, description="The decision's reason (never patient data).",
                        examples=["default: minimum necessary for direct care"])
    viewed_at: Timestamp = at_field("the board was read")
