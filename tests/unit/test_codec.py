"""The wire format: CloudEvents binary mode over Kafka, and safe reasons for bad input."""

import json
from uuid import uuid4

import pytest

from shared.runtime.codec import Undecodable, decode, encode
from tests.factories import envelope_for, referral

HC = "943 476 5919"


def test_an_event_survives_encoding_and_decoding() -> None:
    """What a Trust system sends is exactly what a service reads."""
    event = referral(hc_number=HC)
    envelope = envelope_for(event)
    record = encode(event, envelope)
    assert decode(record.headers, record.value) == (envelope, event)


def test_the_envelope_travels_as_cloudevents_headers_and_the_key_is_not_identifying() -> None:
    """ce_ headers carry the envelope; neither key nor headers contain the H&C number or name."""
    event = referral(hc_number=HC, patient_name="Jo Bloggs")
    record = encode(event, envelope_for(event))
    assert {"ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "ce_subject", "ce_correlationid"} <= set(
        record.headers
    )
    assert record.headers["content-type"] == "application/json"
    exposed = record.key.decode() + json.dumps(record.headers)
    assert "9434765919" not in exposed and HC not in exposed and "Jo Bloggs" not in exposed


def test_a_value_that_is_not_json_is_undecodable() -> None:
    event = referral()
    with pytest.raises(Undecodable, match="not JSON"):
        decode(encode(event, envelope_for(event)).headers, b"{not json")


def test_missing_cloudevents_headers_are_named() -> None:
    """The reason lists the missing headers."""
    with pytest.raises(Undecodable, match="ce_type"):
        decode({"ce_id": str(uuid4())}, b"{}")


def test_a_validation_failure_names_the_field_but_never_the_value_received() -> None:
    """Reasons go to logs and the dead-letter topic, so they must not echo patient data."""
    event = referral()
    record = encode(event, envelope_for(event))
    payload = json.loads(record.value)
    payload["urgency"] = "Jo Bloggs 9434765919"
    del payload["patient_name"]
    with pytest.raises(Undecodable) as error:
        decode(record.headers, json.dumps(payload).encode())
    assert "urgency" in error.value.reason and "patient_name: missing" in error.value.reason
    assert "Jo Bloggs" not in error.value.reason and "9434765919" not in error.value.reason


def test_an_unknown_event_type_is_undecodable() -> None:
    event = referral()
    record = encode(event, envelope_for(event))
    with pytest.raises(Undecodable, match="unknown event type"):
        decode(record.headers | {"ce_type": "carepath.nothing.v9"}, record.value)


def test_a_subject_that_does_not_match_the_event_is_undecodable() -> None:
    """The key/subject must be the event's own patient (or referral) id, so ordering holds."""
    event = referral()
    record = encode(event, envelope_for(event, subject="someone-else"))
    with pytest.raises(Undecodable, match="ce_subject"):
        decode(record.headers, record.value)


def test_unknown_fields_are_ignored_by_readers() -> None:
    """Tolerant readers: a newer producer may add fields."""
    event = referral()
    record = encode(event, envelope_for(event))
    payload = json.loads(record.value) | {"added_in_a_later_version": 1}
    assert decode(record.headers, json.dumps(payload).encode())[1] == event
