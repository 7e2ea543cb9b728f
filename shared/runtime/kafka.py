"""Kafka clients as carepath uses them: logged in over SASL/SCRAM, an idempotent producer with
acks=all, topics created explicitly, and readiness checks. Built here once so every service and
the CLI agree."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLScram512

from contracts import TOPICS
from contracts.topics import PRODUCER_MAX_REQUEST_BYTES, kept_forever

SASL_MECHANISM = "SCRAM-SHA-512"


class MissingCredential(RuntimeError):
    """A principal with no password given and none in the credentials directory."""


@dataclass(frozen=True)
class KafkaLogin:
    """Where the broker is and who a client is to it: every carepath Kafka client is made from
    one, so none can connect without authenticating (unless `security` is "none")."""

    bootstrap: str
    principal: str | None  # None only when the broker asks for no authentication
    password: str = field(default="", repr=False)
    security: str = "sasl"  # "sasl" (SCRAM over loopback), "sasl_ssl" (SCRAM over TLS) or "none"
    credentials_dir: Path | None = None
    ca_file: Path | None = None

    @classmethod
    def of(cls, bootstrap: str, principal: str, security: str, *, password: str | None = None,
           credentials_dir: Path | None = None, ca_file: Path | None = None) -> "KafkaLogin":
        if security == "none":
            return cls(bootstrap, None, "", security, credentials_dir, ca_file)
        if password is None:
            password = _stored_password(credentials_dir, principal)
        return cls(bootstrap, principal, password, security, credentials_dir, ca_file)

    def as_principal(self, principal: str) -> "KafkaLogin":
        """The same broker as another principal, its password read from the credentials directory
        (the tools and tests play Trust systems and services this way)."""
        return KafkaLogin.of(self.bootstrap, principal, self.security, credentials_dir=self.credentials_dir, ca_file=self.ca_file)

    def options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        if self.security == "none":
            return {"bootstrap_servers": self.bootstrap}
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": "SASL_SSL" if self.security == "sasl_ssl" else "SASL_PLAINTEXT",
            "sasl_mechanism": SASL_MECHANISM,
            "sasl_plain_username": self.principal,
            "sasl_plain_password": self.password,
        }
        if self.security == "sasl_ssl":
            options["ssl_context"] = self._ssl_context()
        return options

    def broker_security(self) -> BaseSecurity | None:
        """The same login for a FastStream broker."""
        if self.security == "none":
            return None
        assert self.principal is not None
        tls = self.security == "sasl_ssl"
        return SASLScram512(self.principal, self.password, ssl_context=self._ssl_context() if tls else None, use_ssl=tls)

    def admin_config(self) -> dict[str, str]:
        """The same login for librdkafka's admin client (ACLs and SCRAM credentials, which
        aiokafka's admin client does not manage)."""
        config = {"bootstrap.servers": self.bootstrap}
        if self.security != "none":
            config |= {
                "security.protocol": "SASL_SSL" if self.security == "sasl_ssl" else "SASL_PLAINTEXT",
                "sasl.mechanism": SASL_MECHANISM,
                "sasl.username": self.principal or "",
                "sasl.password": self.password,
            }
        if self.security == "sasl_ssl" and self.ca_file:
            config["ssl.ca.location"] = str(self.ca_file)
        return config

    def _ssl_context(self) -> Any:
        return create_ssl_context(cafile=str(self.ca_file) if self.ca_file else None)


def _stored_password(credentials_dir: Path | None, principal: str) -> str:
    path = (credentials_dir or Path(".")) / principal
    try:
        password = path.read_text().strip()
    except OSError:
        password = ""
    if not password:
        raise MissingCredential(
            f"no Kafka password for principal {principal!r}: set CAREPATH_KAFKA_PASSWORD "
            f"(and CAREPATH_KAFKA_USERNAME), or run `make infra`, which keeps one in {path}"
        )
    return password


def make_broker(login: KafkaLogin, client_id: str, **options: object) -> KafkaBroker:
    return KafkaBroker(
        login.bootstrap,
        security=login.broker_security(),
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        max_request_size=PRODUCER_MAX_REQUEST_BYTES,
        linger_ms=2,  # a few ms to fill a batch: the relay queues many events at once
        **options,
    )


