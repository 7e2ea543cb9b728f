"""What an operator sees in `carepath tail`: identifying and clinical fields masked at any depth,
and only the events asked for (by patient, correlation, type, topic, from a moment)."""

import base64
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import pytest

from contracts import AssessmentSections, AssessmentShared, AssessmentSubmitted, Envelope
from tools.eventlog import LoggedEvent, Selection, chosen_topics, moment, one_line
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
    assert "Secret reason" not in line and '"to_self"' not in line  # a section is clinical whole, risk levels too
    assert '"risk":"•••"' in line and '"outcome":"home-treatment"' in line  # which sections came, and the decision, show


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


def logged(event_type: str, subject: str, correlation, *, dead_letter: bool = False) -> LoggedEvent:
    if dead_letter:  # a dead letter keeps the headers it came with, as text
        headers = {"ce_type": event_type, "ce_subject": subject, "ce_correlationid": str(correlation), "dlq_reason": "rejected"}
        return LoggedEvent("carepath.deadletter", 0, 1, headers, None, None, None)
    envelope = Envelope(id=uuid4(), source="/carepath/test", type=event_type, time=datetime.now(UTC), subject=subject,
                        correlationid=correlation)
    return LoggedEvent("carepath.referral.events", 0, 1, {}, envelope, None, None)


def test_the_tail_keeps_only_the_patient_correlation_and_types_asked_for() -> None:
    """Each filter narrows alone and together; ids match in any letter case; a type is a glob."""
    patient, other, journey = str(uuid4()), str(uuid4()), uuid4()
    accepted = logged("carepath.referral.accepted.v1", patient, journey)
    completed = logged("carepath.assessment.completed.v1", patient, uuid4())
    elsewhere = logged("carepath.referral.accepted.v1", other, uuid4())
    dead = logged("carepath.referral.submitted.v1", patient, journey, dead_letter=True)
    everything = [accepted, completed, elsewhere, dead]

    assert list(filter(Selection(), everything)) == everything
    assert list(filter(Selection(patient=patient.upper()), everything)) == [accepted, completed, dead]
    assert list(filter(Selection(correlation=str(journey)), everything)) == [accepted, dead]
    assert list(filter(Selection(type="carepath.referral.*"), everything)) == [accepted, elsewhere, dead]
    assert list(filter(Selection(patient=patient, type="carepath.referral.*.v1"), everything)) == [accepted, dead]
    assert list(filter(Selection(type="carepath.referral"), everything)) == []


def test_since_reads_a_duration_back_from_now_or_an_iso_time() -> None:
    """15m, 2h, 7d, 1h30m ago; an ISO time with its offset, or UTC without one; anything else is refused."""
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert moment("15m", now) == now - timedelta(minutes=15)
    assert moment("2h", now) == now - timedelta(hours=2)
    assert moment("7d", now) == now - timedelta(days=7)
    assert moment("1h30m", now) == now - timedelta(minutes=90)
    assert moment("2026-11-26T09:30:00+01:00", now) == datetime(2026, 11, 26, 8, 30, tzinfo=UTC)
    assert moment("2026-11-26T09:30", now) == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    for wrong in ("", "15", "ten minutes", "15x", "m"):
        with pytest.raises(ValueError):
            moment(wrong, now)


def test_the_topics_asked_for_must_be_ones_the_login_may_read() -> None:
    """By default every topic the login may read; the operator asking for an inbound topic or the
    dead letters is told it may not, rather than refused by the broker."""
    assert [topic.name for topic in chosen_topics("operator", ["referral.events", "audit.events"])] == ["referral.events",
                                                                                                         "audit.events"]
    assert "referral.inbound" not in [topic.name for topic in chosen_topics("operator", None)]
    with pytest.raises(ValueError, match="operator may not read deadletter, referral.inbound"):
        chosen_topics("operator", ["referral.inbound", "deadletter"])
    assert [topic.name for topic in chosen_topics("admin", ["deadletter"])] == ["deadletter"]
