"""Consent on the real broker and databases: a named-person deny and "do not tell" win, a
withdrawal takes effect for every later disclosure, and every decision reaches the audit trail.

(The consent issue is still open: receipt-side version checks, per-recipient
encryption and the stateful property test come next.)"""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from contracts import (
    Envelope,
    AssessmentShared,
    AssessmentUpdated,
    AssessmentVersionRecorded,
    BreakGlassAlerted,
    BreakGlassRequested,
    CarerInformationShared,
    ConsentRecorded,
    ConsentWithdrawn,
    DisclosureAudited,
    DischargeSummaryIssued,
    EpisodeClosed,
    InformationCategory,
    Pathway,
)
from shared.codec import encode
from shared.journey import Journey
from tests.acceptance.deployment import ROOT, Deployment

C = InformationCategory


def consent(patient_id, recipient: str, categories, permit: bool, **fields) -> ConsentRecorded:
    return ConsentRecorded(
        consent_id=uuid4(), patient_id=patient_id, recipient=recipient, categories=tuple(categories), permit=permit,
        recorded_by="staff-0042", recorded_at=datetime.now(UTC), **fields,
    )


def addressed_to(deployment: Deployment, recipient: str, patient_id) -> list:
    return [
        logged.event
        for logged in deployment.log.seen
        if getattr(logged.event, "recipient", None) == recipient
        and getattr(logged.event, "patient_id", None) == patient_id
        and not isinstance(logged.event, (DisclosureAudited, ConsentRecorded, ConsentWithdrawn))
    ]


