"""The assessment service on the real broker and databases: one assessment that follows the
patient, updated never re-taken, shared with each caring team only as consent allows."""


import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from uuid import uuid4

from contracts import (
    AssessmentCompleted,
    OperatorReadAudited,
    AssessmentShared,
    AssessmentStarted,
    AssessmentSubmitted,
    AssessmentUpdated,
    AssessmentVersionRecorded,
    Pathway,
    ReferralAccepted,
    SectionName,
    VisitScheduled,
)
from shared.runtime.codec import encode
from tools.journey import Journey
from tests.acceptance.deployment import ROOT, Deployment

HISTORY_TEXT = f"History-{uuid4().hex[:8]}: one previous admission in 2019."
COLLATERAL_TEXT = f"Collateral-{uuid4().hex[:8]}: walking the floors at night."
RISK = {
    "to_self": "medium",
    "to_others": "low",
    "from_others": "none",
    "safeguarding_children": False,
    "safeguarding_adults": False,
    "details": "Thoughts of self-harm without a plan.",
    "risk_plan": "Daily visits; carer holds medication.",
}
SECTIONS = {
    "presenting_situation": {"summary": "Three weeks of low mood, not sleeping.", "triggers": ["bereavement"]},
    "risk": RISK,
    "mental_health_history": {"summary": HISTORY_TEXT, "previous_admissions": 1, "previous_home_treatment_episodes": 0},
    "medication": {"items": [{"name": "Sertraline", "dose": "100 mg", "frequency": "once daily"}]},
    "communication_needs": {"needs": ["short sentences"], "accessible_information": ["easy read letters"]},
    "collateral_information": {
        "items": [{"source": "partner", "said": COLLATERAL_TEXT, "recorded_at": "2026-11-26T09:00:00+00:00"}]
    },
    "crisis_plan": {"warning_signs": ["stops eating"], "what_to_do": "Call the team.", "who_to_contact": ["HTCR duty"]},
}


def shared_with(deployment: Deployment, recipient: str, episode_id) -> list[AssessmentShared]:
    return deployment.log.events(AssessmentShared, lambda e: e.recipient == recipient and e.episode_id == episode_id)


async def update(journey: Journey, accepted: ReferralAccepted, sections: dict) -> AssessmentUpdated:
    event = AssessmentUpdated(
        update_id=uuid4(),
        patient_id=accepted.patient_id,
        episode_id=accepted.episode_id,
        sections=sections,
        updated_by="staff-0042",
        updated_at=datetime.now(UTC),
    )
    await journey.clinician.publish(event, correlation_id=journey.patient.correlation_id)
    return event


