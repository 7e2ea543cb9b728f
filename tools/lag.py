"""`carepath lag`: how far each of the deployment's consumer groups has got, partition by
partition: its committed offset against the partition's end. The groups are the table's
(`contracts.access`), named with the deployment's prefix as each service names its own
(`Service.group`, `Service.delivery_group`); the topics each reads are those its service's
wiring subscribes to (a Trust system's group: what its principal reads)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts.access import PRINCIPALS, readable
from shared.runtime.kafka import KafkaLogin
from tools.terminal import safe


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group has committed nothing on it
    end: int

    @property
    def lag(self) -> int:
        return self.end - (self.committed or 0)


def subscriptions(prefix: str) -> dict[str, list[str]]:
    """Every consumer group of the deployment and the topics it reads, by full name."""
    from tools.routes import SERVICES  # imports every service: only this command needs their wiring

    read: dict[str, list[str]] = {}
    for create in SERVICES.values():
        built = create()
        built = replace(built, settings=built.settings.model_copy(update={"topic_prefix": prefix}))
        for group, events in ((built.group, built.handlers), (built.delivery_group, built.deliveries)):
            if events:
                read[group] = sorted({event.topic.full_name(prefix) for event in events})
    for known in PRINCIPALS:
        for group in known.groups:
            read.setdefault(f"{prefix}-{group}", sorted(topic.full_name(prefix) for topic in known.reads))
    return read


async def partition_lags(login: KafkaLogin, prefix: str, groups: Mapping[str, list[str]]) -> tuple[list[PartitionLag], list[str]]:
    """Each group's lag on every partition of the topics it reads that this login may read, and
    the topics it reads that this login may not (their offsets and ends are not shown to it)."""
    allowed = {topic.full_name(prefix): topic for topic in readable(login.principal)}
    hidden = sorted({topic for topics in groups.values() for topic in topics if topic not in allowed})
    admin = AIOKafkaAdminClient(**login.options(), client_id="carepath-lag")
    ends_reader = AIOKafkaConsumer(**login.options(), group_id=None, enable_auto_commit=False)
    await admin.start()
    await ends_reader.start()
    try:
        wanted = {group: [TopicPartition(topic, p) for topic in topics if topic in allowed for p in range(allowed[topic].partitions)]
                  for group, topics in groups.items()}
        ends = await ends_reader.end_offsets(sorted({tp for tps in wanted.values() for tp in tps}))
        found = []
        for group, tps in wanted.items():
            committed = await admin.list_consumer_group_offsets(group, partitions=tps) if tps else {}
            for tp in tps:
                offset = committed[tp].offset if tp in committed and committed[tp].offset >= 0 else None
                found.append(PartitionLag(group, tp.topic, tp.partition, offset, ends[tp]))
        return found, hidden
    finally:
        await ends_reader.stop()
        await admin.close()


def report(lags: Iterable[PartitionLag], hidden: Iterable[str], *, prefix: str, principal: str | None) -> list[str]:
    """One line per group with its total, then one per partition with records or lag."""
    by_group: dict[str, list[PartitionLag]] = {}
    for lag in lags:
        by_group.setdefault(lag.group, []).append(lag)
    lines = []
    for group, parts in sorted(by_group.items()):
        total = sum(part.lag for part in parts)
        never = "; nothing committed yet" if all(part.committed is None for part in parts) else ""
        lines.append(f"{group}: lag {total}{never}")
        for part in sorted(parts, key=lambda part: (part.topic, part.partition)):
            if part.end or part.committed is not None:  # an empty partition never read says nothing
                committed = "-" if part.committed is None else part.committed
                lines.append(f"  {part.topic.removeprefix(prefix + '.')}[{part.partition}]  committed {committed}  "
                             f"end {part.end}  lag {part.lag}")
    hidden = list(hidden)
    if hidden:
        names = ", ".join(topic.removeprefix(prefix + ".") for topic in hidden)
        lines.append(f"not shown: the groups' progress on {names}, which {principal or 'this login'} may not read "
                     "(`carepath --as admin lag` shows it)")
    return [safe(line) for line in lines]