async def create_topics(login: KafkaLogin, prefix: str, replication_factor: int = 1) -> list[str]:
    """Creates every carepath topic that does not exist yet, and gives those that do the
    project's settings (the size limit, retention); returns the ones it created. Only the
    admin principal may."""
    admin = AIOKafkaAdminClient(**login.options(), client_id="carepath-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [topic for topic in TOPICS if topic.full_name(prefix) not in existing]
        created = []
        for topic in wanted:
            try:
                await admin.create_topics(
                    [
                        NewTopic(
                            topic.full_name(prefix),
                            num_partitions=topic.partitions,
                            replication_factor=replication_factor,
                            topic_configs=topic.settings | _durability(replication_factor),
                        )
                    ]
                )
                created.append(topic.full_name(prefix))
            except TopicAlreadyExistsError:
                pass
        older = [topic for topic in TOPICS if topic.full_name(prefix) in existing]
        if older:
            await admin.alter_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic.full_name(prefix), topic.settings | _durability(replication_factor))
                 for topic in older]
            )
        return created
    finally:
        await admin.close()


class TopicsMisconfigured(RuntimeError):
    """A topic that must keep its events forever would lose them."""


async def check_kept_forever(login: KafkaLogin, prefix: str) -> None:
    """Raises `TopicsMisconfigured` naming each topic meant to be kept forever (consent, audit)
    whose retention would drop events: a service will not start on one."""
    forever = [topic.full_name(prefix) for topic in TOPICS if kept_forever(topic)]
    admin = AIOKafkaAdminClient(**login.options(), client_id="carepath-retention-check")
    await admin.start()
    try:
        described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in forever])
    finally:
        await admin.close()
    wrong = []
    for response in described:
        for error_code, _, _, name, entries in response.resources:
            retention = {entry[0]: entry[1] for entry in entries}.get("retention.ms")
            if error_code or retention != "-1":
                wrong.append(f"{name} (retention.ms={retention})" if not error_code else f"{name} (its settings not readable: error {error_code})")
    if wrong:
        raise TopicsMisconfigured(
            "topics that must keep their events forever would lose them: " + ", ".join(sorted(wrong))
            + "; `carepath topics create` (as the admin) sets them right"
        )


def _durability(replication_factor: int) -> dict[str, str]:
    """With replicas, a write is acknowledged only once two of them hold it."""
    return {"min.insync.replicas": str(min(2, replication_factor))}


