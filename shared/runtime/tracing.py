"""Traces: one referral is one trace, from the Trust system's event through all four services.

The W3C traceparent travels in the CloudEvents distributed-tracing extension, the `ce_traceparent`
header (`Envelope.traceparent`). A service handling an event opens a CONSUMER span, child of the
traceparent it came with (a new trace when it came with none, or a malformed one); the events
its handler emits carry that span's traceparent into the outbox (inside the stored headers, so
no column of its own); the relay opens a PRODUCER span, child of it, as it publishes each one,
and puts its own traceparent on the record. Kafka carries the rest.

Every process carries the context on: a service that exports nothing still gives each event a
span id of its own (recording nothing), so the trace stays whole for a service downstream that
does. Spans are exported over OTLP/HTTP only when an endpoint is configured
(`CAREPATH_OTLP_ENDPOINT`); the OpenTelemetry SDK's own variables (`OTEL_EXPORTER_OTLP_HEADERS`,
`OTEL_BSP_SCHEDULE_DELAY`, `OTEL_TRACES_SAMPLER`...) are honoured as usual. A span is an attempt:
a batch rolled back and handled again shows its events twice, and only the attempt that
committed has children. A sender's sampling flag is kept: a trace it marks not sampled is
carried on but recorded nowhere.

What a span may say is carepath's own words only (`ALLOWED`): the event type, the event id, the
topic's name, partition and offset, the consumer group, the outcome, `messaging.system`. Never
the Kafka key (the pseudonymous patient id), a body field, or any other header. `AllowListed`
enforces it at the one place every span passes on its way out, so even a library's own
instrumentation cannot leak what carepath's code would not write.

FastStream's telemetry middleware is not used: carepath's services consume through their own
loop (`shared.runtime.loop`), and on publishing the middleware writes the key and the correlation
id as attributes and the context as a bare `traceparent` header, not the CloudEvents one.
"""

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter, Setter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import Link, NonRecordingSpan, Span, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from contracts import EVENT_TYPES, TOPICS
from contracts.envelope import valid_traceparent

TRACEPARENT_HEADER = "ce_traceparent"
SERVICES = ("referral", "assessment", "scheduling", "discharge")

# Attribute names carepath writes (OpenTelemetry's messaging and CloudEvents conventions, and
# its own outcome), each with the only values it may hold.
MESSAGING_SYSTEM = "messaging.system"
OPERATION = "messaging.operation.type"
DESTINATION = "messaging.destination.name"
PARTITION = "messaging.destination.partition.id"
OFFSET = "messaging.kafka.offset"
GROUP = "messaging.consumer.group.name"
EVENT_TYPE = "cloudevents.event_type"
EVENT_ID = "cloudevents.event_id"
OUTCOME = "carepath.outcome"
ERROR_TYPE = "error.type"

_TOPIC_NAMES = frozenset(topic.name for topic in TOPICS)
_OPERATIONS = frozenset({"process", "send"})
_OUTCOMES = frozenset({"handled", "duplicate", "parked", "dead-lettered", "unparked", "no-longer-handled", "published",
                       "failed"})
_GROUP = re.compile(rf"^[A-Za-z0-9._-]{{1,100}}-({'|'.join(SERVICES)})(-delivery)?$")
_ERROR_TYPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,80}$")  # an exception's class name, never its message


def _uuid(value: Any) -> bool:
    try:
        return isinstance(value, str) and str(UUID(value)) == value
    except ValueError:
        return False


ALLOWED: Mapping[str, Callable[[Any], bool]] = {
    MESSAGING_SYSTEM: lambda value: value == "kafka",
    OPERATION: lambda value: value in _OPERATIONS,
    DESTINATION: lambda value: value in _TOPIC_NAMES,
    PARTITION: lambda value: isinstance(value, str) and value.isdigit() and len(value) <= 4,
    OFFSET: lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= 0,
    GROUP: lambda value: isinstance(value, str) and _GROUP.fullmatch(value) is not None,
    EVENT_TYPE: lambda value: value in EVENT_TYPES or value == "unknown",
    EVENT_ID: _uuid,
    OUTCOME: lambda value: value in _OUTCOMES,
    ERROR_TYPE: lambda value: isinstance(value, str) and _ERROR_TYPE.fullmatch(value) is not None,
}
_SPAN_NAME = re.compile(r"^(process|send) (\S+)$")


