"""The broker's door, on the real broker: nobody connects without a SCRAM credential, and each
principal may write only the topics it publishes to, read only what it consumes, and only the
admin may delete topics, change their settings or move a group's offsets."""

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import ClusterAuthorizationFailedError, KafkaConnectionError, KafkaError, TopicAuthorizationFailedError
from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException
from confluent_kafka import TopicPartition as ConfluentPartition
from confluent_kafka.admin import AdminClient

from contracts import TOPICS, EpisodeClosed
from contracts.topics import (
    ASSESSMENT_EVENTS, ASSESSMENT_INBOUND, AUDIT, CONSENT_INBOUND, DEAD_LETTER, NOTIFICATIONS, REFERRAL_EVENTS, REFERRAL_INBOUND,
    REFERRAL_STATUS,
)
from shared.runtime.codec import encode
from shared.runtime.kafka import KafkaLogin, TopicsMisconfigured, check_kept_forever, create_topics
from tests import logins
from tests.acceptance.deployment import Deployment, delete_topics
from tests.factories import envelope_for, referral
from tools.journey import Journey

pytestmark = pytest.mark.acceptance

WAIT_S = 15


async def try_to_write(login: KafkaLogin, topic: str) -> None:
    """One referral-shaped record written to `topic` as `login`; raises what the broker answers."""
    event = referral(referral_id=f"GP-BOUNDARY-{uuid4().hex[:8]}")
    record = encode(event, envelope_for(event))
    producer = AIOKafkaProducer(**login.options(), enable_idempotence=True, acks="all", request_timeout_ms=10_000)
    await producer.start()
    try:
        await asyncio.wait_for(
            producer.send_and_wait(topic, record.value, key=record.key, headers=[(n, v.encode()) for n, v in record.headers.items()]),
            WAIT_S,
        )
    finally:
        await producer.stop()


