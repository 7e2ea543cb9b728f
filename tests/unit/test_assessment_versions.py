"""The assessment that follows the patient: versions, diffs, gatekeeping and what each team sees."""

from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts import AssessmentSections, AssessmentSubmitted, AssessmentUpdated, InformationCategory, Pathway, SectionName, Trust
from services.assessment import domain
from services.assessment.domain import Version
from shared.privacy.consent import ConsentState
from tests.factories import NOW

RISK_V1 = {
    "to_self": "medium",
    "to_others": "low",
    "from_others": "none",
    "safeguarding_children": False,
    "safeguarding_adults": False,
    "details": "Thoughts of self-harm, no plan.",
    "risk_plan": "Daily visits.",
}
HISTORY = {"summary": "One previous episode.", "previous_admissions": 0, "previous_home_treatment_episodes": 1}
MEDICATION = {"items": [{"name": "Sertraline", "dose": "100 mg", "frequency": "daily"}], "adherence_concerns": None}


def test_a_first_assessment_is_version_one_with_every_section_given() -> None:
    incoming = {SectionName.RISK: RISK_V1, SectionName.MENTAL_HEALTH_HISTORY: HISTORY}
    assert domain.changed({}, incoming) == incoming


def test_an_update_carries_only_the_sections_that_changed() -> None:
    """Resending an unchanged section adds nothing to the new version."""
    state = domain.current([Version(1, {SectionName.RISK: RISK_V1, SectionName.MENTAL_HEALTH_HISTORY: HISTORY})])
    risk_v2 = RISK_V1 | {"to_self": "high", "risk_plan": "Twice-daily visits."}
    changes = domain.changed(state, {SectionName.RISK: risk_v2, SectionName.MENTAL_HEALTH_HISTORY: HISTORY})
    assert changes == {SectionName.RISK: risk_v2}


def test_the_current_assessment_is_the_latest_of_each_section() -> None:
    versions = [
        Version(1, {SectionName.RISK: RISK_V1, SectionName.MEDICATION: MEDICATION}),
        Version(2, {SectionName.RISK: RISK_V1 | {"to_self": "high"}}),
    ]
    state = domain.current(versions)
    assert state[SectionName.RISK]["to_self"] == "high" and state[SectionName.MEDICATION] == MEDICATION
    assert domain.as_of(versions, 1)[SectionName.RISK]["to_self"] == "medium"


def test_the_diff_names_exactly_the_changed_fields() -> None:
    v1 = {SectionName.RISK: RISK_V1, SectionName.MEDICATION: MEDICATION}
    v2 = {SectionName.RISK: RISK_V1 | {"to_self": "high", "risk_plan": "Twice-daily visits."}, SectionName.MEDICATION: MEDICATION}
    changes = domain.diff(v1, v2)
    assert [c.path for c in changes] == ["risk.risk_plan", "risk.to_self"]
    assert (changes[1].before, changes[1].after) == ("medium", "high")


def test_the_diff_shows_added_sections_and_list_items() -> None:
    more = {"items": MEDICATION["items"] + [{"name": "Zopiclone", "dose": "7.5 mg", "frequency": "at night"}]}
    changes = domain.diff({SectionName.MEDICATION: MEDICATION}, {SectionName.MEDICATION: MEDICATION | more, SectionName.RISK: RISK_V1})
    paths = [c.path for c in changes]
    assert "medication.items[1].name" in paths and "risk.to_self" in paths
    assert "medication.items[0].name" not in paths


def submission(outcome: Pathway, in_person: bool, reason: str | None = None) -> AssessmentSubmitted:
    return AssessmentSubmitted(
        assessment_id=uuid4(),
        patient_id=uuid4(),
        episode_id=uuid4(),
        outcome=outcome,
        outcome_reason="clinical text",
        assessed_by="staff-1",
        assessed_at=NOW,
        htcr_assessed_in_person=in_person,
        not_in_person_reason=reason,
    )


def test_an_admission_without_in_person_gatekeeping_must_say_why() -> None:
    """The contract refuses it (as its published schema does), so no service ever records one."""
    with pytest.raises(ValidationError, match="in-person HTCR assessment"):
        submission(Pathway.INPATIENT_ADMISSION, in_person=False)
    submission(Pathway.INPATIENT_ADMISSION, in_person=False, reason="Admitted from custody.")
    submission(Pathway.INPATIENT_ADMISSION, in_person=True)


