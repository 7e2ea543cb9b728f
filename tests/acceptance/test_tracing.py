"""Traces on the real broker: the four services, exporting over OTLP/HTTP to a receiver in the
test, turn one whole journey into one trace, and nothing they export says who the patient is."""

import asyncio
import gzip
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse

from contracts import DischargeConversationRecorded, ResponseTargetBreached
from shared.runtime import tracing
from tests.acceptance.deployment import Deployment
from tools.journey import Journey, Patient

SERVICES = ("referral", "assessment", "scheduling", "discharge")


@dataclass(frozen=True)
class Span:
    service: str
    trace_id: str
    span_id: str
    parent_id: str
    start: int
    name: str
    kind: int
    attributes: dict[str, object]


@dataclass
class Receiver:
    """What an OpenTelemetry collector would be sent: each request's body as it came, and its spans."""

    url: str = ""
    bodies: list[bytes] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        found = []
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    found.append(Span(resource.get("service.name", ""), span.trace_id.hex(), span.span_id.hex(),
                                      span.parent_span_id.hex(), span.start_time_unix_nano, span.name, span.kind,
                                      {a.key: _value(a.value) for a in span.attributes}))
        with self.lock:
            self.bodies.append(body)
            self.spans.extend(found)

    def sent(self) -> list[Span]:
        return [span for span in self.spans if span.name.startswith("send ")]


def _value(value) -> object:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


@contextmanager
def otlp_receiver() -> Iterator[Receiver]:
    """An OTLP/HTTP endpoint (protobuf, `POST /v1/traces`) on a free port of 127.0.0.1."""
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path == "/v1/traces":
                receiver.take(body)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200 if self.path == "/v1/traces" else 404)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@asynccontextmanager
async def exporting_to(deployment: Deployment, url: str) -> AsyncIterator[None]:
    """The services restarted with `CAREPATH_OTLP_ENDPOINT` (and a short export delay); on the way
    out, stopped (which exports what they still hold) and started again as they were."""
    await restart(deployment, CAREPATH_OTLP_ENDPOINT=url, OTEL_BSP_SCHEDULE_DELAY="200")
    try:
        yield
    finally:
        for service in deployment.services.values():
            service.stop()
        await restart(deployment)


async def restart(deployment: Deployment, **env: str) -> None:
    for service in deployment.services.values():
        service.stop()
        Path(service.env["CAREPATH_HEARTBEAT_FILE"]).unlink(missing_ok=True)
        service.start(**env)
    await deployment.ready()


@pytest.fixture(scope="module")
async def exported(deployment: Deployment) -> AsyncIterator[Receiver]:
    """The services, and this process's Trust systems, exporting to a receiver for this module's tests."""
    with otlp_receiver() as receiver:
        async with exporting_to(deployment, receiver.url):
            tracing.configure("trust-systems", receiver.url)  # the Trust systems' spans: each trace's root
            try:
                yield receiver
            finally:
                tracing.shutdown()
                tracing.configure("carepath")


async def flushed(receiver: Receiver, done: Callable[[], bool], timeout_s: float = 20) -> None:
    """Until `done` holds of what was received (the services export every 200 ms; the Trust
    systems' spans are flushed here)."""
    tracing.force_flush()
    async with asyncio.timeout(timeout_s):
        while not done():
            await asyncio.sleep(0.2)