async def try_to_read(login: KafkaLogin, topic: str) -> None:
    """Reads `topic` from its beginning as `login`; raises what the broker answers."""
    consumer = AIOKafkaConsumer(topic, **login.options(), group_id=None, enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        await asyncio.wait_for(consumer.start(), WAIT_S)
        await asyncio.wait_for(consumer.getmany(timeout_ms=1_000), WAIT_S)
    finally:
        await consumer.stop()


async def test_a_client_without_credentials_or_with_a_wrong_password_is_refused(deployment: Deployment) -> None:
    """The broker speaks to nobody who has not authenticated: no metadata, no records."""
    anonymous = KafkaLogin(deployment.kafka.bootstrap, None, security="none")
    with pytest.raises((KafkaConnectionError, KafkaError, asyncio.TimeoutError)):
        producer = AIOKafkaProducer(**anonymous.options(), request_timeout_ms=5_000)
        try:
            await asyncio.wait_for(producer.start(), WAIT_S)
        finally:
            await producer.stop()
    impostor = KafkaLogin(deployment.kafka.bootstrap, "consent-capture", "not-the-password")
    with pytest.raises((KafkaConnectionError, KafkaError, asyncio.TimeoutError)):
        await try_to_write(impostor, CONSENT_INBOUND.full_name(deployment.prefix))


async def test_a_gp_system_may_refer_but_cannot_record_consent_or_read_assessments(deployment: Deployment) -> None:
    gp = deployment.kafka.as_principal("gp-system")
    await try_to_write(gp, REFERRAL_INBOUND.full_name(deployment.prefix))  # what it is for
    with pytest.raises(TopicAuthorizationFailedError):
        await try_to_write(gp, CONSENT_INBOUND.full_name(deployment.prefix))
    with pytest.raises(TopicAuthorizationFailedError):
        await try_to_read(gp, ASSESSMENT_INBOUND.full_name(deployment.prefix))


async def test_a_service_cannot_write_another_services_events_nor_a_trust_systems_topic(deployment: Deployment) -> None:
    referral_service = deployment.kafka.as_principal("referral")
    await try_to_write(referral_service, REFERRAL_EVENTS.full_name(deployment.prefix))
    for topic in (ASSESSMENT_EVENTS, CONSENT_INBOUND, NOTIFICATIONS):
        with pytest.raises(TopicAuthorizationFailedError):
            await try_to_write(referral_service, topic.full_name(deployment.prefix))


async def test_a_referring_system_reads_the_status_of_its_referrals_but_cannot_forge_one_and_an_ed_system_cannot_read_them(
    deployment: Deployment,
) -> None:
    status = REFERRAL_STATUS.full_name(deployment.prefix)
    gp = deployment.kafka.as_principal("gp-system")
    await try_to_read(gp, status)  # what it is for
    with pytest.raises(TopicAuthorizationFailedError):
        await try_to_write(gp, status)
    with pytest.raises(TopicAuthorizationFailedError):
        await try_to_read(deployment.kafka.as_principal("ed-system"), status)


async def test_the_operator_reads_carepaths_own_events_but_not_what_trust_systems_send_and_writes_nothing(
    deployment: Deployment,
) -> None:
    """Names, H&C numbers and assessments arrive on the inbound topics, and raw input lands in the
    dead letters: the operator reads neither through Kafka (clinical content is read through the
    services, audited)."""
    operator = deployment.kafka.as_principal("operator")
    await try_to_read(operator, REFERRAL_EVENTS.full_name(deployment.prefix))
    await try_to_read(operator, AUDIT.full_name(deployment.prefix))
    for topic in (REFERRAL_INBOUND, ASSESSMENT_INBOUND, DEAD_LETTER, NOTIFICATIONS):
        with pytest.raises(TopicAuthorizationFailedError):
            await try_to_read(operator, topic.full_name(deployment.prefix))
    with pytest.raises(ClusterAuthorizationFailedError):  # may write no topic: not even given a producer id
        await try_to_write(operator, REFERRAL_INBOUND.full_name(deployment.prefix))


async def test_rights_granted_on_one_deployments_topics_give_none_on_topics_no_grant_named(deployment: Deployment) -> None:
    """ACLs are literal topic names, per deployment prefix, never a wildcard or a prefix match.
    (The principals are shared by the deployments of one cluster: one cluster per environment.)"""
    other = f"other-{uuid4().hex[:8]}"
    await create_topics(logins.admin(), other)  # its principals' rights not granted yet
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await try_to_write(deployment.kafka.as_principal("gp-system"), REFERRAL_INBOUND.full_name(other))
    finally:
        await delete_topics(logins.admin(), [topic.full_name(other) for topic in TOPICS])


async def test_only_the_admin_may_delete_the_audit_topic_or_change_how_long_it_is_kept(deployment: Deployment) -> None:
    audit = AUDIT.full_name(deployment.prefix)
    for name in ("operator", "assessment", "consent-capture"):
        admin = AIOKafkaAdminClient(**deployment.kafka.as_principal(name).options(), request_timeout_ms=10_000)
        await admin.start()
        try:
            deleted = await admin.delete_topics([audit])
            assert {code for _, code in deleted.topic_error_codes} == {TopicAuthorizationFailedError.errno}, name
            [changed] = await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, audit, {"retention.ms": "1000"})])
            assert [resource[0] for resource in changed.resources] == [TopicAuthorizationFailedError.errno], name
        finally:
            await admin.close()
    admin = AIOKafkaAdminClient(**logins.admin().options())
    await admin.start()
    try:
        assert audit in await admin.list_topics()
        [described] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, audit)])
        settings = {entry[0]: entry[1] for entry in described.resources[0][4]}
        assert settings["retention.ms"] == "-1"
    finally:
        await admin.close()