@pytest.mark.parametrize(
    ("outcome", "team"),
    [(Pathway.HOME_TREATMENT, "htcr:belfast"), (Pathway.INPATIENT_ADMISSION, "ward:belfast"), (Pathway.CMHT, "cmht:belfast"), (Pathway.SIGNPOSTING, None)],
)
def test_the_outcome_decides_which_team_takes_over(outcome: Pathway, team: str | None) -> None:
    assert domain.team_taking_over(outcome, Trust.BELFAST) == team


def test_a_team_receives_only_the_sections_its_consent_decision_permits() -> None:
    """Without recorded consent a ward gets risk and medication but never the clinical history."""
    sections = {SectionName.RISK: RISK_V1, SectionName.MEDICATION: MEDICATION, SectionName.MENTAL_HEALTH_HISTORY: HISTORY}
    disclosure = domain.share(
        "ward:belfast", sections, reason="joined", version=3, patient_id=uuid4(), episode_id=uuid4(), consent_state=ConsentState(), now=NOW
    )
    shared = disclosure.event
    assert shared is not None and InformationCategory.CLINICAL_DETAIL in disclosure.decision.denied
    assert set(shared.content.present()) == {SectionName.RISK, SectionName.MEDICATION}
    assert shared.fields["withheld_sections"] == (SectionName.MENTAL_HEALTH_HISTORY,)
    assert InformationCategory.CLINICAL_DETAIL not in disclosure.disclosed
    assert "One previous episode" not in shared.content.model_dump_json()


def test_nothing_is_sent_when_a_team_may_see_none_of_the_changes_but_the_denial_is_kept() -> None:
    disclosure = domain.share(
        "ward:belfast", {SectionName.MENTAL_HEALTH_HISTORY: HISTORY}, reason="updated", version=2,
        patient_id=uuid4(), episode_id=uuid4(), consent_state=ConsentState(), now=NOW,
    )
    assert disclosure.event is None and disclosure.disclosed == frozenset()
    assert disclosure.decision.denied == {InformationCategory.CLINICAL_DETAIL}


def test_versions_are_numbered_per_patient_and_carry_only_what_changed() -> None:
    first = domain.next_version([], {SectionName.RISK: RISK_V1, SectionName.MEDICATION: MEDICATION})
    assert first.number == 1 and set(first.changes) == {SectionName.RISK, SectionName.MEDICATION}
    versions = [Version(1, first.changes)]
    assert domain.next_version(versions, {SectionName.RISK: RISK_V1}) is None, "nothing changed: no version"
    second = domain.next_version(versions, {SectionName.RISK: RISK_V1 | {"to_self": "high"}, SectionName.MEDICATION: MEDICATION})
    assert second.number == 2 and list(second.changes) == [SectionName.RISK]
    assert second.state[SectionName.MEDICATION] == MEDICATION and not second.carers_to_tell
    assert domain.latest(versions) == (1, first.changes) and domain.latest([]) == (None, {})


def test_carers_are_told_again_only_when_the_crisis_plan_or_the_carers_change() -> None:
    plan = {"warning_signs": ["stops eating"], "what_to_do": "Call the team.", "who_to_contact": ["HTCR duty line"]}
    assert domain.next_version([], {SectionName.CRISIS_PLAN: plan}).carers_to_tell
    assert not domain.next_version([], {SectionName.MEDICATION: MEDICATION}).carers_to_tell


def test_an_assessment_and_an_update_bring_the_same_kind_of_change_naming_their_own_record_and_author() -> None:
    patient, episode = uuid4(), uuid4()
    submitted = AssessmentSubmitted(
        assessment_id=uuid4(), patient_id=patient, episode_id=episode, outcome=Pathway.HOME_TREATMENT,
        outcome_reason="clinical text", assessed_by="staff-1", assessed_at=NOW,
        sections=AssessmentSections.model_validate({"risk": RISK_V1}),
    )
    update = AssessmentUpdated(
        update_id=uuid4(), patient_id=patient, episode_id=episode, updated_by="staff-2", updated_at=NOW,
        sections=AssessmentSections.model_validate({"medication": MEDICATION}),
    )
    first, second = domain.Change.submitted(submitted), domain.Change.updated(update)
    assert (first.source_id, first.by, first.at) == (submitted.assessment_id, "staff-1", NOW)
    assert (second.source_id, second.by, second.episode_id) == (update.update_id, "staff-2", episode)
    assert set(first.sections) == {SectionName.RISK} and set(second.sections) == {SectionName.MEDICATION}, "absent sections bring nothing"
