"""Reading carepath's topics as an operator or a Trust system would: every partition, no
consumer group, decoded, with every field not known to be safe masked for display
(`tools.masking`), and what is printed made safe for a terminal (`tools.terminal`)."""

import asyncio
import fnmatch
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from contracts import DEAD_LETTER, TOPICS, Envelope, Event, Topic
from contracts.access import readable
from shared.runtime.codec import Undecodable, decode, headers_to_dict
from shared.runtime.kafka import UNREADABLE, UNREADABLE_PROBLEM, KafkaLogin, pass_over_unreadable
from tools.masking import MASK, masked
from tools.terminal import safe

__all__ = ["MASK", "EventLog", "LoggedEvent", "Selection", "chosen_topics", "masked", "moment", "one_line", "to_logged"]

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class LoggedEvent:
    topic: str
    partition: int
    offset: int
    headers: dict[str, str]
    envelope: Envelope | None
    event: Event | None
    problem: str | None  # why it could not be decoded
    timestamp_ms: int | None = None  # the record's Kafka timestamp

    @property
    def dead_letter(self) -> bool:
        return self.topic.endswith(f".{DEAD_LETTER.name}")

    # A dead letter keeps the CloudEvents headers it arrived with, as text: it is found by them too.
    @property
    def subject(self) -> str | None:
        return self.envelope.subject if self.envelope else self.headers.get("ce_subject")

    @property
    def correlation(self) -> str | None:
        return str(self.envelope.correlationid) if self.envelope else self.headers.get("ce_correlationid")

    @property
    def type(self) -> str | None:
        return self.envelope.type if self.envelope else self.headers.get("ce_type")


@dataclass(frozen=True)
class Selection:
    """Which logged events an operator asked for; None means any."""

    patient: str | None = None  # the pseudonymous patient id: the record's ce_subject and key
    correlation: str | None = None
    type: str | None = None  # a glob on the CloudEvents type: 'carepath.referral.*'

    def __call__(self, logged: LoggedEvent) -> bool:
        return (
            (self.patient is None or _same_id(logged.subject, self.patient))
            and (self.correlation is None or _same_id(logged.correlation, self.correlation))
            and (self.type is None or fnmatch.fnmatchcase(logged.type or "", self.type))
        )


def _same_id(found: str | None, wanted: str) -> bool:
    return found is not None and found.lower() == wanted.lower()


_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def moment(text: str, now: datetime) -> datetime:
    """A point in time as an operator writes it: an ISO time (UTC when it has no offset), or a
    duration back from now, `90s`, `15m`, `2h`, `1h30m`, `7d`."""
    duration = _DURATION.fullmatch(text.strip())
    if text.strip() and duration:
        days, hours, minutes, seconds = (int(part or 0) for part in duration.groups())
        return now - timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    try:
        found = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not an ISO time or a duration like 15m, 2h, 7d: {text!r}") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def chosen_topics(principal: str | None, names: list[str] | None) -> tuple[Topic, ...]:
    """The topics named (logical names: `referral.events`), each one the principal may read;
    without names, every topic it may read."""
    allowed = readable(principal)
    if not names:
        return allowed
    refused = sorted(set(names) - {topic.name for topic in allowed})
    if refused:
        raise ValueError(f"{principal or 'this login'} may not read {', '.join(refused)} (contracts/access.py); "
                         "`--as` logs in as another principal")
    return tuple(topic for topic in allowed if topic.name in names)


def one_line(logged: LoggedEvent) -> str:
    """One logged event as one line, safe to print: no field shown that is not known safe, and
    nothing a sender wrote can act on the terminal or start a line of its own."""
    return safe(_line(logged))


def _line(logged: LoggedEvent) -> str:
    where = f"{logged.topic}[{logged.partition}]@{logged.offset}"
    if logged.dead_letter:
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
    return LoggedEvent(record.topic, record.partition, record.offset, headers, envelope, event, problem, record.timestamp)


class EventLog:
    """Follows every carepath topic from the beginning (or the end, or a moment: `since`) and
    keeps what it read."""

    def __init__(
        self, login: KafkaLogin, prefix: str, *, from_beginning: bool = True, topics: tuple[Topic, ...] = TOPICS,
        since: datetime | None = None,
    ) -> None:
        self._since = since
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
        if self._since is not None:
            await self._seek_to(self._since)
        # Resolve every starting position now, so "latest" means "from the moment we entered".
        self._next = {partition: await self._consumer.position(partition) for partition in self._consumer.assignment()}
        self._task = asyncio.create_task(self._read())
        return self

    async def _seek_to(self, since: datetime) -> None:
        """Each partition from its first record stamped at or after `since` (by the broker's
        time index: nothing before it is read), or from its end if it has none."""
        partitions = list(self._consumer.assignment())
        found = await self._consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in partitions})
        for tp in partitions:
            if found.get(tp) is None:
                await self._consumer.seek_to_end(tp)
            else:
                self._consumer.seek(tp, found[tp].offset)

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
        return [logged for logged in self.seen if logged.dead_letter]

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
