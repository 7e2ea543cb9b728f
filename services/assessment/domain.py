"""Assessment rules, pure: versions that carry only what changed, diffs between any two
versions, gatekeeping of admissions, which team takes over, and what each team may see.

One assessment follows the patient: versions are numbered per patient across episodes, so a
known patient's new episode starts from the latest assessment, not a blank form.

(About 320 lines: versions, diffs, gatekeeping and disclosure are each short, and each is read
with the others when one assessment arrives.)
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from contracts import (
    Event,
    SECTION_CATEGORY,
    AssessmentCompleted,
    AssessmentSections,
    AssessmentShared,
    AssessmentSubmitted,
    AssessmentUpdated,
    AssessmentVersionRecorded,
    BreakGlassAlerted,
    BreakGlassRequested,
    CarerInformation,
    CarerInformationShared,
    ConsentChangeAudited,
    InformationCategory,
    Pathway,
    Purpose,
    NotificationSent,
    Recipient,
    ReferralSource,
    SectionName,
    SharedCopiesErased,
    Skill,
    TeamKind,
    Trust,
)
from contracts.assessment_sections import RiskLevel
from shared.privacy import consent
from shared.privacy.disclosure import Copy, Disclosure
from shared.runtime.errors import named_episode

Sections = dict[SectionName, dict[str, Any]]

TEAM_FOR_PATHWAY = {
    Pathway.HOME_TREATMENT: TeamKind.HTCR,
    Pathway.INPATIENT_ADMISSION: TeamKind.WARD,
    Pathway.CMHT: TeamKind.CMHT,
    Pathway.RECOVERY_TEAM: TeamKind.RECOVERY_TEAM,
}
# What a carer is given comes from these sections: a change in either re-sends it.
CARER_SECTIONS = frozenset({SectionName.CRISIS_PLAN, SectionName.FAMILY_AND_CARERS})


@dataclass(frozen=True)
class KnownEpisode:
    episode_id: UUID
    patient_id: UUID
    trust: Trust | None
    referral_source: ReferralSource | None = None

    @property
    def step_down(self) -> bool:
        """Referred by an inpatient ward: the patient is coming home from it."""
        return self.referral_source is ReferralSource.INPATIENT_WARD


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


def latest(versions: list[Version]) -> tuple[int | None, Sections]:
    """The latest version's number (None before the first) and the assessment as it stands."""
    return (max(v.number for v in versions) if versions else None), current(versions)


@dataclass(frozen=True)
class Change:
    """What an assessment or an update brings to the patient's assessment: its sections, who
    wrote them and when, and the id of the event's own record (the assessment or the update)."""

    patient_id: UUID
    episode_id: UUID
    source_id: UUID
    sections: Sections
    by: str
    at: datetime

    @classmethod
    def submitted(cls, submitted: AssessmentSubmitted) -> "Change":
        return cls(
            submitted.patient_id, submitted.episode_id, submitted.assessment_id, submitted.sections.present(),
            submitted.assessed_by, submitted.assessed_at,
        )

    @classmethod
    def updated(cls, update: AssessmentUpdated) -> "Change":
        return cls(update.patient_id, update.episode_id, update.update_id, update.sections.present(), update.updated_by, update.updated_at)


@dataclass(frozen=True)
class NewVersion:
    """What an incoming assessment or update adds: the next number, only the sections that
    changed, and the assessment as it stands with them."""

    number: int
    changes: Sections
    state: Sections

    @property
    def carers_to_tell(self) -> bool:
        """What carers are given changed (the crisis plan, or who the carers are)."""
        return bool(CARER_SECTIONS & self.changes.keys())

    def recorded(self, patient_id: UUID, episode_id: UUID, at: datetime) -> AssessmentVersionRecorded:
        return AssessmentVersionRecorded(
            patient_id=patient_id,
            episode_id=episode_id,
            assessment_version=self.number,
            changed_sections=tuple(self.changes),
            recorded_at=at,
            required_skills=required_skills(self.state),
            easy_read=easy_read(self.state),
        )


def next_version(versions: list[Version], incoming: Sections) -> NewVersion | None:
    """Versions are numbered per patient, across episodes; nothing changed makes no version."""
    number, before = latest(versions)
    changes = changed(before, incoming)
    if not changes:
        return None
    return NewVersion((number or 0) + 1, changes, before | changes)


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
    return named_episode(episode, patient_id, "the referral accepting this episode has not arrived yet")


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


def easy_read(state: Sections) -> bool:
    """The patient's messages are sent in easy read where the assessment records a learning
    disability or a communication need (how to communicate well, an accessible-information need):
    derived here, so the services writing to the patient never see which. An interpreter alone
    is a need for another language, not for easier English: it does not switch easy read on."""
    communication = state.get(SectionName.COMMUNICATION_NEEDS, {})
    return bool(state.get(SectionName.DIAGNOSES, {}).get("learning_disability")
                or communication.get("needs") or communication.get("accessible_information"))


