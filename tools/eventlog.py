"""Reading carepath's topics as an operator or a Trust system would: every partition, no
consumer group, decoded, with identifying and clinical fields masked for display."""

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import BaseModel

from contracts import DEAD_LETTER, TOPICS, Envelope, Event, Topic
from shared.runtime.codec import Undecodable, decode, headers_to_dict
from shared.runtime.kafka import UNREADABLE, UNREADABLE_PROBLEM, KafkaLogin, pass_over_unreadable

E = TypeVar("E", bound=Event)
MASK = "•••"


@dataclass(frozen=True)
class LoggedEvent:
    topic: str
    partition: int
    offset: int
    headers: dict[str, str]
    envelope: Envelope | None
    event: Event | None
    problem: str | None  # why it could not be decoded


def masked(model: BaseModel) -> dict[str, Any]:
    """The event as JSON-ready data with every field marked sensitive, at any depth, masked."""
    data = model.model_dump(mode="json")
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if data.get(name) is None:
            continue
        if (info.json_schema_extra or {}).get("x-sensitive"):
            data[name] = MASK
        elif isinstance(value, BaseModel):
            data[name] = masked(value)
        elif isinstance(value, tuple | list) and value and isinstance(value[0], BaseModel):
            data[name] = [masked(item) for item in value]
    return data


def one_line(logged: LoggedEvent) -> str:
    where = f"{logged.topic}[{logged.partition}]@{logged.offset}"
    if logged.topic.endswith(f".{DEAD_LETTER.name}"):
        origin = logged.headers.get("dlq_original_topic", "?")
        return (
            f"{where} DEAD-LETTER from {origin}[{logged.headers.get('dlq_original_partition', '?')}]"
            f"@{logged.headers.get('dlq_original_offset', '?')} by {logged.headers.get('dlq_consumer', '?')}: "
            f"{logged.headers.get('dlq_reason', '?')}"
        )
    if logged.envelope is None or logged.event is None:
        return f"{where} UNDECODABLE: {logged.problem}"
    env = logged.envelope
    return (
        f"{env.time.isoformat(timespec='seconds')} {where} {env.type} subject={env.subject} "
        f"source={env.source} {json.dumps(masked(logged.event), separators=(',', ':'), ensure_ascii=False)}"
    )


def to_logged(record: ConsumerRecord) -> LoggedEvent:
    headers = headers_to_dict(record.headers)
    envelope = event = problem = None
    if not record.topic.endswith(f".{DEAD_LETTER.name}"):
        try:
            envelope, event = decode(headers, record.value)
        except Undecodable as error:
            problem = error.reason
    return LoggedEvent(record.topic, record.partition, record.offset, headers, envelope, event, problem)


class EventLog:
    """Follows every carepath topic from the beginning (or the end) and keeps what it read."""

    def __init__(
        self, login: KafkaLogin, prefix: str, *, from_beginning: bool = True, topics: tuple[Topic, ...] = TOPICS
    ) -> None:
        self._topics = [topic.full_name(prefix) for topic in topics]
        self._partitions = sum(topic.partitions for topic in topics)
        # No consumer group: every partition is read, and nothing is committed.
        self._consumer = AIOKafkaConsumer(
            *self._topics,
            **login.options(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest" if from_beginning else "latest",
        )
        self.seen: list[LoggedEvent] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "EventLog":
        await self._consumer.start()
        missing = set(self._topics) - await self._consumer.topics()
        if missing:
            await self._consumer.stop()
            raise RuntimeError(f"topics missing (run `carepath topics create`): {', '.join(sorted(missing))}")
        async with asyncio.timeout(30):
            while len(self._consumer.assignment()) < self._partitions:
                await asyncio.sleep(0.05)
        # Resolve every starting position now, so "latest" means "from the moment we entered".
        self._next = {partition: await self._consumer.position(partition) for partition in self._consumer.assignment()}
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _read(self) -> None:
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=500)
            except UNREADABLE as error:
                await pass_over_unreadable(self._consumer, list(self._consumer.assignment()), self._next, batch_size=500,
                                           handle=self._handed_over, unreadable=partial(self._unreadable, error))
                continue
            await self._handed_over(batches)

    async def _handed_over(self, batches: Mapping[TopicPartition, list[ConsumerRecord]]) -> None:
        for tp, batch in batches.items():
            if batch:
                self._next[tp] = batch[-1].offset + 1
        await self._take(batches)

    async def _take(self, batches: Mapping[TopicPartition, list[ConsumerRecord]]) -> None:
        """Keeps what was read (a reader that follows less may keep less)."""
        records = [record for batch in batches.values() for record in batch]
        if records:
            async with self._changed:
                self.seen.extend(to_logged(record) for record in records)
                self._changed.notify_all()

    async def _unreadable(self, error: Exception, tp: TopicPartition, offset: int) -> None:
        """A record the Kafka client could not read is logged as a problem at its position."""
        async with self._changed:
            self.seen.append(LoggedEvent(tp.topic, tp.partition, offset, {}, None, None,
                                         UNREADABLE_PROBLEM.format(error=type(error).__name__)))
            self._changed.notify_all()

    async def follow(self) -> Any:
        """Yields each logged event as it arrives, starting with those already read."""
        index = 0
        while True:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.seen) > index)
                new = self.seen[index:]
            index += len(new)
            for logged in new:
                yield logged

    def events(self, kind: type[E], where: Callable[[E], bool] = lambda _: True) -> list[E]:
        return [logged.event for logged in self.seen if isinstance(logged.event, kind) and where(logged.event)]

    def dead_letters(self) -> list[LoggedEvent]:
        return [logged for logged in self.seen if logged.topic.endswith(f".{DEAD_LETTER.name}")]

    async def caught_up(self, timeout_s: float = 30) -> None:
        """Returns once everything that was on the topics when called has been read."""
        partitions = list(self._consumer.assignment())
        ends = await self._consumer.end_offsets(partitions)
        async with asyncio.timeout(timeout_s):
            while True:
                positions = {tp: await self._consumer.position(tp) for tp in ends}
                if all(positions[tp] >= end for tp, end in ends.items()):
                    return
                await asyncio.sleep(0.1)

    async def wait_for(self, kind: type[E], where: Callable[[E], bool] = lambda _: True, timeout_s: float = 30) -> E:
        async with asyncio.timeout(timeout_s):
            async with self._changed:
                await self._changed.wait_for(lambda: bool(self.events(kind, where)))
        return self.events(kind, where)[0]

    async def wait_until(self, condition: Callable[[], bool], timeout_s: float = 30) -> None:
        async with asyncio.timeout(timeout_s):
            async with self._changed:
                await self._changed.wait_for(condition)
