"""The table of who may say what (contracts/access.py) against what the services really do."""

import pytest

from contracts import TOPICS
from contracts.access import GATEWAYS, PRINCIPALS, SERVICES, TRUST_SYSTEMS, Kind, principal, writers
from services.assessment.app import create_service as assessment
from services.discharge.app import create_service as discharge
from services.referral.app import create_service as referral
from services.scheduling.app import create_service as scheduling
from tools.access import bindings

BUILT = {service.name: service for service in (referral(), assessment(), scheduling(), discharge())}


@pytest.mark.parametrize("name", sorted(BUILT))
def test_each_service_may_read_every_topic_its_handlers_and_deliveries_take_and_join_its_own_groups(name: str) -> None:
    service, rights = BUILT[name], principal(name)
    consumed = {cls.topic for cls in service.handlers} | {cls.topic for cls in service.deliveries}
    assert consumed <= set(rights.reads), consumed - set(rights.reads)
    groups = {service.group} | ({service.delivery_group} if service.deliveries else set())
    assert {f"{service.settings.topic_prefix}-{group}" for group in rights.groups} == groups


def test_every_inbound_topic_is_written_by_trust_systems_only_and_every_other_topic_by_services_only() -> None:
    """The gateway writes an inbound topic too, but only for the Trust systems it authenticates:
    it counts as their door, never as a service saying something of its own."""
    trust_systems = {known.name for known in TRUST_SYSTEMS}
    gateways = {known.name for known in GATEWAYS}
    for topic in TOPICS:
        who = set(writers(topic))
        assert who, f"nobody may write {topic.name}"
        assert (who <= trust_systems | gateways) if topic.inbound else not (who & (trust_systems | gateways)), (topic.name, who)


def test_the_gateway_writes_only_referrals_in_and_reads_nothing() -> None:
    gateway = principal("gateway")
    assert gateway.kind is Kind.GATEWAY
    assert [topic.name for topic in gateway.writes] == ["referral.inbound"]
    assert gateway.reads == () and gateway.groups == ()


def test_trust_systems_read_only_the_notifications_the_messaging_system_delivers_and_the_referrers_status_topic() -> None:
    reading = {known.name: {topic.name for topic in known.reads} for known in TRUST_SYSTEMS if known.reads}
    assert reading == {"messaging": {"notifications"}, "gp-system": {"referral.status"},
                       "htcr-clinical-system": {"referral.status"}}


def test_a_principals_acls_name_only_its_deployments_topics_and_groups() -> None:
    for known in PRINCIPALS:
        for binding in bindings(known.name, known, "trust-a"):
            assert binding.name.startswith(("trust-a.", "trust-a-")), binding
            assert binding.principal == f"User:{known.name}"


def test_a_service_writes_the_dead_letter_topic_and_none_writes_another_services_events() -> None:
    for service in SERVICES:
        assert "deadletter" in {topic.name for topic in service.writes}
        own = {topic.name for topic in service.writes} - {"deadletter", "audit.events", "notifications"}
        assert all(topic.startswith(service.name) or topic == "directory.events" for topic in own), own


@pytest.mark.parametrize("name", ["controller", "admin", "referral", "consent-capture"])
def test_onboarding_refuses_a_name_that_is_a_superuser_or_one_of_carepaths_principals(name: str) -> None:
    from pathlib import Path

    from shared.runtime.kafka import KafkaLogin
    from tools.access import AccessError, add_system

    with pytest.raises(AccessError, match="is taken"):  # refused before anything is asked of the broker
        add_system(KafkaLogin("127.0.0.1:1", None, security="none"), "carepath", name, "pas", Path("/nonexistent"))
