"""Publishing into carepath as an integrating Trust system does: a CloudEvents envelope in
`ce_` headers (the W3C traceparent among them), the event as JSON, an idempotent producer with
acks=all."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

from aiokafka import AIOKafkaProducer

from contracts import Envelope, Event
from shared.runtime import tracing
from shared.runtime.codec import encode
from shared.runtime.kafka import KafkaLogin


class TrustSystem:
    """One Trust system, logged in as the principal its source names (`/trust/belfast/gp-system`
    is the `gp-system` principal), so it can write only the topics that kind of system may."""

    def __init__(self, login: KafkaLogin, prefix: str, source: str) -> None:
        self._producer = AIOKafkaProducer(**login.as_principal(source.rsplit("/", 1)[-1]).options(), enable_idempotence=True, acks="all")
        self._prefix = prefix
        self.source = source

    async def __aenter__(self) -> "TrustSystem":
        await self._producer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._producer.stop()

    async def publish(
        self, event: Event, *, correlation_id: UUID | None = None, envelope: Envelope | None = None, trace: str | None = None
    ) -> Envelope:
        """Publishes an event in a span of its own (a PRODUCER span: `shared.runtime.tracing`), a
        child of `trace` (a traceparent: the journey's, to continue it) or else a new trace's
        root; its traceparent travels as `ce_traceparent`. An `envelope` given is sent as it is."""
        if envelope is not None:
            record = encode(event, envelope)
            await self.publish_raw(event.topic.name, record.key, record.value, record.headers)
            return envelope
        envelope = Envelope(
            id=uuid4(),
            source=self.source,
            type=event.cloudevents_type(),
            time=datetime.now(UTC),
            subject=event.key,
            correlationid=correlation_id or uuid4(),
            traceparent=trace,
        )
        record = encode(event, envelope)
        span = tracing.publishing(event.topic.name, record.headers)
        try:
            await self.publish_raw(event.topic.name, record.key, record.value, record.headers)
        except BaseException as error:
            tracing.sent(span, error)
            raise
        tracing.sent(span)
        return envelope.model_copy(update={"traceparent": record.headers.get(tracing.TRACEPARENT_HEADER)})

    async def publish_raw(self, topic: str, key: bytes | None, value: bytes, headers: dict[str, str]) -> None:
        """Sends bytes as they are: how the tests play a faulty or hostile Trust system."""
        await self._producer.send_and_wait(
            f"{self._prefix}.{topic}", value, key=key, headers=[(name, text.encode()) for name, text in headers.items()]
        )