async def test_a_whole_journey_is_one_trace_through_all_four_services_and_no_span_carries_the_patient(
    deployment: Deployment, journey: Journey, patient: Patient, exported: Receiver,
) -> None:
    """Referral to discharge: every event of the journey on Kafka carries one trace id in
    `ce_traceparent`; every span about those events, exported over OTLP by the Trust systems and
    all four services, is in that one trace; and no exported byte holds the patient's id (the
    Kafka key), name, H&C number, referral id or any other body field."""
    receiver = exported
    closed = await journey.run()
    await deployment.settled()

    assert journey.trace is not None
    trace_id = journey.trace.split("-")[1]
    ours = [logged for logged in deployment.log.seen if logged.correlation == str(patient.correlation_id) and logged.envelope]
    assert len(ours) > 20, "a whole journey: referral, assessment, plan, visits, discharge"
    assert {logged.envelope.traceparent.split("-")[1] for logged in ours} == {trace_id}, "one trace id on every event"

    event_ids = {str(logged.envelope.id) for logged in ours}
    await flushed(receiver, lambda: event_ids <= {s.attributes.get("cloudevents.event_id") for s in receiver.sent()}
                  and set(SERVICES) <= {s.service for s in receiver.spans if s.trace_id == trace_id and s.name.startswith("process ")})
    spans = [span for span in receiver.spans if span.attributes.get("cloudevents.event_id") in event_ids]
    assert {span.trace_id for span in spans} == {trace_id}, "every span of the journey in its one trace"
    assert set(SERVICES) <= {span.service for span in spans}, "spans from all four services"
    sent = {span.attributes["cloudevents.event_id"] for span in spans if span.name.startswith("send ")}
    assert sent == event_ids, "every event of the journey published in a span, Trust systems' and carepath's"
    handled = {span.service for span in spans if span.name.startswith("process ") and span.attributes["carepath.outcome"] == "handled"}
    assert handled == set(SERVICES)
    [root] = [span for span in receiver.spans if span.trace_id == trace_id and not span.parent_id]
    assert (root.service, root.name) == ("trust-systems", "send referral.inbound")

    canaries = {str(closed.patient_id), closed.patient_id.hex, str(closed.episode_id), closed.episode_id.hex, patient.name,
                *patient.name.split(), patient.hc_number, patient.hc_number.replace(" ", ""), patient.referral_id,
                str(patient.correlation_id)}
    exported = b"".join(receiver.bodies)
    assert not {canary for canary in canaries if canary.encode() in exported}, "an exported span carries the patient"
    assert "messaging.kafka.message.key" not in {name for span in receiver.spans for name in span.attributes}


async def test_an_event_parked_and_handled_later_stays_in_its_journeys_trace(
    deployment: Deployment, journey: Journey, exported: Receiver,
) -> None:
    """A discharge conversation recorded before the discharge service knows the episode is parked,
    and handled once the assessment brings the episode: both attempts are spans of the journey's
    trace, parked and then unparked."""
    accepted = await journey.refer()
    early = await journey.publish(journey.clinician, DischargeConversationRecorded(
        patient_id=accepted.patient_id, episode_id=accepted.episode_id, recorded_by="staff-0007", recorded_at=datetime.now(UTC)))
    await journey.assess(accepted)
    await deployment.settled()

    trace_id = journey.trace.split("-")[1]

    def attempts() -> list[Span]:
        return [span for span in exported.spans if span.attributes.get("cloudevents.event_id") == str(early.id)
                and span.name == "process discharge.inbound"]
    await flushed(exported, lambda: {s.attributes.get("carepath.outcome") for s in attempts()} >= {"parked", "unparked"})
    tried = attempts()
    assert {(span.service, span.trace_id) for span in tried} == {("discharge", trace_id)}
    # Each attempt is a span: the batch's quick way through failing ("failed"; the batch is then
    # handled again one event at a time), parked, perhaps still parked when the sweep tried it.
    outcomes = [span.attributes["carepath.outcome"] for span in sorted(tried, key=lambda span: span.start)]
    settled = [outcome for outcome in outcomes if outcome != "failed"]
    assert settled[0] == "parked" and settled[-1] == "unparked" and set(settled[1:-1]) <= {"parked"}, outcomes


async def test_a_breach_the_deadline_check_finds_later_is_in_the_referrals_trace(
    deployment: Deployment, journey: Journey, exported: Receiver,
) -> None:
    """The response-target breach is emitted by a periodic job, hours after the referral was
    handled, and still joins the referral's trace (kept with the referral)."""
    accepted = await journey.refer()
    try:
        deployment.move_clock(timedelta(hours=4, minutes=10))
        await deployment.log.wait_for(ResponseTargetBreached, lambda e: e.referral_id == accepted.referral_id)
    finally:
        deployment.move_clock(timedelta(0))
    [breach] = [logged.envelope for logged in deployment.log.seen
                if isinstance(logged.event, ResponseTargetBreached) and logged.event.referral_id == accepted.referral_id]
    trace_id = journey.trace.split("-")[1]
    assert breach.traceparent.split("-")[1] == trace_id
    await flushed(exported, lambda: any(span.attributes.get("cloudevents.event_id") == str(breach.id) for span in exported.sent()))
    [sent] = [span for span in exported.sent() if span.attributes.get("cloudevents.event_id") == str(breach.id)]
    assert (sent.service, sent.trace_id) == ("referral", trace_id)