async def wait_for_kafka(login: KafkaLogin, timeout_s: float) -> None:
    """Returns once an admin call to the broker succeeds; raises TimeoutError otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        admin = AIOKafkaAdminClient(**login.options(), client_id="carepath-wait", request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.describe_cluster()
            return
        except (KafkaError, OSError) as error:
            if time.monotonic() > deadline:
                raise TimeoutError(f"Kafka at {login.bootstrap} did not answer {login.principal or 'us'} within {timeout_s:.0f}s") from error
        finally:
            await admin.close()
        await asyncio.sleep(1)


class GroupProgress:
    """Whether a consumer group has committed everything already on some topics: the delivery
    side asks it of the service's main group and the consent topic before it delivers a copy,
    so every consent event published before that moment has been applied."""

    def __init__(self, login: KafkaLogin, group: str, topics: list[str], partitions: int) -> None:
        self._group = group
        self._partitions = [TopicPartition(topic, p) for topic in topics for p in range(partitions)]
        self._admin = AIOKafkaAdminClient(**login.options(), client_id=f"{group}-progress")
        self._ends = AIOKafkaConsumer(**login.options(), group_id=None, enable_auto_commit=False)
        self._covered_until = float("-inf")
        self._asking = asyncio.Lock()

    async def start(self) -> None:
        await self._admin.start()
        await self._ends.start()

    async def stop(self) -> None:
        await self._ends.stop()
        await self._admin.close()

    async def caught_up(self, since: float, within_s: float = 2.0) -> bool:
        """True once the group has committed everything that was on the topics at `since` (a
        `time.monotonic()` reading): the end offsets are taken once, so a steady stream of newer
        events cannot keep it waiting; False if that takes longer than `within_s`.

        One answer serves a whole batch: a check that began after `since` and succeeded covers it."""
        if self._covered_until >= since:
            return True
        async with self._asking:
            if self._covered_until >= since:
                return True
            asked_at = time.monotonic()
            if await self._ask(within_s):
                self._covered_until = asked_at
                return True
            return False

    async def _ask(self, within_s: float) -> bool:
        # Asked together: commits read no later than the ends can only understate progress.
        ends, committed = await asyncio.gather(
            self._ends.end_offsets(self._partitions),
            self._admin.list_consumer_group_offsets(self._group, partitions=self._partitions),
        )
        deadline = time.monotonic() + within_s
        while True:
            if all(end == 0 or (tp in committed and committed[tp].offset >= end) for tp, end in ends.items()):
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
            committed = await self._admin.list_consumer_group_offsets(self._group, partitions=self._partitions)


# What the Kafka client raises when it cannot read a record at all: a header *name* that is not
# UTF-8 (no Kafka client sends one; anything speaking the protocol can, and the broker accepts
# it), decoded by aiokafka before the record is handed over. Every fetch of that partition
# raises it again, so the record is found and passed over by its position.
UNREADABLE = (ValueError,)  # UnicodeDecodeError among them
UNREADABLE_PROBLEM = "unreadable record: the Kafka client could not read it ({error}; a header name that is not UTF-8?)"
UNREADABLE_REASON = UNREADABLE_PROBLEM + ": dead-lettered by position, without its key, value or headers"
_READ_ALONE_POLLS = 200  # fetches of one partition while looking for the unreadable record


async def pass_over_unreadable(
    kafka: AIOKafkaConsumer,
    partitions: list[TopicPartition],
    next_offsets: dict[TopicPartition, int],
    *,
    batch_size: int,
    handle: Callable[[Mapping[TopicPartition, list[ConsumerRecord]]], Awaitable[None]],
    unreadable: Callable[[TopicPartition, int], Awaitable[None]],
) -> None:
    """After `getmany(*partitions)` raised one of `UNREADABLE`. `next_offsets` holds, for each
    partition, the offset after the last record handed over (and `handle` keeps it so).

    The failed fetch may have moved partitions past records it never handed over, so each goes
    back to its next offset; then each partition with records to read is read on its own, in
    batches given to `handle`, and record by record from the batch that raises: the record it
    raises on is given to `unreadable` and passed over."""
    for tp in partitions:
        await _rewind(kafka, next_offsets, tp)
    for tp in sorted(partitions):
        one_by_one = False
        for _ in range(_READ_ALONE_POLLS):  # bounded: should it raise again, the caller comes back here
            end = kafka.highwater(tp)
            if end is not None and next_offsets[tp] >= end:
                break
            try:
                batches = await kafka.getmany(tp, timeout_ms=200, max_records=1 if one_by_one else batch_size)
            except UNREADABLE:
                if not one_by_one:
                    one_by_one = True
                    await _rewind(kafka, next_offsets, tp)
                    continue
                offset = next_offsets[tp]  # everything before it was handed over: this is the one
                await unreadable(tp, offset)
                kafka.seek(tp, offset + 1)
                next_offsets[tp] = offset + 1
                break
            if batches:
                await handle(batches)


async def _rewind(kafka: AIOKafkaConsumer, next_offsets: dict[TopicPartition, int], tp: TopicPartition) -> None:
    """Back to the next record the partition should hand over: after the last one handed over,
    else the group's committed offset, else the beginning (a reader without a group fills
    `next_offsets` with its starting positions)."""
    offset = next_offsets.get(tp)
    if offset is None:
        offset = await kafka.committed(tp)
    if offset is None:
        await kafka.seek_to_beginning(tp)
        offset = await kafka.position(tp)
    kafka.seek(tp, offset)
    next_offsets[tp] = offset
