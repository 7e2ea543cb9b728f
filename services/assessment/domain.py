"""Assessment rules, pure: versions that carry only what changed, diffs between any two
versions, gatekeeping of admissions, which team takes over, and what each team may see.

One assessment follows the patient: versions are numbered per patient across episodes, so a
known patient's new episode starts from the latest assessment, not a blank form.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from contracts import (
    SECTION_CATEGORY,
    AssessmentCompleted,
    AssessmentSections,
    AssessmentShared,
    AssessmentSubmitted,
    CarerInformation,
    CarerInformationShared,
    InformationCategory,
    Pathway,
    Purpose,
    SectionName,
    Skill,
    Trust,
)
from shared.privacy import consent
from shared.privacy.disclosure import Copy, Disclosure
from shared.runtime.errors import InvalidEvent, NotYetKnown

Sections = dict[SectionName, dict[str, Any]]

TEAM_FOR_PATHWAY = {
    Pathway.HOME_TREATMENT: "htcr",
    Pathway.INPATIENT_ADMISSION: "ward",
    Pathway.CMHT: "cmht",
    Pathway.RECOVERY_TEAM: "recovery-team",
}


@dataclass(frozen=True)
class KnownEpisode:
    episode_id: UUID
    patient_id: UUID
    trust: Trust | None


@dataclass(frozen=True)
class Version:
    number: int
    sections: Sections  # only the sections changed in this version


@dataclass(frozen=True)
class FieldChange:
    path: str  # section.field[.index...]
    before: Any
    after: Any


def current(versions: list[Version]) -> Sections:
    """The assessment as it stands after these versions (later versions win, section by section)."""
    state: Sections = {}
    for version in sorted(versions, key=lambda v: v.number):
        state.update(version.sections)
    return state


def as_of(versions: list[Version], number: int) -> Sections:
    return current([v for v in versions if v.number <= number])


def changed(state: Sections, incoming: Sections) -> Sections:
    """The incoming sections that differ from the current state: all a new version carries."""
    return {name: value for name, value in incoming.items() if state.get(name) != value}


def flatten(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return {path: v for key, item in value.items() for path, v in flatten(item, f"{prefix}.{key}").items()} or {prefix: {}}
    if isinstance(value, list):
        return {path: v for i, item in enumerate(value) for path, v in flatten(item, f"{prefix}[{i}]").items()} or {prefix: []}
    return {prefix: value}


def diff(before: Sections, after: Sections) -> list[FieldChange]:
    """Every field that differs between two states, by path, in order."""
    old = {path: v for name, section in before.items() for path, v in flatten(section, name.value).items()}
    new = {path: v for name, section in after.items() for path, v in flatten(section, name.value).items()}
    missing = object()
    return [
        FieldChange(path, None if old.get(path, missing) is missing else old[path], new.get(path))
        for path in sorted(old.keys() | new.keys())
        if old.get(path, missing) != new.get(path, missing)
    ]


def check_episode(episode: KnownEpisode | None, patient_id: UUID) -> KnownEpisode:
    """The episode an event names, once its acceptance has arrived (it comes on another topic,
    which Kafka does not order with this one: until then the event waits); another patient's
    episode is refused."""
    if episode is None:
        raise NotYetKnown("the referral accepting this episode has not arrived yet")
    if episode.patient_id != patient_id:
        raise InvalidEvent("the episode belongs to a different patient")
    return episode


def required_skills(state: Sections) -> tuple[Skill, ...]:
    """What visiting staff need to be able to do, derived so scheduling never sees the diagnosis."""
    diagnoses = state.get(SectionName.DIAGNOSES, {})
    communication = state.get(SectionName.COMMUNICATION_NEEDS, {})
    skills = []
    if diagnoses.get("learning_disability"):
        skills.append(Skill.LEARNING_DISABILITY)
    if diagnoses.get("personality_disorder"):
        skills.append(Skill.PERSONALITY_DISORDER)
    if communication.get("needs") or communication.get("accessible_information") or communication.get("interpreter_language"):
        skills.append(Skill.COMMUNICATION_NEEDS)
    return tuple(skills)


def completed(
    submitted: AssessmentSubmitted, version: int | None, trust: Trust | None = None, skills: tuple[Skill, ...] = ()
) -> AssessmentCompleted:
    return AssessmentCompleted(
        assessment_id=submitted.assessment_id,
        patient_id=submitted.patient_id,
        episode_id=submitted.episode_id,
        outcome=submitted.outcome,
        assessed_at=submitted.assessed_at,
        assessment_version=version,
        htcr_assessed_in_person=submitted.htcr_assessed_in_person,
        trust=trust,
        required_skills=skills,
    )


def team_taking_over(outcome: Pathway, trust: Trust | None) -> str | None:
    kind = TEAM_FOR_PATHWAY.get(outcome)
    return f"{kind}:{trust.value}" if kind and trust else None


def share(
    recipient: str,
    sections: Sections,
    *,
    reason: str,
    version: int,
    patient_id: UUID,
    episode_id: UUID,
    consent_state: consent.ConsentState,
    now: datetime,
) -> Disclosure:
    """The sections this team may see, as an event addressed to it (none if it may see none of
    them), with the decision behind it for the audit trail."""
    decision = consent.decide(
        consent_state, recipient, Purpose.DIRECT_CARE, {SECTION_CATEGORY[name] for name in sections}, now
    )
    permitted = {name: value for name, value in sections.items() if decision.allows(SECTION_CATEGORY[name])}
    disclosed = frozenset(SECTION_CATEGORY[name] for name in permitted)
    if not permitted:
        return Disclosure(recipient, Purpose.DIRECT_CARE, decision, disclosed, None)
    copy = Copy(
        AssessmentShared,
        AssessmentSections.model_validate({name.value: value for name, value in permitted.items()}),
        {
            "episode_id": episode_id,
            "assessment_version": version,
            "reason": reason,
            "withheld_sections": tuple(sorted(name for name in sections if name not in permitted)),
            "shared_at": now,
        },
    )
    return Disclosure(recipient, Purpose.DIRECT_CARE, decision, disclosed, copy)


def carer_information(
    state: Sections, patient_id: UUID, episode_id: UUID, consent_state: consent.ConsentState, now: datetime
) -> list[Disclosure]:
    """For each named carer: the signs of relapse and how to help, from the crisis plan — general
    information, sent only if the carer's consent decision permits it."""
    plan = state.get(SectionName.CRISIS_PLAN)
    carers = state.get(SectionName.FAMILY_AND_CARERS, {}).get("carers", [])
    if not plan:
        return []
    disclosures = []
    for carer in carers:
        recipient = f"carer:{carer['carer_id']}"
        decision = consent.decide(consent_state, recipient, Purpose.CARER_SUPPORT, {InformationCategory.CARER_GENERAL_INFORMATION}, now)
        information = CarerInformation(signs_of_relapse=tuple(plan.get("warning_signs", ())), how_to_help=plan["what_to_do"])
        copy = Copy(CarerInformationShared, information, {"episode_id": episode_id, "shared_at": now})
        disclosures.append(Disclosure(recipient, Purpose.CARER_SUPPORT, decision, decision.permitted, copy if decision.permitted else None))
    return disclosures
