"""Containment: whatever a sender puts in a record, a service sees either an event to handle,
nothing (another service's event), or a reason to dead-letter it. Never an exception."""

import json
from pathlib import Path
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from aiokafka import ConsumerRecord

from contracts import AssessmentShared, ConsentRecorded, Envelope, InformationCategory, ReferralAccepted, ReferralSubmitted
from contracts.topics import MAX_EVENT_BYTES
from shared.runtime.clock import SystemClock
from shared.runtime.codec import Undecodable, decode_record, encode
from shared.runtime.consumer import ReliableConsumer
from shared.runtime.outbox import EventTooLarge, add
from tests.factories import referral

PREFIX = "unit"


def wire(event, **envelope_overrides) -> tuple[list[tuple[str, bytes | None]], bytes, bytes]:
    envelope = Envelope(
        **{
            "id": uuid4(),
            "source": "/trust/belfast/gp-system",
            "type": event.cloudevents_type(),
            "time": datetime.now(UTC),
            "subject": event.key,
            "correlationid": uuid4(),
        }
        | envelope_overrides
    )
    record = encode(event, envelope)
    return [(name, text.encode()) for name, text in record.headers.items()], record.key, record.value


def poison_values(valid: bytes) -> dict[str, bytes]:
    """The values a hostile or clumsy Trust system has been seen to send."""
    payload = json.loads(valid)
    body = valid[:-1]
    return {
        "not JSON": b"{not json",
        "not UTF-8": b"\xff\xfe\xfd",
        "empty": b"",
        "a JSON array": b"[1, 2]",
        "deeply nested": b'{"a":' + b"[" * 1200 + b"]" * 1200 + b"}",
        "deeply nested beside valid fields": body + b',"extra":' + b"[" * 1200 + b"]" * 1200 + b"}",
        "a 5,000-digit integer": body + b',"extra":' + b"9" * 5000 + b"}",
        "a 5,000-digit integer for a field": json.dumps(payload | {"urgency": 0}).replace('"urgency": 0', '"urgency": ' + "9" * 5000).encode(),
        "urgency as a string": json.dumps(payload | {"urgency": str(payload["urgency"])}).encode(),
        "a yes/no string for a boolean": json.dumps(payload | {"currently_inpatient": "no"}).encode(),
        "an epoch integer for a time": json.dumps(payload | {"submitted_at": 1_764_000_000}).encode(),
        "an integer for a name": json.dumps(payload | {"patient_name": 12345}).encode(),
        "a required field missing": json.dumps({k: v for k, v in payload.items() if k != "trust"}).encode(),
    }


@pytest.mark.parametrize("kind", list(poison_values(referral().model_dump_json().encode())))
def test_every_poison_value_is_undecodable_with_a_reason_naming_no_value(kind: str) -> None:
    """Each poison value raises Undecodable (and nothing else), with a reason safe to log."""
    headers, key, value = wire(referral(patient_name="Jo Bloggs"))
    poison = poison_values(value)[kind]
    with pytest.raises(Undecodable) as error:
        decode_record(headers, key, poison)
    assert error.value.reason
    assert "Jo Bloggs" not in error.value.reason and "943" not in error.value.reason


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h: h + [("x-trace", None)], "has no value"),
        (lambda h: h + [("x-trace", b"\xff\xfe")], "not UTF-8"),
        (lambda h: h + [("ce_id", str(uuid4()).encode())], "more than once"),
        (lambda h: [(n, v) for n, v in h if n != "ce_type"], "ce_type"),
        (lambda h: [(n, b"text/plain" if n == "content-type" else v) for n, v in h], "content-type"),
    ],
)
def test_a_bad_header_is_undecodable(change, reason: str) -> None:
    """A header without a value, not UTF-8, twice, missing, or of the wrong content type is refused."""
    headers, key, value = wire(referral())
    with pytest.raises(Undecodable, match=reason):
        decode_record(change(headers), key, value)


