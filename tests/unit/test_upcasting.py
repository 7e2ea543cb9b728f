"""A breaking change is a new version and an upcaster: an event sent in an old version decodes
as the newest, what the old schema refuses is still refused, and a version left without an
upcaster fails the compatibility gate by name."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from contracts import Envelope, upcasting
from contracts.base import defined_events
from contracts.upcasting import unread_versions
from shared.runtime.codec import Undecodable, decode_record, encode
from tests.versions import example_versions


def record_of(event):
    envelope = Envelope(id=uuid4(), source="/trust/belfast/staff-app", type=event.cloudevents_type(), time=datetime.now(UTC),
                        subject=event.key, correlationid=uuid4())
    record = encode(event, envelope)
    return [(name, text.encode()) for name, text in record.headers.items()], record.key, record.value


def test_an_event_sent_in_version_1_decodes_as_version_3_through_each_upcaster_in_turn() -> None:
    with example_versions() as versions:
        sent = versions.v1(patient_id=uuid4(), minutes=45)
        envelope, event = decode_record(*record_of(sent))
    assert type(event) is versions.v3
    assert event.seconds == 2700 and event.seen_by == ("unknown (v1)",) and event.patient_id == sent.patient_id
    assert envelope.type == "carepath.test.example-noted.v1"  # what was sent, as sent


def test_an_event_in_the_newest_version_is_read_as_it_came() -> None:
    with example_versions() as versions:
        sent = versions.v3(patient_id=uuid4(), seconds=60, seen_by=("staff-0042",))
        _, event = decode_record(*record_of(sent))
    assert event == sent


def test_what_the_old_versions_schema_refuses_is_refused_before_any_upcaster_runs() -> None:
    with example_versions() as versions:
        headers, key, _ = record_of(versions.v1(patient_id=uuid4(), minutes=1))
        too_long = f'{{"patient_id": "{key.decode()}", "minutes": 601}}'.encode()
        with pytest.raises(Undecodable, match=r"invalid carepath.test.example-noted.v1: minutes: less_than_equal"):
            decode_record(headers, key, too_long)


def test_an_upcast_the_new_version_refuses_is_undecodable_with_both_versions_named() -> None:
    with example_versions() as versions:
        headers, key, _ = record_of(versions.v1(patient_id=uuid4(), minutes=1))
        ten_hours_on = f'{{"patient_id": "{key.decode()}", "minutes": 600}}'.encode()  # 36,000 s is v2's limit: fine
        decode_record(headers, key, ten_hours_on)
        upcasting._UPCASTERS[versions.v1] = (versions.v2, lambda payload: payload | {"seconds": -1, "seen_by": "x"})
        with pytest.raises(Undecodable, match=r"carepath.test.example-noted.v1 does not read as carepath.test.example-noted.v3: "
                                              r"seconds: greater_than_equal"):
            decode_record(headers, key, ten_hours_on)


def test_an_upcaster_goes_from_one_version_to_the_next_of_the_same_event_and_only_once() -> None:
    with example_versions() as versions:
        with pytest.raises(TypeError, match="not carepath.test.example-noted.v1 to carepath.test.example-noted.v3"):
            upcasting.upcaster(versions.v1, versions.v3)
        with pytest.raises(TypeError, match="has an upcaster already"):
            upcasting.upcaster(versions.v1, versions.v2)


def test_an_older_version_without_an_upcaster_to_the_next_fails_the_gate_by_name() -> None:
    with example_versions(upcast_to_v3=False):
        problems = unread_versions(defined_events().values())
    assert problems == ["carepath.test.example-noted.v2: an older version with no upcaster to v3 "
                        "(`contracts.upcasting.upcaster`): readers of it would stop working"]


def test_every_older_version_of_carepaths_own_events_has_its_upcaster_and_the_examples_are_forgotten() -> None:
    with example_versions():
        assert unread_versions(defined_events().values()) == []
    assert unread_versions(defined_events().values()) == []
    assert not [name for name in defined_events() if name.startswith("carepath.test.")]
