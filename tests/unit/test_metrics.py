"""The metrics' labels: carepath's own words only, never a sender's or a patient's."""

from prometheus_client import REGISTRY

from shared.runtime import metrics
from shared.runtime.kafka import UNREADABLE_REASON


def test_a_dead_letter_reason_is_labelled_by_its_kind_and_never_by_its_words() -> None:
    assert metrics.reason_kind("rejected: the episode is closed") == "rejected"
    assert metrics.reason_kind("handler failed: KeyError after 4 attempts") == "handler-failed"
    assert metrics.reason_kind("carepath.episode.closed.v1 belongs on discharge.events, not on this topic") == "wrong-topic"
    assert metrics.reason_kind("unknown event type (see contracts/schemas)") == "unknown-type"
    assert metrics.reason_kind(UNREADABLE_REASON.format(error="UnicodeDecodeError")) == "unreadable"
    assert metrics.reason_kind("invalid carepath.referral.submitted.v1: hc_number: string_type") == "undecodable"


def test_an_event_type_label_is_one_of_carepaths_types_or_unknown() -> None:
    assert metrics.event_type("carepath.referral.submitted.v1") == "carepath.referral.submitted.v1"
    assert metrics.event_type("\x1b]0;Jane Doe 9434765919\x07") == "unknown"
    assert metrics.event_type(None) == "unknown"


def test_a_published_visit_missed_counts_as_a_care_alert_and_another_event_does_not() -> None:
    def alerts(kind: str) -> float:
        return REGISTRY.get_sample_value("carepath_care_alerts_total", {"kind": kind}) or 0.0

    missed, breached = alerts("visit-missed"), alerts("response-target-breached")
    metrics.published("carepath.visit.missed.v1")
    metrics.published("carepath.visit.scheduled.v1")
    assert alerts("visit-missed") == missed + 1 and alerts("response-target-breached") == breached


def test_each_service_has_a_metrics_port_of_its_own_unless_one_is_configured() -> None:
    ports = {service: metrics.port_of(service, None) for service in ("referral", "assessment", "scheduling", "discharge")}
    assert len(set(ports.values())) == 4 and all(ports.values())
    assert metrics.port_of("referral", 0) == 0 and metrics.port_of("referral", 9999) == 9999
