"""What an operator sees in `carepath tail`: identifying and clinical fields masked at any depth."""

from datetime import UTC, datetime
from uuid import uuid4

from contracts import AssessmentSections, AssessmentShared, Envelope
from shared.eventlog import LoggedEvent, one_line
from tests.factories import referral


def line_for(event) -> str:
    envelope = Envelope(
        id=uuid4(), source="/carepath/test", type=event.cloudevents_type(), time=datetime.now(UTC),
        subject=event.key, correlationid=uuid4(),
    )
    return one_line(LoggedEvent("carepath.x", 0, 1, {}, envelope, event, None))


def test_identifying_fields_are_masked_in_the_tail() -> None:
    line = line_for(referral(hc_number="943 476 5919", patient_name="Jo Bloggs"))
    assert "Jo Bloggs" not in line and "9434765919" not in line and "943 476 5919" not in line
    assert "•••" in line and "referral_id" in line


def test_clinical_text_nested_in_assessment_sections_is_masked_in_the_tail() -> None:
    sections = AssessmentSections.model_validate({
        "risk": {"to_self": "high", "to_others": "none", "from_others": "none", "safeguarding_children": False,
                 "safeguarding_adults": False, "details": "Secret risk formulation", "risk_plan": "Secret plan"},
        "medication": {"items": [{"name": "Sertraline", "dose": "100 mg", "frequency": "daily"}]},
    })
    shared = AssessmentShared(
        recipient="ward:belfast", patient_id=uuid4(), episode_id=uuid4(), assessment_version=1, reason="joined",
        sections=sections, withheld_sections=(), categories=(), consent_version=0, shared_at=datetime.now(UTC),
    )
    line = line_for(shared)
    assert "Secret risk formulation" not in line and "Secret plan" not in line and "Sertraline" not in line
    assert '"to_self":"high"' in line  # structured, non-identifying fields stay readable