async def test_a_named_person_deny_wins_over_a_permit_and_that_carer_is_not_told_the_patient_is_known(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    await journey.assess(accepted)
    for decision in (
        consent(accepted.patient_id, "carer:uncle-1", [C.CARER_GENERAL_INFORMATION, C.DISCHARGE_ARRANGEMENTS], True),
        consent(accepted.patient_id, "carer:uncle-1", [C.CARER_GENERAL_INFORMATION], False, do_not_tell=True),
        consent(accepted.patient_id, "carer:sister-1", [C.CARER_GENERAL_INFORMATION, C.DISCHARGE_ARRANGEMENTS], True),
    ):
        await journey.clinician.publish(decision)
    await deployment.settled()
    await journey.discharge(accepted)
    await deployment.settled()

    assert addressed_to(deployment, "carer:uncle-1", accepted.patient_id) == []  # not even told
    assert [type(e) for e in addressed_to(deployment, "carer:sister-1", accepted.patient_id)] == [DischargeSummaryIssued]
    audits = deployment.log.events(DisclosureAudited, lambda e: e.patient_id == accepted.patient_id and e.recipient == "carer:uncle-1")
    assert audits and all(not a.permitted and a.disclosed == () for a in audits)
    assert "not told" in audits[0].reason


async def test_a_withdrawal_takes_effect_for_every_later_disclosure(deployment: Deployment, journey: Journey) -> None:
    """The partner was permitted the discharge arrangements, then the patient withdrew it: the
    discharge summary is not sent to them, and the audit records the denial at the newer version."""
    accepted = await journey.refer()
    await journey.assess(accepted)
    permit = consent(accepted.patient_id, "carer:partner-2", [C.CARER_GENERAL_INFORMATION, C.DISCHARGE_ARRANGEMENTS], True)
    await journey.clinician.publish(permit)
    await journey.clinician.publish(
        ConsentWithdrawn(consent_id=permit.consent_id, patient_id=accepted.patient_id, recorded_by="staff-0042", withdrawn_at=datetime.now(UTC))
    )
    await deployment.settled()
    await journey.discharge(accepted)
    await deployment.log.wait_for(EpisodeClosed, lambda e: e.episode_id == accepted.episode_id)
    await deployment.settled()

    assert not deployment.log.events(
        DischargeSummaryIssued, lambda e: e.patient_id == accepted.patient_id and e.recipient == "carer:partner-2"
    )
    [audit] = deployment.log.events(
        DisclosureAudited,
        lambda e: e.patient_id == accepted.patient_id and e.recipient == "carer:partner-2" and e.via.endswith("summary-issued.v1"),
    )
    assert not audit.permitted and audit.consent_version == 2 and C.DISCHARGE_ARRANGEMENTS in audit.denied


async def test_carepath_audit_lists_every_disclosure_and_denial_for_a_patient(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    sections = {
        "risk": {"to_self": "low", "to_others": "none", "from_others": "none", "safeguarding_children": False,
                 "safeguarding_adults": False, "details": "Low risk.", "risk_plan": "Weekly review."},
        "mental_health_history": {"summary": "None before.", "previous_admissions": 0, "previous_home_treatment_episodes": 0},
    }
    await journey.submit_assessment(accepted, sections=sections, outcome=Pathway.INPATIENT_ADMISSION)
    await deployment.settled()
    expected = deployment.log.events(DisclosureAudited, lambda e: e.patient_id == accepted.patient_id)
    assert {e.recipient for e in expected} >= {"htcr:belfast", "ward:belfast"}

    report = subprocess.run(
        [sys.executable, "-m", "shared.cli", "--bootstrap", deployment.bootstrap, "--prefix", deployment.prefix,
         "audit", str(accepted.patient_id)],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
    ).stdout.splitlines()
    assert report[0].endswith(f"{len(expected)} decision(s)")
    ward = [line for line in report[1:] if "ward:belfast" in line]
    assert ward and "DISCLOSED" in ward[0] and "sent: risk" in ward[0] and "withheld: clinical-detail" in ward[0]
    assert len(report) - 1 == len(expected)


async def test_break_glass_without_a_reason_is_refused_and_with_one_is_allowed_time_limited_audited_and_alerted(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    history = {"summary": f"History-{uuid4().hex[:6]}.", "previous_admissions": 3, "previous_home_treatment_episodes": 1}
    await journey.submit_assessment(
        accepted, outcome=Pathway.INPATIENT_ADMISSION,
        sections={"mental_health_history": history, "medication": {"items": []}},
    )
    await deployment.settled()
    glass = BreakGlassRequested(
        override_id=uuid4(), patient_id=accepted.patient_id, recipient="ward:belfast", categories=(C.CLINICAL_DETAIL,),
        staff_id="staff-0099", reason="Unresponsive on the ward; need the admission history now.", minutes=60,
        requested_at=datetime.now(UTC),
    )
    before = len(deployment.log.dead_letters())
    record = encode(glass, Envelope(
        id=uuid4(), source=journey.clinician.source, type=glass.cloudevents_type(), time=datetime.now(UTC),
        subject=glass.key, correlationid=uuid4(),
    ))
    no_reason = json.loads(record.value) | {"override_id": str(uuid4()), "reason": "          "}
    await journey.clinician.publish_raw("consent.inbound", record.key, json.dumps(no_reason).encode(), record.headers | {"ce_id": str(uuid4())})
    await journey.clinician.publish(glass)

    alert = await deployment.log.wait_for(BreakGlassAlerted, lambda e: e.override_id == glass.override_id)
    shared = await deployment.log.wait_for(
        AssessmentShared, lambda e: e.patient_id == accepted.patient_id and e.reason == "break-glass" and e.recipient == "ward:belfast"
    )
    await deployment.log.wait_until(lambda: len(deployment.log.dead_letters()) > before)
    assert any("reason" in d.headers["dlq_reason"] for d in deployment.log.dead_letters()[before:])
    assert shared.sections.mental_health_history is not None  # clinical detail, opened by the override
    assert alert.staff_id == "staff-0099" and alert.expires_at == glass.requested_at + timedelta(minutes=60)
    await deployment.settled()
    [audit] = deployment.log.events(DisclosureAudited, lambda e: e.disclosure_event_id is not None and e.patient_id == accepted.patient_id and e.override)
    assert audit.recipient == "ward:belfast" and C.CLINICAL_DETAIL in audit.disclosed

    try:  # two hours on, the override has lapsed: new clinical detail is withheld again
        deployment.move_clock(timedelta(hours=2))
        await journey.clinician.publish(
            AssessmentUpdated(update_id=uuid4(), patient_id=accepted.patient_id, episode_id=accepted.episode_id,
                              sections={"mental_health_history": history | {"previous_admissions": 4}},
                              updated_by="staff-0042", updated_at=datetime.now(UTC))
        )
        await deployment.log.wait_for(
            AssessmentVersionRecorded, lambda e: e.patient_id == accepted.patient_id and e.assessment_version == 2
        )
        await deployment.settled(timeout_s=120)
    finally:
        deployment.move_clock(timedelta(0))
    lapsed = deployment.log.events(
        DisclosureAudited, lambda e: e.patient_id == accepted.patient_id and e.recipient == "ward:belfast" and e.decided_at > alert.expires_at
    )
    assert lapsed and all(not a.override and C.CLINICAL_DETAIL in a.denied for a in lapsed)
    assert not deployment.log.events(
        AssessmentShared, lambda e: e.patient_id == accepted.patient_id and e.recipient == "ward:belfast" and e.assessment_version == 2
    )


async def test_a_partner_permitted_general_information_only_gets_signs_of_relapse_and_how_to_help_and_nothing_clinical(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    await journey.clinician.publish(consent(accepted.patient_id, "carer:partner-3", [C.CARER_GENERAL_INFORMATION], True))
    risk_words, history_words = f"Risk-{uuid4().hex[:6]}", f"History-{uuid4().hex[:6]}"
    sections = {
        "risk": {"to_self": "high", "to_others": "none", "from_others": "none", "safeguarding_children": False,
                 "safeguarding_adults": False, "details": risk_words, "risk_plan": "Twice-daily visits."},
        "mental_health_history": {"summary": history_words, "previous_admissions": 1, "previous_home_treatment_episodes": 0},
        "family_and_carers": {"composition": "Lives with partner.", "carers": [
            {"carer_id": "partner-3", "name": "Sam", "relationship": "partner", "contact": "07700 900123",
             "strain": "high", "carers_assessment": "offered"}]},
        "crisis_plan": {"warning_signs": ["stops eating", "not sleeping"], "what_to_do": "Call the duty line; stay with them.",
                        "who_to_contact": ["HTCR duty line"]},
    }
    await journey.submit_assessment(accepted, sections=sections)
    shared = await deployment.log.wait_for(
        CarerInformationShared, lambda e: e.patient_id == accepted.patient_id and e.recipient == "carer:partner-3"
    )
    assert shared.signs_of_relapse == ("stops eating", "not sleeping") and "duty line" in shared.how_to_help
    await journey.discharge(accepted)  # at once: the discharge service may not have seen the episode yet
    await deployment.settled()
    to_partner = addressed_to(deployment, "carer:partner-3", accepted.patient_id)
    assert [type(e) for e in to_partner] == [CarerInformationShared]  # no discharge summary: not consented
    for event in to_partner:
        raw = event.model_dump_json()
        assert risk_words not in raw and history_words not in raw and "Sertraline" not in raw
