"""Traces (shared/runtime/tracing.py): the W3C traceparent carried in `ce_traceparent` from hop to
hop so one referral is one trace, a malformed one ignored, and nothing of a patient in any span."""

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import ConsumerRecord
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from contracts import Envelope, ReferralAccepted, ReferralSubmitted
from contracts.envelope import valid_traceparent
from contracts.generate import example
from shared.runtime import tracing
from shared.runtime.clock import SystemClock
from shared.runtime.codec import Undecodable, decode_record, encode
from shared.runtime.consumer import ReliableConsumer
from shared.runtime.context import HandlerContext
from shared.runtime.outbox import OutboxRelay, PendingEvent
from tests.factories import envelope_for, referral

PREFIX = "unit"
HC_NUMBER = "943 476 5919"
NAME = "Canary-Tracename Surname"
VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
MALFORMED = [
    "",
    "not a traceparent",
    NAME,
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",  # upper case
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # the version W3C forbids
    "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # a version carepath does not read
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # no trace id
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # no parent id
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
    " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # a digit short
]


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    """Every span this test ends, as an exporter would be given it."""
    memory = InMemorySpanExporter()
    tracing.configure("unit", exporter=memory)
    try:
        yield memory
    finally:
        tracing.shutdown()
        tracing.configure("carepath")  # spans made, exported nowhere, as before


def trace_id_of(traceparent: str) -> str:
    return traceparent.split("-")[1]


def test_a_traceparent_is_read_and_written_in_the_w3c_form() -> None:
    """A traceparent read is the parent it names; a span continuing it keeps its trace id and
    writes a traceparent of its own in the same form."""
    parent = trace.get_current_span(tracing.parent_of(VALID)).get_span_context()
    assert (f"{parent.trace_id:032x}", f"{parent.span_id:016x}", parent.is_remote) == (trace_id_of(VALID), "00f067aa0ba902b7", True)
    span = tracing.tracer().start_span("process referral.inbound", context=tracing.parent_of(VALID))
    own = tracing.traceparent_of(span)
    span.end()
    assert own is not None and valid_traceparent(own)
    assert trace_id_of(own) == trace_id_of(VALID) and own.split("-")[2] != "00f067aa0ba902b7" and own.endswith("-01")


@pytest.mark.parametrize("flags", ["01", "00"])
def test_a_service_exporting_nothing_still_carries_the_trace_on(flags: str) -> None:
    """Without an exporter, an event's span records nothing but has an id of its own in the
    sender's trace, with the sender's sampling decision: what the handler emits and the relay
    publishes continue the trace for a service downstream that exports."""
    sender = VALID[:-2] + flags
    with tracing.processing(f"{PREFIX}-referral", "referral.inbound", 0, 7, "carepath.referral.submitted.v1", uuid4(), sender) as span:
        emitted = tracing.traceparent_of()
    assert not span.is_recording()
    headers = {"ce_type": "carepath.referral.accepted.v1", "ce_id": str(uuid4()), "ce_traceparent": emitted}
    tracing.sent(tracing.publishing("referral.events", headers))
    hops = [sender, emitted, headers["ce_traceparent"]]
    assert all(valid_traceparent(hop) for hop in hops) and len({hop.split("-")[2] for hop in hops}) == 3
    assert {trace_id_of(hop) for hop in hops} == {trace_id_of(VALID)} and {hop[-2:] for hop in hops} == {flags}
    with tracing.processing(f"{PREFIX}-referral", "referral.inbound", 0, 8, None, None, None):
        fresh = tracing.traceparent_of()
    assert trace_id_of(fresh) != trace_id_of(VALID) and fresh.endswith("-01")  # a new trace, sampled


@pytest.mark.parametrize("malformed", MALFORMED)
def test_an_event_with_a_malformed_traceparent_is_handled_and_starts_a_new_trace(malformed: str, exported) -> None:
    """What a sender puts in `ce_traceparent`, if not a W3C traceparent, is ignored (W3C Trace
    Context asks it): the event decodes, and its span is the root of a new trace."""
    event = referral(hc_number=HC_NUMBER, patient_name=NAME)
    record = encode(event, envelope_for(event))
    headers = [(name, value.encode()) for name, value in (record.headers | {"ce_traceparent": malformed}).items()]
    envelope, _ = decode_record(headers, record.key, record.value)
    assert envelope.traceparent is None
    consumer = consumer_of(ReferralSubmitted)
    with consumer._traced(kafka_record("referral.inbound", headers, record.key, record.value), envelope):
        pass
    [span] = exported.get_finished_spans()
    assert span.parent is None and f"{span.context.trace_id:032x}" != trace_id_of(VALID)