def test_a_record_whose_key_is_not_its_subject_is_undecodable() -> None:
    """The key decides the partition, so it must be the patient's: a null or other key is refused."""
    headers, _, value = wire(referral())
    for key in (None, b"someone-else"):
        with pytest.raises(Undecodable, match="Kafka key"):
            decode_record(headers, key, value)


def consumer_of(*handled: type) -> ReliableConsumer:
    async def handler(ctx, event) -> None:  # never called: triage only looks
        raise AssertionError

    return ReliableConsumer(group="unit-test", pool=None, handlers={cls: handler for cls in handled},
                            topic_prefix=PREFIX, clock=SystemClock(), source="/carepath/unit")


def record_on(topic: str, headers, key, value) -> ConsumerRecord:
    return ConsumerRecord(f"{PREFIX}.{topic}", 0, 7, 0, 0, key, value, None, 0, 0, headers)


def test_an_event_on_the_wrong_topic_is_dead_lettered_naming_its_topic() -> None:
    """A valid consent decision published on the referral topic is not handled there."""
    consent = ConsentRecorded(
        consent_id=uuid4(), patient_id=uuid4(), recipient="carer:carer-1", categories=(InformationCategory.RISK,),
        permit=True, recorded_by="staff-0042", recorded_at=datetime.now(UTC),
    )
    headers, key, value = wire(consent)
    triaged = consumer_of(ReferralSubmitted, ConsentRecorded).triage(record_on("referral.inbound", headers, key, value))
    assert triaged is not None and triaged.reason is not None
    assert "belongs on consent.inbound" in triaged.reason


def test_an_unknown_type_is_dead_lettered_on_an_inbound_topic_and_skipped_on_carepaths_own() -> None:
    """Trust systems' topics must carry known events; carepath's own may carry newer ones."""
    headers, key, value = wire(referral())
    unknown = [(n, b"carepath.nothing.v9" if n == "ce_type" else v) for n, v in headers]
    consumer = consumer_of(ReferralSubmitted, ReferralAccepted)
    inbound = consumer.triage(record_on("referral.inbound", unknown, key, value))
    assert inbound is not None and "unknown event type" in inbound.reason
    assert consumer.triage(record_on("referral.events", unknown, key, value)) is None


def test_an_event_another_service_handles_is_skipped_without_being_decoded() -> None:
    """A service reads only what it handles: other events on its topics are passed by, unread."""
    headers, key, _ = wire(referral())
    accepted_type = [(n, ReferralAccepted.cloudevents_type().encode() if n == "ce_type" else v) for n, v in headers]
    consumer = consumer_of(ReferralSubmitted)
    assert consumer.triage(record_on("referral.events", accepted_type, key, b"{not json")) is None


def test_a_valid_event_is_handed_to_its_handler() -> None:
    """The happy path: decoded, on its own topic, with a handler."""
    event = referral()
    headers, key, value = wire(event)
    triaged = consumer_of(ReferralSubmitted).triage(record_on("referral.inbound", headers, key, value))
    assert triaged is not None and triaged.reason is None and triaged.event == event


async def test_an_event_over_the_topics_limit_is_refused_when_queued_naming_its_type_and_size() -> None:
    """Checked before anything is written: the handler's input is dead-lettered, saying why."""
    schema = Path(__file__).parents[2] / "contracts" / "schemas" / f"{AssessmentShared.cloudevents_type()}.json"
    copy = AssessmentShared.model_validate(json.loads(schema.read_text())["examples"][0])
    oversized = copy.model_copy(update={"sealed": copy.sealed.model_copy(update={"ciphertext": "A" * MAX_EVENT_BYTES})})
    envelope = Envelope(id=uuid4(), source="/carepath/assessment", type=AssessmentShared.cloudevents_type(),
                        time=datetime.now(UTC), subject=oversized.key, correlationid=uuid4())
    with pytest.raises(EventTooLarge) as refused:
        await add(None, (oversized, envelope))  # no connection needed: refused before any write
    assert "carepath.assessment.shared.v2" in refused.value.reason and str(MAX_EVENT_BYTES) in refused.value.reason
