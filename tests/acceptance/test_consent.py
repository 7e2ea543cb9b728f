"""Consent on the real broker and databases: a named-person deny and "do not tell" win, a
withdrawal takes effect for every later disclosure and for copies already in flight, a
withdrawn recipient's copies can no longer be opened, and every decision reaches the audit
trail that `carepath audit PATIENT` prints.

Each test notes the patients it used; the last test checks the audit report of every one."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts import (
    AUDIT,

    ConsentChangeAudited,
    SharedCopiesErased,
    Envelope,
    NotificationSent,
    OperatorReadAudited,
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
from contracts.topics import CONSENT_INBOUND
from shared.runtime.codec import encode
from shared.privacy.copies import Unreadable
from tools.journey import Journey
from tools.trust import TrustSystem
from tests.acceptance.deployment import ROOT, Deployment

C = InformationCategory
RISK = {"to_self": "low", "to_others": "none", "from_others": "none", "safeguarding_children": False,
        "safeguarding_adults": False, "details": "Low risk.", "risk_plan": "Weekly review."}


def consent(patient_id, recipient: str, categories, permit: bool, **fields) -> ConsentRecorded:
    return ConsentRecorded(
        consent_id=uuid4(), patient_id=patient_id, recipient=recipient, categories=tuple(categories), permit=permit,
        recorded_by="staff-0042", recorded_at=datetime.now(UTC), **fields,
    )


AUDITED: list[UUID] = []  # the patients of the tests so far, for the audit report test


def addressed_to(deployment: Deployment, recipient: str, patient_id) -> list:
    """Events sent to the recipient (not the audit trail or consent decisions about them)."""
    return [
        logged.event
        for logged in deployment.log.seen
        if getattr(logged.event, "recipient", None) == recipient
        and getattr(logged.event, "patient_id", None) == patient_id
        and type(logged.event).topic not in (AUDIT, CONSENT_INBOUND)
    ]


def withdrawal(decision: ConsentRecorded) -> ConsentWithdrawn:
    return ConsentWithdrawn(
        consent_id=decision.consent_id, patient_id=decision.patient_id, recorded_by="staff-0042", withdrawn_at=datetime.now(UTC)
    )


OPERATOR = "test.operator"


def stores(deployment: Deployment) -> list[str]:
    """`carepath copies` pointed at the deployment's databases and key stores."""
    return [f"--{service}-{kind}-url={deployment.databases[service + suffix]}"
            for service in ("assessment", "discharge") for kind, suffix in (("database", ""), ("keystore", "_keys"))]


def copies_of(deployment: Deployment, patient_id: UUID, recipient: str, *reason: str) -> list[str]:
    """`carepath copies`: what the recipient was delivered, opened as it would read it."""
    return subprocess.run(
        [sys.executable, "-m", "tools.cli", "copies", str(patient_id), recipient,
         *stores(deployment), *(reason or ("--reason", "acceptance test: what the recipient can read"))],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=True, env=os.environ | {"CAREPATH_OPERATOR": OPERATOR},
    ).stdout.splitlines()


def audit_report(deployment: Deployment, patient_id: UUID) -> list[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.cli", "--bootstrap", deployment.kafka.bootstrap, "--prefix", deployment.prefix,
         "audit", str(patient_id)],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
    ).stdout.splitlines()