def test_a_record_that_cannot_be_decoded_is_dead_lettered_in_its_senders_trace_saying_nothing_it_claims(exported) -> None:
    """A poison record's span continues a valid traceparent it came with, but repeats none of its
    other headers: not its type, not its id, not its subject."""
    headers = [("ce_traceparent", VALID.encode()), ("ce_type", NAME.encode()), ("ce_id", str(uuid4()).encode()),
               ("ce_subject", HC_NUMBER.replace(" ", "").encode())]
    consumer = consumer_of(ReferralSubmitted)
    record = kafka_record("referral.inbound", headers, b"someone", b'{"not": "a referral"}')
    triaged = consumer.triage(record)
    assert triaged is not None and triaged.reason is not None
    with consumer._traced(record, triaged.envelope) as span:
        tracing.outcome(span, "dead-lettered")
    [out] = exported.get_finished_spans()
    assert f"{out.context.trace_id:032x}" == trace_id_of(VALID) and f"{out.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert out.attributes[tracing.EVENT_TYPE] == "unknown" and tracing.EVENT_ID not in out.attributes
    assert out.attributes[tracing.OUTCOME] == "dead-lettered" and NAME not in everything_said(out)


def test_a_traceparent_longer_than_any_attribute_may_be_is_refused_as_the_schema_says() -> None:
    """Over 512 characters is not a malformed traceparent but an over-long header: the published
    schema refuses it, and so does the service (dead-lettered, like any other over-long header)."""
    event = referral()
    record = encode(event, envelope_for(event))
    headers = [(name, value.encode()) for name, value in (record.headers | {"ce_traceparent": "0" * 513}).items()]
    with pytest.raises(Undecodable, match="traceparent"):
        decode_record(headers, record.key, record.value)


def test_no_span_carries_the_key_a_body_field_a_sensitive_header_or_an_error_message(exported) -> None:
    """Whatever is written on a span, by carepath's code or a library's, what is exported holds
    only the allow-listed attributes with allowed values: no key, no name, no H&C number."""
    patient_id = str(uuid4())
    link = Link(trace.get_current_span(tracing.parent_of(VALID)).get_span_context(), {"patient": patient_id})
    library = trace.get_tracer("some.library")  # a library's instrumentation, through the global provider
    with library.start_as_current_span(f"{patient_id} publish", kind=SpanKind.PRODUCER, links=[link], attributes={
        "messaging.kafka.message.key": patient_id,
        "messaging.message.conversation_id": str(uuid4()),
        "patient_name": NAME,
        "hc_number": HC_NUMBER,
        tracing.EVENT_TYPE: NAME,  # an allowed name with a value not allowed
        tracing.DESTINATION: f"{NAME}.inbound",
        tracing.GROUP: patient_id,
        tracing.ERROR_TYPE: f"failed for {NAME}",
        tracing.PARTITION: "3",
        tracing.MESSAGING_SYSTEM: "kafka",
    }) as span:
        span.add_event("exception", {"exception.message": f"duplicate key (hc_number)=({HC_NUMBER})"})
        span.set_status(Status(StatusCode.ERROR, f"could not refer {NAME}"))
    [out] = exported.get_finished_spans()
    assert dict(out.attributes) == {tracing.PARTITION: "3", tracing.MESSAGING_SYSTEM: "kafka"}
    assert out.name == "carepath" and out.events == () and out.status.description is None
    assert [dict(link.attributes or {}) for link in out.links] == [{}]
    shown = everything_said(out)
    for canary in (patient_id, NAME, *NAME.split(), HC_NUMBER, HC_NUMBER.replace(" ", "")):
        assert canary not in shown


def test_a_handler_failing_is_recorded_by_its_kind_alone(exported) -> None:
    """An exception raised through an event's span marks it failed with the exception's class name,
    never its message."""
    consumer = consumer_of(ReferralSubmitted)
    event = referral(hc_number=HC_NUMBER, patient_name=NAME)
    envelope = envelope_for(event)
    record = encode(event, envelope)
    with pytest.raises(ValueError), consumer._traced(kafka_record("referral.inbound", [], record.key, record.value), envelope):
        raise ValueError(f"no such patient {NAME}")
    [span] = exported.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR and span.attributes[tracing.ERROR_TYPE] == "ValueError"
    assert span.attributes[tracing.OUTCOME] == "failed"
    assert NAME not in everything_said(span)


