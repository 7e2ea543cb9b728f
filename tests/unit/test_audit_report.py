"""`carepath audit PATIENT`: the "who has seen my record" report, built from audit events alone."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from contracts import BreakGlassAlerted, ConsentChangeAudited, DeadLetterRedriven, DisclosureAudited, InformationCategory, Purpose
from tools.audit_report import report

C = InformationCategory
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
PATIENT = uuid4()


def disclosure(minutes: int, recipient: str, disclosed, denied, **fields) -> DisclosureAudited:
    return DisclosureAudited(
        patient_id=fields.pop("patient_id", PATIENT), recipient=recipient, purpose=Purpose.DIRECT_CARE, disclosed=tuple(disclosed),
        denied=tuple(denied), permitted=bool(disclosed), consent_version=fields.pop("consent_version", 1),
        reason=fields.pop("reason", "recorded consent"), via="carepath.assessment.shared.v2", decided_at=NOW + timedelta(minutes=minutes),
        **fields,
    )


def test_the_report_lists_one_patients_disclosures_denials_consent_changes_and_alerts_oldest_first() -> None:
    withdrawn = ConsentChangeAudited(
        patient_id=PATIENT, consent_id=uuid4(), change="withdrawn", recipient="ward:belfast", permit=True,
        categories=(C.CLINICAL_DETAIL,), consent_version=2, keys_destroyed=1, changed_at=NOW + timedelta(minutes=2),
    )
    alert = BreakGlassAlerted(
        patient_id=PATIENT, override_id=uuid4(), recipient="htcr:belfast", staff_id="staff-0099", categories=(C.RISK,),
        expires_at=NOW + timedelta(hours=1), alerted_at=NOW + timedelta(minutes=3),
    )
    refused = disclosure(4, "ward:belfast", [], [C.CLINICAL_DETAIL], reason="consent changed in flight", consent_version=2)
    someone_else = disclosure(0, "gp", [C.RISK], [], patient_id=uuid4())
    lines = report(PATIENT, [refused, alert, someone_else, withdrawn, disclosure(1, "ward:belfast", [C.RISK, C.CLINICAL_DETAIL], [])])

    assert lines[0].endswith("2 decision(s), 1 consent change(s), 1 break-glass alert(s), 0 operator read(s), 0 redrive(s)")
    assert ["DISCLOSED" in lines[1], "CONSENT WITHDRAWN" in lines[2], "BREAK-GLASS ALERT" in lines[3], "DENIED" in lines[4]] == [True] * 4
    assert "sent: clinical-detail, risk" in lines[1] or "sent: risk, clinical-detail" in lines[1]
    assert "copy keys destroyed: 1" in lines[2] and "by staff-0099" in lines[3] and "in flight" in lines[4]
    assert len(lines) == 5  # another patient's disclosure is not in this report


def test_a_redrive_of_the_patients_dead_letter_is_in_their_report_with_who_redrove_it_and_why() -> None:
    redriven = DeadLetterRedriven(
        redrive_id=uuid4(), patient_id=PATIENT, operator="j.smith", reason="INC-7: the PAS resent it", dead_letter="1:20",
        to_topic="carepath.pas.inbound", event_type="carepath.pas.admitted.v1", failed_with="rejected: unknown ward",
        redriven_at=NOW,
    )
    lines = report(PATIENT, [redriven])
    assert lines[0].endswith("0 operator read(s), 1 redrive(s)")
    assert "operator j.smith" in lines[1] and "REDRIVEN" in lines[1] and "dead letter 1:20" in lines[1] and "INC-7" in lines[1]