async def test_a_home_treatment_assessment_reaches_htcr_and_scheduling_and_stops_the_response_clock(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    await journey.submit_assessment(accepted, sections=SECTIONS)

    await deployment.log.wait_for(VisitScheduled, lambda e: e.episode_id == accepted.episode_id)
    await deployment.log.wait_for(AssessmentStarted, lambda e: e.episode_id == accepted.episode_id)
    htcr = await deployment.log.wait_for(
        AssessmentShared, lambda e: e.recipient == "htcr:belfast" and e.episode_id == accepted.episode_id
    )
    assert htcr.assessment_version == 1 and SectionName.RISK in (await deployment.open_copy(htcr)).present()
    await deployment.settled()
    rows = await deployment.query(
        "referral", "SELECT assessment_started_at FROM referrals WHERE referral_id = $1", accepted.referral_id
    )
    assert rows[0]["assessment_started_at"] is not None  # the clock stopped


async def test_a_risk_update_is_version_2_carrying_only_risk_and_the_diff_names_exactly_the_changed_fields(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    await journey.submit_assessment(accepted, sections=SECTIONS)
    await update(journey, accepted, {"risk": RISK | {"to_self": "high", "risk_plan": "Twice-daily visits."}})

    recorded = await deployment.log.wait_for(
        AssessmentVersionRecorded, lambda e: e.patient_id == accepted.patient_id and e.assessment_version == 2
    )
    assert recorded.changed_sections == (SectionName.RISK,)
    update_to_htcr = await deployment.log.wait_for(
        AssessmentShared, lambda e: e.patient_id == accepted.patient_id and e.assessment_version == 2
    )
    assert set((await deployment.open_copy(update_to_htcr)).present()) == {SectionName.RISK}  # only the changed section travels
    rows = await deployment.query(
        "assessment", "SELECT sections FROM assessment_versions WHERE patient_id = $1 AND version = 2", accepted.patient_id
    )
    assert list(json.loads(rows[0]["sections"])) == ["risk"]

    diff = subprocess.run(
        [sys.executable, "-m", "tools.cli", "assessment", "diff", str(accepted.patient_id), "1", "2",
         "--database-url", deployment.databases["assessment"], "--reason", "clinical review of the risk change"],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=True, env=os.environ | {"CAREPATH_OPERATOR": "a.reviewer"},
    ).stdout.splitlines()
    assert diff[0].endswith("version 1 -> 2, 2 field(s) changed")
    assert [line.split(":")[0].strip() for line in diff[1:]] == ["risk.risk_plan", "risk.to_self"]
    read = await deployment.log.wait_for(OperatorReadAudited, lambda e: e.patient_id == accepted.patient_id)
    assert (read.operator, read.reason, read.read) == ("a.reviewer", "clinical review of the risk change", "assessment versions 1 to 2")


async def test_a_ward_admission_sends_the_ward_the_latest_version_limited_to_what_consent_allows(
    deployment: Deployment, journey: Journey
) -> None:
    """Without recorded consent the ward gets the minimum for direct care; the history and what
    the partner said never appear in any event addressed to the ward, then or after."""
    accepted = await journey.refer()
    await journey.submit_assessment(accepted, sections=SECTIONS, outcome=Pathway.INPATIENT_ADMISSION)
    joined = await deployment.log.wait_for(
        AssessmentShared, lambda e: e.recipient == "ward:belfast" and e.episode_id == accepted.episode_id
    )
    assert joined.reason == "joined" and joined.assessment_version == 1
    assert {SectionName.RISK, SectionName.MEDICATION, SectionName.CRISIS_PLAN} <= set((await deployment.open_copy(joined)).present())
    assert {SectionName.MENTAL_HEALTH_HISTORY, SectionName.COLLATERAL_INFORMATION} <= set(joined.withheld_sections)

    await update(journey, accepted, {"mental_health_history": SECTIONS["mental_health_history"] | {"previous_admissions": 2}})
    await update(journey, accepted, {"risk": RISK | {"to_others": "medium"}})
    await deployment.log.wait_for(
        AssessmentShared, lambda e: e.recipient == "ward:belfast" and e.episode_id == accepted.episode_id and e.assessment_version == 3
    )
    await deployment.settled()
    to_ward = shared_with(deployment, "ward:belfast", accepted.episode_id)
    assert [e.assessment_version for e in to_ward] == [1, 3]  # nothing for the history-only version 2
    for event in to_ward:
        content = await deployment.open_copy(event)
        raw = event.model_dump_json() + content.model_dump_json()
        assert HISTORY_TEXT not in raw and COLLATERAL_TEXT not in raw
        assert SectionName.MENTAL_HEALTH_HISTORY not in content.present()


async def test_a_known_patients_second_episode_starts_from_the_previous_assessment(
    deployment: Deployment, journey: Journey
) -> None:
    first = await journey.refer()
    visit = await journey.assess(first)  # no sections: then send the full assessment as an update
    await update(journey, first, {"risk": RISK, "medication": SECTIONS["medication"]})
    await deployment.log.wait_for(AssessmentVersionRecorded, lambda e: e.patient_id == first.patient_id)
    await journey.visit(visit)
    await deployment.settled()
    await journey.discharge(first)
    await deployment.settled()

    journey.patient.referral_id = f"GP-{uuid4().hex[:10]}"
    second = await journey.refer()
    assert second.patient_id == first.patient_id and second.episode_id != first.episode_id
    handed_over = await deployment.log.wait_for(
        AssessmentShared, lambda e: e.recipient == "htcr:belfast" and e.episode_id == second.episode_id
    )
    assert handed_over.reason == "joined" and handed_over.assessment_version == 1
    risk = (await deployment.open_copy(handed_over)).risk
    assert risk is not None and risk.details == RISK["details"]


async def test_an_admission_without_in_person_gatekeeping_needs_a_reason_or_is_rejected(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    before = len(deployment.log.dead_letters())
    # The contract would not build one, so it is sent as a careless Trust system might (model_copy does not validate).
    template = AssessmentSubmitted(
        assessment_id=uuid4(), patient_id=accepted.patient_id, episode_id=accepted.episode_id,
        outcome=Pathway.INPATIENT_ADMISSION, outcome_reason="Acute crisis.", assessed_by="staff-0042",
        assessed_at=datetime.now(UTC), htcr_assessed_in_person=False, not_in_person_reason="Placeholder.",
    )
    unexplained = template.model_copy(update={"not_in_person_reason": None})
    await journey.clinician.publish(unexplained, correlation_id=journey.patient.correlation_id)
    await deployment.log.wait_until(lambda: len(deployment.log.dead_letters()) > before)
    [dead] = deployment.log.dead_letters()[before:]
    assert "without an in-person HTCR assessment must record why" in dead.headers["dlq_reason"]
    stored = await deployment.query("assessment", "SELECT count(*) AS n FROM assessments WHERE assessment_id = $1", unexplained.assessment_id)
    assert stored[0]["n"] == 0

    explained = await journey.submit_assessment(
        accepted, outcome=Pathway.INPATIENT_ADMISSION, htcr_assessed_in_person=False,
        not_in_person_reason="Admitted directly from the custody suite.",
    )
    completed = await deployment.log.wait_for(AssessmentCompleted, lambda e: e.assessment_id == explained.assessment_id)
    assert completed.htcr_assessed_in_person is False
    rows = await deployment.query(
        "assessment", "SELECT htcr_assessed_in_person, not_in_person_reason IS NOT NULL AS why FROM assessments WHERE assessment_id = $1",
        explained.assessment_id,
    )
    assert [tuple(r) for r in rows] == [(False, True)]  # auditable gatekeeping


async def test_an_unknown_section_or_a_malformed_field_is_dead_lettered_and_nothing_is_stored(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    await journey.submit_assessment(accepted, sections=SECTIONS)
    await deployment.log.wait_for(AssessmentVersionRecorded, lambda e: e.patient_id == accepted.patient_id)
    good = AssessmentUpdated(
        update_id=uuid4(), patient_id=accepted.patient_id, episode_id=accepted.episode_id,
        sections={"risk": RISK}, updated_by="staff-1", updated_at=datetime.now(UTC),
    )
    record = encode(good, (await journey.clinician.publish(good, correlation_id=uuid4())).model_copy(update={"id": uuid4()}))
    payload = json.loads(record.value)
    unknown_section = payload | {"update_id": str(uuid4()), "sections": {"horoscope": {"sign": "leo"}}}
    malformed = payload | {"update_id": str(uuid4()), "sections": {"risk": RISK | {"to_self": "extremely"}}}
    before = len(deployment.log.dead_letters())
    for body in (unknown_section, malformed):
        await journey.clinician.publish_raw(
            "assessment.inbound", record.key, json.dumps(body).encode(), record.headers | {"ce_id": str(uuid4())}
        )
    await deployment.log.wait_until(lambda: len(deployment.log.dead_letters()) >= before + 2)
    reasons = [d.headers["dlq_reason"] for d in deployment.log.dead_letters()[before:]]
    assert "sections.horoscope: extra_forbidden" in reasons[0]
    assert "sections.risk.to_self: enum" in reasons[1]
    await deployment.settled()
    versions = await deployment.query(
        "assessment", "SELECT source_id FROM assessment_versions WHERE patient_id = $1", accepted.patient_id
    )
    assert {str(r["source_id"]) for r in versions}.isdisjoint({unknown_section["update_id"], malformed["update_id"]})



