"""The event log, for tools that follow many journeys at once.

`EventLog` decodes every event on every topic and wakes every waiter to re-scan all it has
read: right for a test following one journey, quadratic for a thousand. `WatchedLog` reads only
the topics of the event types it is asked about, decodes only those types (the `ce_type` header
says which), and files each event under a business key (a referral id, an episode id), so a
waiting journey costs one dictionary look-up per event. It still answers `wait_for` and
`events`, so `tools.journey.Journey` runs on it unchanged.
"""

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aiokafka import ConsumerRecord

from contracts import DEAD_LETTER, Event
from shared.runtime.kafka import KafkaLogin
from tools.eventlog import EventLog, LoggedEvent, to_logged

E = TypeVar("E", bound=Event)


class WatchedLog(EventLog):
    def __init__(self, login: KafkaLogin, prefix: str, kinds: Mapping[type[Event], str | None]) -> None:
        """`kinds`: each event type to follow, and the field it is filed under (None: not filed)."""
        topics = {kind.topic for kind in kinds} | {DEAD_LETTER}
        super().__init__(login, prefix, topics=tuple(sorted(topics, key=lambda topic: topic.name)))
        self._kinds = {kind.cloudevents_type().encode(): kind for kind in kinds}
        self._key_field = dict(kinds)
        self._dead_letter_topic = DEAD_LETTER.full_name(prefix)
        self._of_kind: dict[type[Event], list[Event]] = defaultdict(list)
        self._first: dict[type[Event], dict[Any, tuple[Event, float]]] = defaultdict(dict)
        self._keyed_waiters: dict[type[Event], dict[Any, list[asyncio.Future]]] = defaultdict(lambda: defaultdict(list))
        self._waiters: dict[type[Event], list[tuple[Callable[[Any], bool], asyncio.Future]]] = defaultdict(list)

    async def _take(self, batches) -> None:  # noqa: ANN001 - the records handed over, by partition
        arrived = time.perf_counter()
        fresh = [to_logged(record) for batch in batches.values() for record in batch if self._wanted(record)]
        for logged in fresh:
            if logged.event is not None:
                self._file(logged.event, arrived)
        if fresh:
            async with self._changed:
                self.seen.extend(fresh)
                self._changed.notify_all()

    def _wanted(self, record: ConsumerRecord) -> bool:
        if record.topic == self._dead_letter_topic:
            return True
        return any(name == "ce_type" and value in self._kinds for name, value in record.headers or ())

    def _file(self, event: Event, arrived: float) -> None:
        kind = type(event)
        self._of_kind[kind].append(event)
        field = self._key_field.get(kind)
        if field is not None:
            key = getattr(event, field)
            if key not in self._first[kind]:
                self._first[kind][key] = (event, arrived)
                for future in self._keyed_waiters[kind].pop(key, ()):
                    if not future.done():
                        future.set_result((event, arrived))
        waiting = self._waiters[kind]
        for entry in [entry for entry in waiting if entry[0](event)]:
            waiting.remove(entry)
            if not entry[1].done():
                entry[1].set_result(event)

    async def first(self, kind: type[E], key: Any, timeout_s: float = 30) -> tuple[E, float]:
        """The first `kind` event filed under `key`, and when it was read (`time.perf_counter()`)."""
        if key in self._first[kind]:
            return self._first[kind][key]  # type: ignore[return-value]
        future = asyncio.get_running_loop().create_future()
        self._keyed_waiters[kind][key].append(future)
        try:
            return await asyncio.wait_for(future, timeout_s)
        finally:
            waiting = self._keyed_waiters[kind].get(key)
            if waiting and future in waiting:
                waiting.remove(future)

    async def wait_for(self, kind: type[E], where: Callable[[E], bool] = lambda _: True, timeout_s: float = 30) -> E:
        for event in self._of_kind[kind]:
            if where(event):  # type: ignore[arg-type]
                return event  # type: ignore[return-value]
        future = asyncio.get_running_loop().create_future()
        entry = (where, future)
        self._waiters[kind].append(entry)
        try:
            return await asyncio.wait_for(future, timeout_s)
        finally:
            if entry in self._waiters[kind]:
                self._waiters[kind].remove(entry)

    def events(self, kind: type[E], where: Callable[[E], bool] = lambda _: True) -> list[E]:
        return [event for event in self._of_kind[kind] if where(event)]  # type: ignore[misc]

    def logged(self, kind: type[Event]) -> list[LoggedEvent]:
        """Every record of a kind as read, a republished one (same event id) included."""
        return [logged for logged in self.seen if type(logged.event) is kind]