def _reset(login: KafkaLogin, group: str, topic: str) -> None:
    """Moves `group` back to the start of partition 0 of `topic`, as `login`."""
    admin = AdminClient(login.admin_config() | {"log_level": "3"})
    [future] = admin.alter_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [ConfluentPartition(topic, 0, 0)])], request_timeout=15
    ).values()
    moved = future.result(timeout=20)
    for partition in moved.topic_partitions:  # refused per partition once the group is found
        if partition.error is not None:
            raise KafkaException(partition.error)


async def test_only_the_admin_may_move_a_groups_offsets(deployment: Deployment) -> None:
    """Resetting a group replays (or skips) what a service has read: a service may not do it to
    another's group, a Trust system or the operator to any; the admin may (a group with no members)."""
    notifications = NOTIFICATIONS.full_name(deployment.prefix)
    # Each on a topic it may read, so the refusal is the group's.
    for name, topic in (("scheduling", ASSESSMENT_EVENTS), ("operator", REFERRAL_EVENTS)):
        try:
            await asyncio.to_thread(_reset, deployment.kafka.as_principal(name), f"{deployment.prefix}-referral",
                                    topic.full_name(deployment.prefix))
        except KafkaException as refused:
            assert refused.args[0].name() == "GROUP_AUTHORIZATION_FAILED", f"{name}: {refused}"
        else:
            pytest.fail(f"{name} moved the offsets of the referral service's group")
    await asyncio.to_thread(_reset, logins.admin(), f"{deployment.prefix}-messaging", notifications)


async def test_an_episode_closed_written_to_scheduling_inbound_is_dead_lettered_and_cancels_no_visit(
    deployment: Deployment, journey: Journey
) -> None:
    """A staff system may write scheduling.inbound, but an episode's closing belongs on
    discharge.events, which only the discharge service may write: off its topic it is refused."""
    accepted = await journey.refer()
    await journey.assess(accepted)
    await deployment.settled()
    scheduled = await deployment.query("scheduling", "SELECT count(*) AS n FROM visits WHERE episode_id = $1 AND status = 'scheduled'",
                                       accepted.episode_id)
    assert scheduled[0]["n"] > 0
    forged = EpisodeClosed(patient_id=accepted.patient_id, episode_id=accepted.episode_id, visits_completed=0, closed_at=datetime.now(UTC))
    record = encode(forged, envelope_for(forged, source="/carepath/discharge"))
    before = len(deployment.log.dead_letters())
    await journey.staff_app.publish_raw("scheduling.inbound", record.key, record.value, record.headers)
    await deployment.settled()

    dead = deployment.log.dead_letters()[before:]
    assert [(d.headers["dlq_original_topic"], d.headers["dlq_consumer"]) for d in dead] == [
        (f"{deployment.prefix}.scheduling.inbound", f"{deployment.prefix}-scheduling")
    ]
    assert "belongs on discharge.events" in dead[0].headers["dlq_reason"]
    still = await deployment.query("scheduling", "SELECT count(*) AS n FROM visits WHERE episode_id = $1 AND status = 'scheduled'",
                                   accepted.episode_id)
    assert still[0]["n"] == scheduled[0]["n"]


async def test_a_service_will_not_start_on_a_consent_topic_that_would_drop_events_and_topics_create_puts_it_right(
    deployment: Deployment,
) -> None:
    """Consent and audit are kept forever: rebuilt from the log, a database must still learn of a
    deny however old. A topic set to the broker's 7 days is found at start, and corrected."""
    consent = CONSENT_INBOUND.full_name(deployment.prefix)
    admin = AIOKafkaAdminClient(**logins.admin().options())
    await admin.start()
    try:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, consent, CONSENT_INBOUND.settings | {"retention.ms": "604800000"})])
    finally:
        await admin.close()
    discharge = deployment.kafka.as_principal("discharge")
    with pytest.raises(TopicsMisconfigured, match=rf"{consent} \(retention.ms=604800000\)"):
        await check_kept_forever(discharge, deployment.prefix)
    await create_topics(logins.admin(), deployment.prefix)
    await check_kept_forever(discharge, deployment.prefix)  # kept forever again
