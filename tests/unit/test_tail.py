"""What an operator sees in `carepath tail`: identifying and clinical fields masked at any depth."""

import base64
from datetime import UTC, datetime
from uuid import uuid4

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts import AssessmentSections, AssessmentShared, AssessmentSubmitted, Envelope
from tools.eventlog import LoggedEvent, one_line
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
    submitted = AssessmentSubmitted(
        assessment_id=uuid4(), patient_id=uuid4(), episode_id=uuid4(), outcome="home-treatment", outcome_reason="Secret reason",
        assessed_by="staff-0042", assessed_at=datetime.now(UTC), sections=sections,
    )
    line = line_for(submitted)
    assert "Secret risk formulation" not in line and "Secret plan" not in line and "Sertraline" not in line
    assert "Secret reason" not in line and '"to_self":"high"' in line  # structured, non-identifying fields stay readable


def test_a_copy_for_a_team_shows_only_who_it_is_for_and_ciphertext_in_the_tail() -> None:
    key, patient_id = AESGCM.generate_key(bit_length=256), uuid4()
    nonce = b"\x00" * 12
    ciphertext = AESGCM(key).encrypt(nonce, b'{"risk": {"details": "Secret risk formulation"}}', None)
    shared = AssessmentShared(
        recipient="ward:belfast", patient_id=patient_id, purpose="direct-care", categories=("risk",), consent_version=0,
        sealed={"key_id": uuid4(), "ciphertext": base64.b64encode(nonce + ciphertext).decode()},
        episode_id=uuid4(), assessment_version=1, reason="joined", withheld_sections=(), shared_at=datetime.now(UTC),
    )
    line = line_for(shared)
    assert "Secret risk formulation" not in line and '"recipient":"ward:belfast"' in line and '"categories":["risk"]' in line
