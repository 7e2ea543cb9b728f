"""The patient's and carer's voice: their answers to carepath's feedback invitation, and each
team's totals.

A Trust's feedback form sends each person's answers as `feedback.received`: a few fixed questions
answered yes, partly or no, and, if they wish, a few words of their own. The words stay in the
discharge service, sealed; what leaves it is a team's totals for a month, and only once enough
people have answered that no one person's answers can be picked out of them.
"""

from enum import StrEnum

from contracts.base import (
    MAX_INTEGER,
    SENSITIVE,
    BaseModel,
    ConfigDict,
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
)
from contracts.topics import DISCHARGE_EVENTS, FEEDBACK_INBOUND

FREE_TEXT = 2000  # a few lines: what the form's box takes


class Answer(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class Question(StrEnum):
    """The fixed questions, as the totals name them (each a field of `FeedbackAnswers`)."""

    LISTENED_TO = "listened-to"
    INVOLVED_IN_DECISIONS = "involved-in-decisions"
    KNEW_WHO_WAS_COMING = "knew-who-was-coming"
    TOLD_BEFORE_DISCHARGE = "told-before-discharge"
    CARER_INCLUDED = "carer-included"

    @property
    def field(self) -> str:
        return self.value.replace("-", "_")


def _answer(question: str) -> object:
    return Field(default=None, description=f"{question} Absent when not answered, or it does not apply.", examples=["yes"])


class FeedbackAnswers(BaseModel):
    """The fixed questions, each answered yes, partly or no."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    listened_to: Answer | None = _answer("Did the team listen to you?")
    involved_in_decisions: Answer | None = _answer("Were you involved in decisions about the care?")
    knew_who_was_coming: Answer | None = _answer("Did you know who was coming to each visit, and when?")
    told_before_discharge: Answer | None = _answer("Were you told in good time before home treatment ended?")
    carer_included: Answer | None = _answer("Were the family or carers included as the patient wished (a carer: were you)?")

    def of(self, question: Question) -> Answer | None:
        return getattr(self, question.field)


class FeedbackReceived(Event):
    """A patient or carer answered the feedback invitation (sent after discharge, and midway
    through a long episode). Written by the Trust's feedback form; read only by the discharge
    service, which keeps the words sealed and publishes only the team's totals."""

    type_name = "feedback.received"
    topic = FEEDBACK_INBOUND

    feedback_id: Uuid = Field(
        description="The form's id for this response: the same response sent again is counted once.",
        examples=["3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c"],
    )
    patient_id: Uuid = patient_id_field()
    episode_id: Uuid = episode_id_field()
    respondent: str = Field(
        pattern=r"^(patient|carer:[A-Za-z0-9-]{1,64})$",
        max_length=70,
        description="Who answered: the patient, or a carer as carepath addresses them (carer:<id>).",
        examples=["patient"],
    )
    answers: FeedbackAnswers = Field(default_factory=FeedbackAnswers, description="The fixed questions' answers.",
                                     examples=[{"listened_to": "yes", "knew_who_was_coming": "partly"}])
    free_text: str | None = Field(
        default=None,
        max_length=FREE_TEXT,
        description="Anything else they wanted to say, in their own words: kept sealed in the discharge service, never published.",
        examples=["The nurses were kind but I never knew who was coming."],
        json_schema_extra=SENSITIVE,
    )
    received_at: Timestamp = at_field("the form was sent")


class QuestionTotals(BaseModel):
    """One question's answers across the responses counted; each count withheld (null) while
    fewer than the minimum answered this question."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question: Question = Field(description="The question.", examples=["listened-to"])
    answered: Integer = Field(ge=0, le=MAX_INTEGER, description="Responses counted that answered it.", examples=[12])
    yes: optional_integer(0) = Field(default=None, description="Answered yes (null: withheld).", examples=[9])
    partly: optional_integer(0) = Field(default=None, description="Answered partly (null: withheld).", examples=[2])
    no: optional_integer(0) = Field(default=None, description="Answered no (null: withheld).", examples=[1])


class TeamFeedbackSummarised(Event):
    """A team's feedback totals for a month, published by the discharge service each time an
    answer arrives: never a person's words, never who answered. The counts cover the responses
    in steps of the minimum (5): none while fewer than 5 have answered, then the first 5, 10, ...
    in the order they arrived, so comparing one summary with the next never shows one person's answers."""

    type_name = "feedback.summarised"
    topic = DISCHARGE_EVENTS

    team: str = Field(pattern=r"^htcr:[a-z-]{1,32}$", max_length=40, description="The team the feedback is about.",
                      examples=["htcr:belfast"])
    trust: Trust = Field(description="The team's Trust.", examples=["belfast"])
    period: str = Field(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", max_length=7,
                        description="The month the answers were received in (Europe/Belfast), YYYY-MM.", examples=["2026-12"])
    responses: Integer = Field(ge=0, le=MAX_INTEGER, description="Responses received for the team in the month so far.", examples=[12])
    counted: Integer = Field(
        ge=0, le=MAX_INTEGER,
        description="How many of them the totals cover: the responses rounded down to a multiple of the minimum (0 while fewer).",
        examples=[10],
    )
    minimum: Integer = Field(ge=1, le=MAX_INTEGER, description="The fewest responses (and answers to a question) that are ever counted.",
                             examples=[5])
    questions: tuple[QuestionTotals, ...] = Field(
        default=(), max_length=len(Question), description="Each question's totals over the responses counted (none while counted is 0).",
        examples=[[{"question": "listened-to", "answered": 10, "yes": 8, "partly": 1, "no": 1}]],
    )
    summarised_at: Timestamp = at_field("the totals were worked out")

    @property
    def key(self) -> str:
        return self.team