def visits_a_day_at_first(state: Sections) -> int:
    """Two visits a day on the first days where the risk to self is high or a carer's strain is
    high (CORE fidelity: up to twice a day for those who need it), else one; derived here so
    scheduling is told how often to visit, never the risk itself."""
    risk = state.get(SectionName.RISK, {})
    carers = state.get(SectionName.FAMILY_AND_CARERS, {}).get("carers", ())
    high = RiskLevel.HIGH.value
    return 2 if risk.get("to_self") == high or any(carer.get("strain") == high for carer in carers) else 1


def completed(
    submitted: AssessmentSubmitted, version: int | None, episode: KnownEpisode | None = None, state: Sections | None = None,
) -> AssessmentCompleted:
    state = state or {}
    return AssessmentCompleted(
        assessment_id=submitted.assessment_id,
        patient_id=submitted.patient_id,
        episode_id=submitted.episode_id,
        outcome=submitted.outcome,
        assessed_at=submitted.assessed_at,
        assessment_version=version,
        htcr_assessed_in_person=submitted.htcr_assessed_in_person,
        trust=episode.trust if episode else None,
        required_skills=required_skills(state),
        step_down=episode.step_down if episode else False,
        visits_a_day_at_first=visits_a_day_at_first(state),
        easy_read=easy_read(state),
    )


def team_taking_over(outcome: Pathway, trust: Trust | None) -> Recipient | None:
    kind = TEAM_FOR_PATHWAY.get(outcome)
    return Recipient.team(kind, trust) if kind and trust else None


def htcr(trust: Trust) -> Recipient:
    """The home treatment team of the Trust that accepted the referral."""
    return Recipient.team(TeamKind.HTCR, trust)


def break_glass_alert(override: BreakGlassRequested, episode_id: UUID | None, ends: datetime, now: datetime) -> list[Event]:
    """Every use of break glass is alerted on the audit trail and told to the lead of the team it
    opened the record to (of the patient's episode, if there is one), with when it ends by this
    service's clock."""
    opened = ", ".join(category.value for category in override.categories)
    alert: list[Event] = [
        BreakGlassAlerted(
            patient_id=override.patient_id,
            override_id=override.override_id,
            recipient=override.recipient,
            staff_id=override.staff_id,
            categories=override.categories,
            expires_at=ends,
            alerted_at=now,
        ),
    ]
    if episode_id is None:
        return alert
    return [
        *alert,
        NotificationSent(
            recipient=Recipient.team_lead(override.recipient),
            patient_id=override.patient_id,
            episode_id=episode_id,
            kind="break-glass",
            text=(f"Break glass: {override.staff_id} opened a patient's record to {override.recipient} ({opened}) "
                  f"until {ends:%H:%M} UTC. The reason is on the audit trail; what it disclosed stops opening when it ends."),
            sent_at=now,
        ),
    ]


def consent_changed(
    state: consent.ConsentState, consent_id: UUID, change: str, patient_id: UUID, destroyed: int, now: datetime
) -> ConsentChangeAudited | None:
    """The audit of a change to one decision, as the decision now stands (None: a withdrawal of
    a decision never recorded here, which changes nothing)."""
    decision = next((d for d in state.decisions if d.consent_id == consent_id), None)
    if decision is None:
        return None
    return ConsentChangeAudited(
        patient_id=patient_id,
        consent_id=consent_id,
        change=change,
        recipient=decision.recipient,
        permit=decision.permit,
        categories=tuple(sorted(decision.categories)),
        consent_version=state.version,
        keys_destroyed=destroyed,
        changed_at=now,
    )


def copies_erased(erasure: SharedCopiesErased, state: consent.ConsentState, destroyed: int, now: datetime) -> ConsentChangeAudited:
    """The audit of an erasure: nothing is re-sent, as the patient asked that those copies be gone."""
    return ConsentChangeAudited(
        patient_id=erasure.patient_id,
        consent_id=erasure.erasure_id,
        change="copies-erased",
        recipient=erasure.recipient or "everyone",
        permit=False,
        categories=(),
        consent_version=state.version,
        keys_destroyed=destroyed,
        changed_at=now,
    )


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
        recipient = Recipient.carer(carer["carer_id"])
        decision = consent.decide(consent_state, recipient, Purpose.CARER_SUPPORT, {InformationCategory.CARER_GENERAL_INFORMATION}, now)
        information = CarerInformation(signs_of_relapse=tuple(plan.get("warning_signs", ())), how_to_help=plan["what_to_do"])
        copy = Copy(CarerInformationShared, information, {"episode_id": episode_id, "shared_at": now})
        disclosures.append(Disclosure(recipient, Purpose.CARER_SUPPORT, decision, decision.permitted, copy if decision.permitted else None))
    return disclosures