def allowed_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """The attributes on the allow-list with a value it allows; everything else is dropped."""
    return {name: value for name, value in (attributes or {}).items() if name in ALLOWED and ALLOWED[name](value)}


def allowed_name(name: str) -> str:
    """A span's name, kept only when it is `<operation> <carepath topic>`, as carepath names them."""
    found = _SPAN_NAME.fullmatch(name)
    return name if found and found.group(2) in _TOPIC_NAMES else "carepath"


class AllowListed(SpanProcessor):
    """Wraps the processor that exports: what reaches it is the span with only the attributes on
    `ALLOWED` (names and values both), a name of carepath's own form, no events (an exception's
    event holds its message, which may quote what failed), links without attributes, and a status
    without its description. Every processor carepath adds to a provider is wrapped in one, so
    nothing leaves the process that this class has not passed: not carepath's spans, and not any
    library's."""

    def __init__(self, inner: SpanProcessor) -> None:
        self._inner = inner

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        pass  # the exporting processors look only at ended spans; nothing is passed on unscrubbed

    def on_end(self, span: ReadableSpan) -> None:
        self._inner.on_end(scrubbed(span))

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


def scrubbed(span: ReadableSpan) -> ReadableSpan:
    return ReadableSpan(
        name=allowed_name(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=allowed_attributes(span.attributes),
        events=(),
        links=tuple(Link(link.context) for link in span.links),
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class _CloudEventsHeaders(Getter[Mapping[str, str]], Setter[MutableMapping[str, str]]):
    """W3C Trace Context read from and written to the CloudEvents header, `ce_traceparent`; the
    `tracestate` is neither read nor written (see `contracts.envelope`)."""

    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        value = carrier.get(TRACEPARENT_HEADER) if key == "traceparent" else None
        return [value] if valid_traceparent(value) else None

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return ["traceparent"] if TRACEPARENT_HEADER in carrier else []

    def set(self, carrier: MutableMapping[str, str], key: str, value: str) -> None:
        if key == "traceparent":
            carrier[TRACEPARENT_HEADER] = value


_HEADERS = _CloudEventsHeaders()
_W3C = TraceContextTextMapPropagator()


def parent_of(traceparent: str | None) -> Context:
    """The context a span continues: the trace of `traceparent`, or a new trace when it is None
    or malformed (W3C Trace Context: a receiver ignores what it cannot parse)."""
    return _W3C.extract({TRACEPARENT_HEADER: traceparent} if traceparent else {}, context=Context(), getter=_HEADERS)


def traceparent_in(headers: Iterable[tuple[str, bytes | None]] | None) -> str | None:
    """The `ce_traceparent` of a record as it arrived, if it is a valid one: so a record that cannot
    be decoded is still dead-lettered in its sender's trace (only a W3C traceparent is taken)."""
    for name, value in headers or ():
        if name == TRACEPARENT_HEADER and value is not None:
            text = value.decode("utf-8", errors="replace")
            return text if valid_traceparent(text) else None
    return None


def traceparent_of(span: Span | None = None) -> str | None:
    """The traceparent of `span` (default: the current one), or None when there is none."""
    carrier: dict[str, str] = {}
    ctx = trace.set_span_in_context(span) if span is not None else otel_context.get_current()
    _W3C.inject(carrier, context=ctx, setter=_HEADERS)
    return carrier.get(TRACEPARENT_HEADER)


def _provider(name: str, processors: list[SpanProcessor]) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": name, "service.namespace": "carepath"}))
    for processor in processors:
        provider.add_span_processor(AllowListed(processor))
    return provider


_current: TracerProvider = _provider("carepath", [])  # spans with ids, carried on, exported nowhere
_tracer = _current.get_tracer("carepath")  # kept: getting one costs more than the span it makes
_exporting = False
_IDS = RandomIdGenerator()
_global_set = False


class _Current(trace.TracerProvider):
    """OpenTelemetry's global provider, as carepath sets it: the one `configure` made last."""

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return _current.get_tracer(*args, **kwargs)


def configure(name: str, otlp_endpoint: str | None = None, *, exporter: SpanExporter | None = None) -> TracerProvider:
    """The one place tracing is set up in a process, for `name` (a service's, or a tool's): spans
    exported over OTLP/HTTP to `otlp_endpoint` when given (its base URL: `/v1/traces` is added),
    and to `exporter` at once when given (the tests' in-memory one). OpenTelemetry's global
    provider is made to hand out this one's tracers, so a library's instrumentation, were any
    added, goes through `AllowListed` too."""
    global _current, _tracer, _exporting, _global_set
    processors: list[SpanProcessor] = []
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint if otlp_endpoint.rstrip("/").endswith("/v1/traces") else otlp_endpoint.rstrip("/") + "/v1/traces"
        processors.append(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    if exporter is not None:
        processors.append(SimpleSpanProcessor(exporter))
    _current = _provider(name, processors)
    _tracer = _current.get_tracer("carepath")
    _exporting = bool(processors)
    if not _global_set:
        trace.set_tracer_provider(_Current())
        _global_set = True
    return _current


def shutdown() -> None:
    """Exports what is still queued (waiting at most the exporter's timeout) and stops exporting."""
    _current.shutdown()


def force_flush() -> None:
    """Exports at once what is queued (the tools' and tests' short-lived processes)."""
    _current.force_flush()


def tracer() -> trace.Tracer:
    return _tracer


@contextmanager
def processing(group: str, topic: str, partition: int, offset: int, event_type: str | None, event_id: UUID | None,
               traceparent: str | None) -> Iterator[Span]:
    """The CONSUMER span of one event handled by `group`, current while its handler runs (so the
    events it emits carry it), child of the traceparent the event came with. An error raising
    through it marks the attempt failed, by the error's class name alone (a batch's quick way
    through failing, say, before its events are handled again one by one)."""
    attributes = {MESSAGING_SYSTEM: "kafka", OPERATION: "process", DESTINATION: topic, PARTITION: str(partition),
                  OFFSET: offset, GROUP: group, EVENT_TYPE: event_type if event_type in EVENT_TYPES else "unknown"}
    if event_id is not None:
        attributes[EVENT_ID] = str(event_id)
    span = _start(f"process {topic}", parent_of(traceparent), SpanKind.CONSUMER, attributes)
    with trace.use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
        try:
            yield span
        except BaseException as error:
            cause = error.__cause__ or error  # the consumer's own wrappers say less than what they wrap
            span.set_attributes({OUTCOME: "failed", ERROR_TYPE: type(cause).__name__})
            span.set_status(Status(StatusCode.ERROR))
            raise


def _start(name: str, parent: Context, kind: SpanKind, attributes: dict[str, Any]) -> Span:
    """A span of the SDK's while anything is exported; else one that only carries the trace on:
    an id of its own, the trace and sampling flag of its parent (a new sampled trace without
    one), nothing recorded. Recording a span nobody exports cost each event about 45 us."""
    if _exporting:
        return _tracer.start_span(name, context=parent, kind=kind, attributes=attributes)
    before = trace.get_current_span(parent).get_span_context()
    trace_id = before.trace_id if before.is_valid else _IDS.generate_trace_id()
    flags = before.trace_flags if before.is_valid else TraceFlags(TraceFlags.SAMPLED)
    return NonRecordingSpan(SpanContext(trace_id, _IDS.generate_span_id(), is_remote=False, trace_flags=flags))


def outcome(span: Span, what: str) -> None:
    span.set_attribute(OUTCOME, what)


def publishing(topic: str, headers: MutableMapping[str, str]) -> Span:
    """Starts the PRODUCER span of one event about to be sent to `topic`, child of the traceparent
    in its headers, and puts the span's own traceparent there in its place. The caller ends it
    (`sent`) once the broker has answered."""
    event_type = headers.get("ce_type")
    attributes = {MESSAGING_SYSTEM: "kafka", OPERATION: "send", DESTINATION: topic,
                  EVENT_TYPE: event_type if event_type in EVENT_TYPES else "unknown"}
    if _uuid(headers.get("ce_id")):
        attributes[EVENT_ID] = headers["ce_id"]
    span = _start(f"send {topic}", parent_of(headers.get(TRACEPARENT_HEADER)), SpanKind.PRODUCER, attributes)
    if (own := traceparent_of(span)) is not None:
        headers[TRACEPARENT_HEADER] = own
    return span


def sent(span: Span, error: BaseException | None = None) -> None:
    if error is None:
        outcome(span, "published")
    else:
        span.set_attributes({OUTCOME: "failed", ERROR_TYPE: type(error).__name__})
        span.set_status(Status(StatusCode.ERROR))
    span.end()