async def test_a_journey_through_handler_outbox_and_relay_is_one_trace_with_nothing_of_the_patient(exported) -> None:
    """A Trust system's referral, handled (its span current while the handler emits), queued in
    the outbox, published by the relay and handled by the next service: every span one trace,
    each the child of the one before, and no span says who the patient is."""
    patient_id = uuid4()
    submitted = referral(hc_number=HC_NUMBER, patient_name=NAME)
    trust_headers = encode(submitted, envelope_for(submitted)).headers
    trust_span = tracing.publishing("referral.inbound", trust_headers)  # as tools/trust.py does
    tracing.sent(trust_span)
    inbound = encode(submitted, envelope_for(submitted, traceparent=trust_headers["ce_traceparent"]))

    outbox = FakeOutbox()
    envelope, event = decode_record(as_kafka(inbound.headers), inbound.key, inbound.value)
    referral_service = consumer_of(ReferralSubmitted, group=f"{PREFIX}-referral")
    with referral_service._traced(kafka_record("referral.inbound", as_kafka(inbound.headers), inbound.key, inbound.value), envelope) as span:
        ctx = HandlerContext(outbox, SystemClock(), "/carepath/referral", envelope)
        await ctx.emit(accepted(patient_id, event))
        tracing.outcome(span, "handled")

    sent: list[PendingEvent] = []

    async def send(pending: PendingEvent) -> asyncio.Future:
        sent.append(pending)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    assert await OutboxRelay(None, send).publish_batch(outbox) == 1
    [published] = sent
    envelope, _ = decode_record(as_kafka(published.headers), published.key, published.value)
    assessment_service = consumer_of(ReferralAccepted, group=f"{PREFIX}-assessment")
    record = kafka_record("referral.events", as_kafka(published.headers), published.key, published.value)
    with assessment_service._traced(record, envelope) as span:
        tracing.outcome(span, "handled")

    spans = sorted(exported.get_finished_spans(), key=lambda span: span.start_time)
    assert [(span.name, span.kind) for span in spans] == [
        ("send referral.inbound", SpanKind.PRODUCER), ("process referral.inbound", SpanKind.CONSUMER),
        ("send referral.events", SpanKind.PRODUCER), ("process referral.events", SpanKind.CONSUMER),
    ]
    assert len({span.context.trace_id for span in spans}) == 1
    assert spans[0].parent is None
    assert all(child.parent.span_id == parent.context.span_id for parent, child in zip(spans, spans[1:]))
    assert spans[3].attributes == {
        "messaging.system": "kafka", "messaging.operation.type": "process", "messaging.destination.name": "referral.events",
        "messaging.destination.partition.id": "0", "messaging.kafka.offset": 7, "messaging.consumer.group.name": "unit-assessment",
        "cloudevents.event_type": "carepath.referral.accepted.v1", "cloudevents.event_id": str(envelope.id),
        "carepath.outcome": "handled",
    }
    shown = "".join(everything_said(span) for span in spans)
    for canary in (str(patient_id), submitted.referral_id, NAME, *NAME.split(), HC_NUMBER, HC_NUMBER.replace(" ", "")):
        assert canary not in shown


def everything_said(span: ReadableSpan) -> str:
    """Every string an exporter would send of a span, but its ids."""
    return json.dumps([span.name, dict(span.attributes or {}), [dict(e.attributes or {}) for e in span.events],
                       [dict(link.attributes or {}) for link in span.links], span.status.description,
                       dict(span.resource.attributes)], default=str)


def consumer_of(*handled: type, group: str = f"{PREFIX}-referral") -> ReliableConsumer:
    async def handler(ctx, event) -> None:
        raise AssertionError("not called here")

    return ReliableConsumer(group=group, pool=None, handlers={cls: handler for cls in handled}, topic_prefix=PREFIX,
                            clock=SystemClock(), source="/carepath/unit")


def kafka_record(topic: str, headers: list, key: bytes, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(f"{PREFIX}.{topic}", 0, 7, 0, 0, key, value, None, 0, 0, headers)


def as_kafka(headers: dict[str, str]) -> list[tuple[str, bytes]]:
    return [(name, value.encode()) for name, value in headers.items()]


def accepted(patient_id, submitted: ReferralSubmitted) -> ReferralAccepted:
    now = datetime.now(UTC).isoformat()
    return ReferralAccepted.model_validate(example(ReferralAccepted) | {
        "patient_id": str(patient_id), "referral_id": submitted.referral_id, "accepted_at": now, "assess_by": now,
    })


class FakeOutbox:
    """The outbox table as the handler's connection and the relay's see it: rows queued by
    `outbox.add`, read and deleted by the relay."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    async def execute(self, sql: str, *args: Any) -> None:
        if sql.lstrip().startswith("WITH queued AS (INSERT INTO outbox (event_id, topic, key, value, headers) VALUES"):
            _, topic, key, value, headers = args
            self.rows.append({"seq": len(self.rows) + 1, "topic": topic, "key": key, "value": value, "headers": headers})
        elif sql.startswith("DELETE FROM outbox"):
            self.rows = [row for row in self.rows if row["seq"] not in args[0]]
        else:
            raise AssertionError(f"unexpected statement: {sql}")

    async def fetch(self, sql: str, limit: int) -> list[dict[str, Any]]:
        return self.rows[:limit]