async def test_a_partner_permitted_general_information_only_gets_signs_of_relapse_and_how_to_help_and_nothing_clinical(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    AUDITED.append(accepted.patient_id)
    await journey.consent.publish(consent(accepted.patient_id, "carer:partner-3", [C.CARER_GENERAL_INFORMATION], True))
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
    information = await deployment.open_copy(shared)
    assert information.signs_of_relapse == ("stops eating", "not sleeping") and "duty line" in information.how_to_help
    await journey.discharge(accepted)  # at once: the discharge service may not have seen the episode yet
    await deployment.settled()
    to_partner = addressed_to(deployment, "carer:partner-3", accepted.patient_id)
    assert [type(e) for e in to_partner] == [CarerInformationShared]  # no discharge summary: not consented
    for event in to_partner:
        raw = event.model_dump_json() + (await deployment.open_copy(event)).model_dump_json()
        assert risk_words not in raw and history_words not in raw and "Sertraline" not in raw


async def test_a_named_person_deny_wins_over_a_permit_and_that_carer_is_not_told_the_patient_is_known(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    AUDITED.append(accepted.patient_id)
    await journey.assess(accepted)
    for decision in (
        consent(accepted.patient_id, "carer:uncle-1", [C.CARER_GENERAL_INFORMATION, C.DISCHARGE_ARRANGEMENTS], True),
        consent(accepted.patient_id, "carer:uncle-1", [C.CARER_GENERAL_INFORMATION], False, do_not_tell=True),
        consent(accepted.patient_id, "carer:sister-1", [C.CARER_GENERAL_INFORMATION, C.DISCHARGE_ARRANGEMENTS], True),
    ):
        await journey.consent.publish(decision)
    await deployment.settled()
    await journey.discharge(accepted)
    await deployment.settled()

    assert addressed_to(deployment, "carer:uncle-1", accepted.patient_id) == []  # not even told
    to_sister = addressed_to(deployment, "carer:sister-1", accepted.patient_id)
    assert sorted(type(e).__name__ for e in to_sister) == ["DischargeSummaryIssued", "NotificationSent"]
    assert [e.kind for e in to_sister if isinstance(e, NotificationSent)] == ["feedback-invited"]  # asked how it went, as consented
    audits = deployment.log.events(DisclosureAudited, lambda e: e.patient_id == accepted.patient_id and e.recipient == "carer:uncle-1")
    assert audits and all(not a.permitted and a.disclosed == () for a in audits)
    assert "not told" in audits[0].reason


async def test_a_withdrawal_takes_effect_for_every_later_disclosure(deployment: Deployment, journey: Journey) -> None:
    """The partner was permitted the discharge arrangements, then the patient withdrew it: the
    discharge summary is not sent to them, and the audit records the denial at the newer version."""
    accepted = await journey.refer()
    AUDITED.append(accepted.patient_id)
    await journey.assess(accepted)
    permit = consent(accepted.patient_id, "carer:partner-2", [C.CARER_GENERAL_INFORMATION, C.DISCHARGE_ARRANGEMENTS], True)
    await journey.consent.publish(permit)
    await journey.consent.publish(
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
        lambda e: e.patient_id == accepted.patient_id and e.recipient == "carer:partner-2" and e.via == DischargeSummaryIssued.cloudevents_type(),
    )
    assert not audit.permitted and audit.consent_version == 2 and C.DISCHARGE_ARRANGEMENTS in audit.denied


async def test_consent_withdrawn_for_the_ward_while_an_update_is_in_flight_means_the_ward_never_receives_it(
    deployment: Deployment, journey: Journey
) -> None:
    """The ward was permitted the clinical history. An update is decided and sent under that
    permit; while it is in flight the patient withdraws it. On receipt the update is refused
    (the ward never receives it), the refusal and the withdrawal are audited, the ward's earlier
    copies no longer open, and the ward is re-sent what it may still see: risk, not history."""
    accepted = await journey.refer()
    AUDITED.append(accepted.patient_id)
    permit = consent(accepted.patient_id, "ward:belfast", [C.CLINICAL_DETAIL], True, purpose="direct-care")
    await journey.consent.publish(permit)
    await deployment.settled()
    history = {"summary": f"History-{uuid4().hex[:6]}.", "previous_admissions": 1, "previous_home_treatment_episodes": 0}
    await journey.submit_assessment(accepted, outcome=Pathway.INPATIENT_ADMISSION, sections={"risk": RISK, "mental_health_history": history})
    joined = await deployment.log.wait_for(AssessmentShared, lambda e: e.patient_id == accepted.patient_id and e.recipient == "ward:belfast")
    await deployment.settled()
    assert (await deployment.open_copy(joined)).mental_health_history is not None  # permitted, delivered

    with deployment.deliveries_held():
        await journey.clinician.publish(
            AssessmentUpdated(update_id=uuid4(), patient_id=accepted.patient_id, episode_id=accepted.episode_id,
                              sections={"mental_health_history": history | {"previous_admissions": 2}},
                              updated_by="staff-0042", updated_at=datetime.now(UTC))
        )
        in_flight = await deployment.log.wait_for(
            AssessmentShared, lambda e: e.patient_id == accepted.patient_id and e.recipient == "ward:belfast" and e.assessment_version == 2
        )
        assert in_flight.consent_version == 1 and C.CLINICAL_DETAIL in in_flight.categories  # decided before the withdrawal
        await journey.consent.publish(withdrawal(permit))
        await deployment.log.wait_for(ConsentChangeAudited, lambda e: e.consent_id == permit.consent_id and e.change == "withdrawn")
    await deployment.settled()

    delivered = {row["event_id"] for row in await deployment.delivered("assessment", accepted.patient_id, "ward:belfast")}
    [in_flight_id] = [l.envelope.id for l in deployment.log.seen if l.event == in_flight]
    assert in_flight_id not in delivered  # the ward never received the update
    [refusal] = deployment.log.events(DisclosureAudited, lambda e: e.disclosure_event_id == in_flight_id and e.via.startswith("receipt of"))
    assert not refusal.permitted and refusal.consent_version == 2 and "in flight" in refusal.reason
    [withdrawn] = deployment.log.events(ConsentChangeAudited, lambda e: e.consent_id == permit.consent_id and e.change == "withdrawn")
    assert withdrawn.recipient == "ward:belfast" and withdrawn.keys_destroyed == 1
    for copy in (joined, in_flight):
        with pytest.raises(Unreadable):
            await deployment.open_copy(copy)
    [reissued] = deployment.log.events(AssessmentShared, lambda e: e.patient_id == accepted.patient_id and e.reason == "reissued")
    content = await deployment.open_copy(reissued)
    assert reissued.recipient == "ward:belfast" and content.risk is not None and content.mental_health_history is None

    report = "\n".join(audit_report(deployment, accepted.patient_id))
    assert "CONSENT WITHDRAWN" in report and "in flight" in report


async def test_break_glass_without_a_reason_is_refused_and_with_one_is_allowed_time_limited_audited_and_alerted(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    AUDITED.append(accepted.patient_id)
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
    await journey.consent.publish_raw("consent.inbound", record.key, json.dumps(no_reason).encode(), record.headers | {"ce_id": str(uuid4())})
    await journey.consent.publish(glass)

    alert = await deployment.log.wait_for(BreakGlassAlerted, lambda e: e.override_id == glass.override_id)
    shared = await deployment.log.wait_for(
        AssessmentShared, lambda e: e.patient_id == accepted.patient_id and e.reason == "break-glass" and e.recipient == "ward:belfast"
    )
    await deployment.log.wait_until(lambda: len(deployment.log.dead_letters()) > before)
    assert any("reason" in d.headers["dlq_reason"] for d in deployment.log.dead_letters()[before:])
    assert (await deployment.open_copy(shared)).mental_health_history is not None  # clinical detail, opened by the override
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
    assert all(C.CLINICAL_DETAIL not in e.categories for e in deployment.log.events(
        AssessmentShared, lambda e: e.patient_id == accepted.patient_id and e.recipient == "ward:belfast" and e.assessment_version == 2
    ))
    # What the override disclosed no longer opens now it has ended; the end is audited, and the
    # ward (caring for the patient) is re-sent what it may still see.
    with pytest.raises(Unreadable):
        await deployment.open_copy(shared)
    [ended] = deployment.log.events(ConsentChangeAudited, lambda e: e.consent_id == glass.override_id and e.change == "override-ended")
    assert ended.keys_destroyed == 1 and ended.recipient == "ward:belfast"
    [told] = deployment.log.events(NotificationSent, lambda e: e.patient_id == accepted.patient_id and e.kind == "break-glass")
    assert told.recipient == "team-lead:ward:belfast" and "staff-0099" in told.text and history["summary"] not in told.text


async def test_break_glass_dated_in_the_future_is_refused_and_opens_nothing(deployment: Deployment, journey: Journey) -> None:
    """Its window runs by the receiving service's clock: a request dated hours ahead is dead-lettered."""
    accepted = await journey.refer()
    await journey.assess(accepted)
    await deployment.settled()
    ahead = BreakGlassRequested(
        override_id=uuid4(), patient_id=accepted.patient_id, recipient="ward:western", categories=(C.CLINICAL_DETAIL,),
        staff_id="staff-0098", reason="Dated ahead to stretch the window past its four hours.", minutes=240,
        requested_at=datetime.now(UTC) + timedelta(hours=6),
    )
    before = len(deployment.log.dead_letters())
    await journey.consent.publish(ahead)
    await deployment.settled()
    refused = deployment.log.dead_letters()[before:]
    assert {d.headers["dlq_consumer"] for d in refused} == {
        f"{deployment.prefix}-{service}" for service in ("referral", "assessment", "discharge")}
    assert all("dated in the future" in d.headers["dlq_reason"] for d in refused)
    assert not deployment.log.events(BreakGlassAlerted, lambda e: e.override_id == ahead.override_id)
    assert not deployment.log.events(AssessmentShared, lambda e: e.patient_id == accepted.patient_id and e.recipient == "ward:western")


async def test_after_a_withdrawal_that_recipients_earlier_copies_cannot_be_decrypted_while_others_still_can(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    AUDITED.append(accepted.patient_id)
    partner = consent(accepted.patient_id, "carer:partner-5", [C.CARER_GENERAL_INFORMATION], True)
    await journey.consent.publish(partner)
    await journey.consent.publish(consent(accepted.patient_id, "carer:friend-5", [C.CARER_GENERAL_INFORMATION], True))
    carers = [{"carer_id": who, "name": "Alex", "relationship": "friend", "contact": "07700 900456", "strain": "low",
               "carers_assessment": "offered"} for who in ("partner-5", "friend-5")]
    await journey.submit_assessment(accepted, sections={
        "family_and_carers": {"composition": "Two carers.", "carers": carers},
        "crisis_plan": {"warning_signs": ["withdrawn"], "what_to_do": "Call the duty line.", "who_to_contact": ["HTCR"]},
    })
    copies = {
        who: await deployment.log.wait_for(CarerInformationShared, lambda e, who=who: e.patient_id == accepted.patient_id and e.recipient == who)
        for who in ("carer:partner-5", "carer:friend-5")
    }
    await deployment.settled()
    for copy in copies.values():
        assert (await deployment.open_copy(copy)).signs_of_relapse == ("withdrawn",)
        assert "duty line" not in copy.model_dump_json()  # on the log the content is ciphertext only

    await journey.consent.publish(withdrawal(partner))
    await deployment.log.wait_for(ConsentChangeAudited, lambda e: e.consent_id == partner.consent_id and e.change == "withdrawn")
    await deployment.settled()

    with pytest.raises(Unreadable):
        await deployment.open_copy(copies["carer:partner-5"])
    assert (await deployment.open_copy(copies["carer:friend-5"])).how_to_help == "Call the duty line."
    [key] = await deployment.query(
        "assessment", "SELECT key, destroyed_because FROM copy_keys WHERE key_id = $1", copies["carer:partner-5"].sealed.key_id
    )
    assert key["key"] is None and key["destroyed_because"] == "consent withdrawn"
    held = "SELECT count(*) AS n FROM copy_key_material WHERE key_id = $1"  # the key itself, in the key store
    assert (await deployment.query("assessment_keys", held, copies["carer:partner-5"].sealed.key_id))[0]["n"] == 0
    assert (await deployment.query("assessment_keys", held, copies["carer:friend-5"].sealed.key_id))[0]["n"] == 1
    partner_reads, friend_reads = (copies_of(deployment, accepted.patient_id, who) for who in ("carer:partner-5", "carer:friend-5"))
    assert "UNREADABLE" in partner_reads[1] and "duty line" not in partner_reads[1]
    assert "duty line" in friend_reads[1]

    # The patient asks that the copies already sent to the friend are erased too.
    erasure = SharedCopiesErased(erasure_id=uuid4(), patient_id=accepted.patient_id, recipient="carer:friend-5",
                                 recorded_by="staff-0042", erased_at=datetime.now(UTC))
    await journey.consent.publish(erasure)
    audited = await deployment.log.wait_for(ConsentChangeAudited, lambda e: e.consent_id == erasure.erasure_id)
    assert audited.change == "copies-erased" and audited.keys_destroyed == 1
    with pytest.raises(Unreadable):
        await deployment.open_copy(copies["carer:friend-5"])


async def test_carepath_audit_lists_every_disclosure_and_denial_made_in_the_tests_above(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    AUDITED.append(accepted.patient_id)
    await journey.submit_assessment(accepted, sections={"risk": RISK, "mental_health_history": {
        "summary": "None before.", "previous_admissions": 0, "previous_home_treatment_episodes": 0}}, outcome=Pathway.INPATIENT_ADMISSION)
    await deployment.settled()

    for patient_id in AUDITED:
        decisions = deployment.log.events(DisclosureAudited, lambda e, p=patient_id: e.patient_id == p)
        changes = deployment.log.events(ConsentChangeAudited, lambda e, p=patient_id: e.patient_id == p)
        alerts = deployment.log.events(BreakGlassAlerted, lambda e, p=patient_id: e.patient_id == p)
        reads = deployment.log.events(OperatorReadAudited, lambda e, p=patient_id: e.patient_id == p)
        assert decisions, f"no audited decision for {patient_id}"
        report = audit_report(deployment, patient_id)
        assert report[0].endswith(f"{len(decisions)} decision(s), {len(changes)} consent change(s), {len(alerts)} break-glass alert(s), "
                                  f"{len(reads)} operator read(s), 0 redrive(s)")
        assert len(report) - 1 == len(decisions) + len(changes) + len(alerts) + len(reads)
        assert sum(" DISCLOSED" in line for line in report) == sum(d.permitted for d in decisions)
        assert sum(" DENIED" in line for line in report) == sum(not d.permitted for d in decisions)
    ward = [line for line in audit_report(deployment, accepted.patient_id) if "ward:belfast" in line]
    assert ward and "DISCLOSED" in ward[0] and "sent: risk" in ward[0] and "withheld: clinical-detail" in ward[0]


async def test_a_copy_readdressed_by_someone_holding_the_services_credentials_is_refused_on_receipt_and_audited(
    deployment: Deployment, journey: Journey
) -> None:
    """A copy is delivered only if the service itself sealed it for that recipient: one taken off
    the log, readdressed to another Trust's ward and claiming the newest consent, is refused, not believed."""
    accepted = await journey.refer()
    AUDITED.append(accepted.patient_id)
    await journey.consent.publish(consent(accepted.patient_id, "ward:belfast", [C.CLINICAL_DETAIL], True, purpose="direct-care"))
    await deployment.settled()
    await journey.submit_assessment(accepted, outcome=Pathway.INPATIENT_ADMISSION, sections={"risk": RISK})
    real = await deployment.log.wait_for(AssessmentShared, lambda e: e.patient_id == accepted.patient_id and e.recipient == "ward:belfast")
    await deployment.settled()

    forged = real.model_copy(update={"recipient": "ward:western", "consent_version": 999})
    envelope = Envelope(id=uuid4(), source="/carepath/assessment", type=forged.cloudevents_type(), time=datetime.now(UTC),
                        subject=forged.key, correlationid=uuid4())
    record = encode(forged, envelope)
    async with TrustSystem(deployment.kafka, deployment.prefix, "/carepath/assessment") as impostor:
        await impostor.publish_raw("assessment.shared", record.key, record.value, record.headers)
    refusal = await deployment.log.wait_for(DisclosureAudited, lambda e: e.disclosure_event_id == envelope.id, timeout_s=60)
    assert not refusal.permitted and "does not open with its key" in refusal.reason
    assert await deployment.delivered("assessment", accepted.patient_id, "ward:western") == []


async def test_an_operator_reading_copies_must_say_why_and_the_read_is_audited_with_who_and_why(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    await journey.assess(accepted)
    await deployment.settled()
    refused = subprocess.run(
        [sys.executable, "-m", "tools.cli", "copies", str(accepted.patient_id), f"htcr:{accepted.trust.value}",
         *stores(deployment)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert refused.returncode != 0 and "--reason" in refused.stderr and refused.stdout == ""

    shown = copies_of(deployment, accepted.patient_id, f"htcr:{accepted.trust.value}", "--reason", "INC-0042 team cannot open a copy")
    assert shown[0].startswith(f"copies delivered to htcr:{accepted.trust.value}")
    reads = [await deployment.log.wait_for(
        OperatorReadAudited, lambda e, service=service: e.patient_id == accepted.patient_id and e.service == service, timeout_s=30
    ) for service in ("assessment", "discharge")]
    assert {(read.operator, read.reason, read.read) for read in reads} == {
        (OPERATOR, "INC-0042 team cannot open a copy", f"copies delivered to htcr:{accepted.trust.value}")
    }
    assert any("OPERATOR READ" in line and OPERATOR in line for line in audit_report(deployment, accepted.patient_id))


async def test_break_glass_cannot_be_chained_without_limit_a_fourth_override_in_a_day_is_refused(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    await deployment.settled()
    overrides = [BreakGlassRequested(
        override_id=uuid4(), patient_id=accepted.patient_id, recipient="ward:belfast", categories=(C.CLINICAL_DETAIL,),
        staff_id="staff-0097", reason="Chained override after override, to keep the record open.", minutes=240,
        requested_at=datetime.now(UTC),
    ) for _ in range(4)]
    before = len(deployment.log.dead_letters())
    for override in overrides:
        await journey.consent.publish(override)
    await deployment.settled()
    alerted = {e.override_id for e in deployment.log.events(BreakGlassAlerted, lambda e: e.patient_id == accepted.patient_id)}
    assert alerted == {override.override_id for override in overrides[:3]}
    refused = deployment.log.dead_letters()[before:]
    # Refused by each service that decides by consent (the referral service tells referrers by it)
    assert sorted(d.headers["dlq_consumer"] for d in refused) == [
        f"{deployment.prefix}-{service}" for service in ("assessment", "discharge", "referral")]
    assert all("already broken the glass 3 times in 24 hours" in d.headers["dlq_reason"] for d in refused)
