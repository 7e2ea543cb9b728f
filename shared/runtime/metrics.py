"""What a service tells Prometheus: what became of the events it took, how long its handlers
took, how far behind each of its partitions is, its outbox and parked events, and the care
alerts it raised (response targets breached, visits missed, follow-ups breached).

No label carries a patient id, a name or anything from an event: the labels are the consumer
group, carepath's own event types (anything else is counted as `unknown`), the outcome, the kind
of dead-letter reason, and topic names with partition numbers. The service serves them on its
own port, 127.0.0.1 unless told otherwise (`CAREPATH_METRICS_HOST`, `CAREPATH_METRICS_PORT`).

FastStream's Prometheus middleware is not used: it measures FastStream's own subscribers, and
carepath's services consume through their own loop (`shared.runtime.loop`); what they publish
is counted here, once Kafka has acknowledged it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from contracts import EVENT_TYPES

EVENTS = Counter("carepath_events", "Events a consumer took, by what became of them: handled, duplicate (skipped), "
                 "parked, dead-lettered.", ["consumer", "event_type", "outcome"])
DEAD_LETTERS = Counter("carepath_dead_letters", "Records dead-lettered, by the kind of reason.", ["consumer", "reason_kind"])
LAST_DEAD_LETTER = Gauge("carepath_dead_letter_last_timestamp_seconds", "When this consumer last dead-lettered a record (Unix time).",
                         ["consumer"])
HANDLER_SECONDS = Histogram("carepath_handler_seconds", "Time a handler took over one event.", ["consumer", "event_type"],
                            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
BATCH_SECONDS = Histogram("carepath_batch_seconds", "Time one partition's batch took, in its transaction.", ["consumer"],
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
PUBLISHED = Counter("carepath_events_published", "Events the outbox relay published, acknowledged by Kafka.", ["event_type"])
CARE_ALERTS = Counter("carepath_care_alerts", "Care the service saw fall short, by kind: a referral not assessed by its "
                      "deadline, a visit missed, a follow-up not made in time.", ["kind"])
OUTBOX_DEPTH = Gauge("carepath_outbox_depth", "Events in the outbox not yet published.")
OUTBOX_OLDEST = Gauge("carepath_outbox_oldest_age_seconds", "How long the oldest unpublished event has waited in the outbox.")
OUTBOX_SET_ASIDE = Gauge("carepath_outbox_set_aside", "Events the relay set aside as unpublishable (too large, say).")
PARKED = Gauge("carepath_parked_events", "Events parked, waiting for what they need.")
DEAD_LETTERS_WAITING = Gauge("carepath_dead_letters_waiting", "Dead letters not yet put right: redriven and handled.")
DEAD_LETTER_OLDEST = Gauge("carepath_dead_letter_oldest_waiting_age_seconds",
                           "How long the oldest dead letter not yet put right has waited (0: none).")
PARKED_TOO_LONG = Gauge("carepath_parked_too_long_events", "Events parked for longer than the report threshold (a day).")

# Which published events are care falling short, by kind: counted as `carepath_care_alerts`.
_CARE_ALERT_TYPES = {
    "carepath.referral.response-target-breached.v1": "response-target-breached",
    "carepath.visit.missed.v1": "visit-missed",
    "carepath.discharge.follow-up-breached.v1": "follow-up-breached",
}


def event_type(name: str | None) -> str:
    """An event type fit for a label: one of carepath's own, else `unknown` (a sender's header
    is never a label value)."""
    return name if name in EVENT_TYPES else "unknown"


def reason_kind(reason: str) -> str:
    """The kind of a dead-letter reason, for a label: its words stay in the dead letter."""
    if reason.startswith("rejected:"):
        return "rejected"
    if reason.startswith("handler failed"):
        return "handler-failed"
    if "belongs on" in reason:
        return "wrong-topic"
    if reason.startswith("unknown event type"):
        return "unknown-type"
    if reason.startswith("unreadable record"):
        return "unreadable"
    return "undecodable"


def published(type_name: str | None) -> None:
    kind = event_type(type_name)
    PUBLISHED.labels(kind).inc()
    if kind in _CARE_ALERT_TYPES:
        CARE_ALERTS.labels(_CARE_ALERT_TYPES[kind]).inc()


def dead_lettered(consumer: str, reason: str, at: float) -> None:
    DEAD_LETTERS.labels(consumer, reason_kind(reason)).inc()
    LAST_DEAD_LETTER.labels(consumer).set(at)


def health(counts: dict[str, float]) -> None:
    """The heartbeat's counts (`parking.counts`) as gauges."""
    OUTBOX_DEPTH.set(counts.get("outbox_depth", 0))
    OUTBOX_OLDEST.set(counts.get("outbox_oldest_age_s", 0))
    OUTBOX_SET_ASIDE.set(counts.get("set_aside", 0))
    PARKED.set(counts.get("parked", 0))
    PARKED_TOO_LONG.set(counts.get("parked_too_long", 0))
    DEAD_LETTERS_WAITING.set(counts.get("dead_letters_waiting", 0))
    DEAD_LETTER_OLDEST.set(counts.get("dead_letter_oldest_waiting_age_s", 0))


@dataclass(frozen=True)
class PartitionLag:
    consumer: str
    topic: str
    partition: int
    lag: int


class LagCollector(Collector):
    """Consumer lag per group and partition, read at each scrape from the loops' own view: the
    broker's end of each partition the loop owns, less the offset it has committed."""

    def __init__(self) -> None:
        self._sources: list[Callable[[], Iterable[PartitionLag]]] = []

    def watch(self, source: Callable[[], Iterable[PartitionLag]]) -> None:
        self._sources.append(source)

    def forget(self, source: Callable[[], Iterable[PartitionLag]]) -> None:
        if source in self._sources:
            self._sources.remove(source)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily("carepath_consumer_lag", "Records on a partition not yet handled and committed by the group.",
                                   labels=["consumer", "topic", "partition"])
        for source in list(self._sources):
            for lag in source():
                family.add_metric([lag.consumer, lag.topic, str(lag.partition)], lag.lag)
        yield family


LAG = LagCollector()
REGISTRY.register(LAG)


PORTS = {"referral": 9401, "assessment": 9402, "scheduling": 9403, "discharge": 9404, "board": 9405, "gateway": 9406}


def port_of(service: str, configured: int | None) -> int:
    """The port a service serves its metrics on: as configured, else its own default."""
    return configured if configured is not None else PORTS.get(service, 0)


def serve(host: str, port: int) -> None:
    """Serves every metric over HTTP for Prometheus (in a thread of its own); port 0: not served."""
    if port:
        start_http_server(port, addr=host)
