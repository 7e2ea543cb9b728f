"""The comprehensive assessment as typed sections: the ~18-page form, structured.

Every section forbids fields it does not know, so a typo or an unknown section from a Trust
system is rejected (dead-lettered), never silently dropped. Each section belongs to one
category of information, which is what consent decides about.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from contracts.base import SENSITIVE, Integer, Timestamp, bounded_str
from contracts.consent import InformationCategory as C


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# Bounds keep the largest possible whole assessment, sealed and base64-encoded inside an
# `assessment.shared` copy, under the Kafka message limit (see tests/unit/test_contract_strictness.py).
NARRATIVE = 4000  # a clinician's account under one heading
NOTE = 2000  # a shorter account: a family's composition, concerns about medication
NAME = 200
PHRASE = 100  # one item of a list, in a few words ("stops eating")
CARER_ID = r"^[A-Za-z0-9-]{1,64}$"


def text(description: str, example: str, max_length: int = NARRATIVE) -> object:
    return Field(min_length=1, max_length=max_length, description=description, examples=[example], json_schema_extra=SENSITIVE)


def phrases(description: str, example: list[str], max_items: int = 20) -> object:
    return Field(default=(), max_length=max_items, description=description, examples=[example])


class RiskLevel(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class PresentingSituation(_Section):
    summary: str = text("What is happening now, in the clinician's words.", "Three weeks of low mood, not sleeping.")
    triggers: tuple[bounded_str(PHRASE), ...] = phrases("What brought the crisis on.", ["bereavement"])


class Risk(_Section):
    to_self: RiskLevel = Field(description="Risk to self.", examples=["medium"])
    to_others: RiskLevel = Field(description="Risk to others.", examples=["low"])
    from_others: RiskLevel = Field(description="Risk from others (exploitation, abuse).", examples=["none"])
    safeguarding_children: bool = Field(description="Children's safeguarding concern raised.", examples=[False])
    safeguarding_adults: bool = Field(description="Adult safeguarding concern raised.", examples=[False])
    details: str = text("The risk formulation.", "Thoughts of self-harm without plan; protective factors: family.")
    risk_plan: str = text("How the risks are managed.", "Daily visits; remove medication stockpile with carer.")


class MentalHealthHistory(_Section):
    summary: str = text("Past mental health history.", "One previous episode of depression in 2019.")
    previous_admissions: Integer = Field(ge=0, le=999, description="Previous inpatient admissions.", examples=[0])
    previous_home_treatment_episodes: Integer = Field(ge=0, le=999, description="Previous HTCR episodes.", examples=[1])


class Condition(_Section):
    name: str = text("The diagnosis or condition.", "Recurrent depressive disorder", max_length=NAME)
    code: str | None = Field(default=None, max_length=16, description="ICD-10 code, if known.", examples=["F33.1"])


class Diagnoses(_Section):
    conditions: tuple[Condition, ...] = Field(default=(), max_length=20, description="Diagnoses and conditions.", examples=[[]])
    personality_disorder: bool = Field(description="A personality disorder is diagnosed.", examples=[False])
    learning_disability: bool = Field(description="A learning disability is recorded.", examples=[False])


class CommunicationNeeds(_Section):
    needs: tuple[bounded_str(PHRASE), ...] = phrases("How to communicate well.", ["short sentences"])
    accessible_information: tuple[bounded_str(PHRASE), ...] = phrases(
        "Accessible Information Standard needs.", ["easy read letters"]
    )
    interpreter_language: str | None = Field(
        default=None, max_length=100, description="Interpreter needed, in this language.", examples=["Polish"]
    )


class MedicationItem(_Section):
    name: str = Field(min_length=1, max_length=NAME, description="Medicine.", examples=["Sertraline"], json_schema_extra=SENSITIVE)
    dose: str = Field(min_length=1, max_length=100, description="Dose.", examples=["100 mg"], json_schema_extra=SENSITIVE)
    frequency: str = Field(min_length=1, max_length=100, description="How often.", examples=["once daily"])


class Medication(_Section):
    items: tuple[MedicationItem, ...] = Field(default=(), max_length=30, description="Current medicines.", examples=[[]])
    adherence_concerns: str | None = Field(
        default=None, max_length=NOTE, description="Concerns about taking them.", examples=["Misses doses"]
    )


class PhysicalHealth(_Section):
    summary: str = text("Physical health relevant to care.", "Type 2 diabetes, well controlled.")


class Housing(StrEnum):
    OWN_HOME = "own-home"
    RENTED = "rented"
    SUPPORTED_ACCOMMODATION = "supported-accommodation"
    REFUGE = "refuge"
    HOMELESS = "homeless"
    OTHER = "other"


class SocialCircumstances(_Section):
    housing: Housing = Field(description="Where the patient lives.", examples=["rented"])
    lives_with: str = text("Who the patient lives with.", "Partner and two children", max_length=500)
    employment: str | None = Field(default=None, max_length=500, description="Work or study.", examples=["Unemployed"])


class CarersAssessment(StrEnum):
    NOT_OFFERED = "not-offered"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Carer(_Section):
    carer_id: str = Field(pattern=CARER_ID, max_length=64, description="Id of the carer, for consent.", examples=["carer-1"])
    name: str = text("The carer's name.", "Sam Morgan", max_length=NAME)
    relationship: str = Field(min_length=1, max_length=100, description="Relationship to the patient.", examples=["partner"])
    contact: str = text("How to reach the carer.", "07700 900123", max_length=500)
    strain: RiskLevel = Field(description="The carer's own strain.", examples=["high"])
    carers_assessment: CarersAssessment = Field(description="Statutory carer's assessment.", examples=["offered"])


class FamilyAndCarers(_Section):
    composition: str = text("The family around the patient.", "Lives with partner; mother nearby.", max_length=NOTE)
    carers: tuple[Carer, ...] = Field(default=(), max_length=10, description="Each named carer.", examples=[[]])


class CollateralItem(_Section):
    from_carer_id: str | None = Field(
        default=None, pattern=CARER_ID, max_length=64, description="The carer who said it, if a carer.", examples=["carer-1"]
    )
    source: str = Field(min_length=1, max_length=NAME, description="Who said it.", examples=["partner"])
    # Shorter than a NOTE: twenty of these are the largest part of a whole sealed assessment.
    said: str = text("What they said.", "Walking the floors at night; not eating.", max_length=1500)
    recorded_at: Timestamp = Field(description="When it was recorded.", examples=["2026-11-26T09:30:00+00:00"])


class CollateralInformation(_Section):
    items: tuple[CollateralItem, ...] = Field(default=(), max_length=20, description="Information from others.", examples=[[]])


class PatientView(_Section):
    what_i_need: str = text("What the patient says they need.", "Someone to talk to in the evenings.")


class CrisisPlan(_Section):
    warning_signs: tuple[bounded_str(PHRASE), ...] = phrases("Signs of relapse.", ["stops eating"])
    what_to_do: str = text("What to do when they appear.", "Call the team; carer removes medication.")
    who_to_contact: tuple[bounded_str(PHRASE), ...] = phrases("Whom to call.", ["HTCR duty line"])


class KeyContact(_Section):
    role: str = Field(min_length=1, max_length=100, description="Who they are to the patient.", examples=["GP"])
    name: str = text("Their name.", "Dr A. Patel", max_length=NAME)
    phone: str = text("Their number.", "028 9649 6000", max_length=50)


class KeyContacts(_Section):
    contacts: tuple[KeyContact, ...] = Field(default=(), max_length=20, description="People to contact.", examples=[[]])


class SectionName(StrEnum):
    PRESENTING_SITUATION = "presenting_situation"
    RISK = "risk"
    MENTAL_HEALTH_HISTORY = "mental_health_history"
    DIAGNOSES = "diagnoses"
    COMMUNICATION_NEEDS = "communication_needs"
    MEDICATION = "medication"
    PHYSICAL_HEALTH = "physical_health"
    SOCIAL_CIRCUMSTANCES = "social_circumstances"
    FAMILY_AND_CARERS = "family_and_carers"
    COLLATERAL_INFORMATION = "collateral_information"
    PATIENT_VIEW = "patient_view"
    CRISIS_PLAN = "crisis_plan"
    KEY_CONTACTS = "key_contacts"


SECTION_CATEGORY: dict[SectionName, C] = {
    SectionName.PRESENTING_SITUATION: C.CLINICAL_DETAIL,
    SectionName.RISK: C.RISK,
    SectionName.MENTAL_HEALTH_HISTORY: C.CLINICAL_DETAIL,
    SectionName.DIAGNOSES: C.CLINICAL_DETAIL,
    SectionName.COMMUNICATION_NEEDS: C.COMMUNICATION_NEEDS,
    SectionName.MEDICATION: C.MEDICATION,
    SectionName.PHYSICAL_HEALTH: C.CLINICAL_DETAIL,
    SectionName.SOCIAL_CIRCUMSTANCES: C.CLINICAL_DETAIL,
    SectionName.FAMILY_AND_CARERS: C.CONTACT_DETAILS,
    SectionName.COLLATERAL_INFORMATION: C.CLINICAL_DETAIL,
    SectionName.PATIENT_VIEW: C.CLINICAL_DETAIL,
    SectionName.CRISIS_PLAN: C.RISK,
    SectionName.KEY_CONTACTS: C.CONTACT_DETAILS,
}


class AssessmentSections(_Section):
    """Any subset of the sections: a first assessment sends them all, an update only the changed."""

    presenting_situation: PresentingSituation | None = Field(default=None, description="Presenting situation.", examples=[None])
    risk: Risk | None = Field(default=None, description="Risk and the risk plan.", examples=[None])
    mental_health_history: MentalHealthHistory | None = Field(default=None, description="History.", examples=[None])
    diagnoses: Diagnoses | None = Field(default=None, description="Diagnoses, PD and LD.", examples=[None])
    communication_needs: CommunicationNeeds | None = Field(default=None, description="Communication needs.", examples=[None])
    medication: Medication | None = Field(default=None, description="Medication.", examples=[None])
    physical_health: PhysicalHealth | None = Field(default=None, description="Physical health.", examples=[None])
    social_circumstances: SocialCircumstances | None = Field(default=None, description="Housing and circumstances.", examples=[None])
    family_and_carers: FamilyAndCarers | None = Field(default=None, description="Family and named carers.", examples=[None])
    collateral_information: CollateralInformation | None = Field(default=None, description="What others said.", examples=[None])
    patient_view: PatientView | None = Field(default=None, description="The patient's own view.", examples=[None])
    crisis_plan: CrisisPlan | None = Field(default=None, description="Crisis and relapse plan.", examples=[None])
    key_contacts: KeyContacts | None = Field(default=None, description="Key contacts.", examples=[None])

    def present(self) -> dict[SectionName, dict]:
        """The sections given, as plain data, by name."""
        return {SectionName(name): value for name, value in self.model_dump(mode="json", exclude_none=True).items()}
