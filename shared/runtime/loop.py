"""Feeding a `ReliableConsumer` from Kafka (see `consumer` for what happens to each record): a
lane for each partition number, each fetching and handling its own records at its own pace;
the offsets committed in the background once their transactions have committed; the sweep of
parked events taking its turn between a lane's batches; and each partition's progress, for the health
check."""

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import CommitFailedError, KafkaError

from shared.runtime.consumer import ReliableConsumer
from shared.runtime.kafka import UNREADABLE, UNREADABLE_REASON, KafkaLogin, pass_over_unreadable
from shared.runtime.metrics import PartitionLag

log = structlog.get_logger(__name__)


@dataclass
class PartitionProgress:
    """What the health check needs: the committed offset of each partition and when it last moved."""

    committed: dict[TopicPartition, int] = field(default_factory=dict)
    moved_at: dict[TopicPartition, float] = field(default_factory=dict)

    def advanced(self, offsets: Mapping[TopicPartition, int]) -> None:
        now = time.monotonic()
        for tp, offset in offsets.items():
            if self.committed.get(tp) != offset:
                self.committed[tp] = offset
                self.moved_at[tp] = now

    async def stalled(self, kafka: AIOKafkaConsumer, after_s: float) -> list[dict[str, Any]]:
        """Partitions with lag whose committed offset has not moved for `after_s` seconds."""
        now, stuck = time.monotonic(), []
        for tp in kafka.assignment():
            end = kafka.highwater(tp)
            if tp not in self.committed:  # nothing committed by us yet: start from the group's commit
                self.committed[tp] = await kafka.committed(tp) or 0
                self.moved_at[tp] = now
            if end is not None and end > self.committed[tp] and now - self.moved_at[tp] > after_s:
                stuck.append({"topic": tp.topic, "partition": tp.partition, "lag": end - self.committed[tp],
                              "stalled_s": round(now - self.moved_at[tp])})
        return stuck


class KafkaLoop:
    """Feeds one `ReliableConsumer` from Kafka, one lane for each partition number this instance
    owns: a lane fetches its partitions' records, has them handled, and fetches again, whatever
    the other lanes are doing. The offsets handled are committed in the background; the sweep of
    parked events takes its turn between a lane's batches."""

    def __init__(
        self,
        consumer: ReliableConsumer,
        login: KafkaLogin,
        *,
        batch_size: int,
        commit_interval_s: float = 0.1,
        failure_pause_s: float = 1.0,
    ) -> None:
        self.consumer = consumer
        self.progress = PartitionProgress()
        # Offsets handled but not yet committed. A commit is a write to the broker's offsets log:
        # made after every small batch it was the broker's largest cost under load, so the
        # batches of `commit_interval_s` share one. A crash before it means redelivery, which
        # the inbox makes harmless, as it does for any crash before a commit.
        self._uncommitted: dict[TopicPartition, int] = {}
        # The offset of the next record each partition should hand over: everything before it
        # has been handed over and handled (or rewound to be handed over again).
        self._next: dict[TopicPartition, int] = {}
        self._to_commit = asyncio.Event()
        # A lane and the sweep take turns on the lane's partition number: were the sweep trying a
        # parked event (its row locked) while a batch handles the event it waits for, the batch
        # would pass over it, the sweep would find its prerequisite not yet committed, and it
        # would wait for the next sweep while the patient's later events on other topics
        # overtook it. (A patient's events all have one number; the other lanes go on.)
        self._turns: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._lanes: dict[int, asyncio.Task] = {}
        self._assigned = asyncio.Event()
        self._commit_interval_s = commit_interval_s
        self._batch_size = batch_size
        self._failure_pause_s = failure_pause_s
        self.kafka = AIOKafkaConsumer(
            **login.options(),
            group_id=consumer.group,
            client_id=consumer.group,
            enable_auto_commit=False,  # committed after processing, never before
            auto_offset_reset="earliest",  # a new group reads everything, never just what comes next
            max_poll_records=batch_size,
            # The same partition numbers of every topic to the same instance: a patient's events
            # meet in one lane, whichever topic brings them.
            partition_assignment_strategy=(RangePartitionAssignor,),
            # A killed instance's partitions go to the others (or to it, restarted) within seconds.
            session_timeout_ms=6_000,
            heartbeat_interval_ms=2_000,
        )

    async def start(self) -> None:
        self.kafka.subscribe(self.consumer.topics, listener=_Assignments(self._partitions_revoked, self._partitions_assigned))
        await self.kafka.start()

    async def stop(self) -> None:
        if self._uncommitted:
            await self._commit_now()
        await self.kafka.stop()

    async def run(self) -> None:
        """Opens a lane for each partition number assigned, again at each assignment; returns
        only by raising what a lane raised."""
        committer = asyncio.create_task(self._commit_in_background(), name=f"{self.consumer.group}-commits")
        try:
            while True:
                self._assigned.clear()
                self._open_lanes()
                assigned = asyncio.ensure_future(self._assigned.wait())
                done, _ = await asyncio.wait({assigned, *self._lanes.values()}, return_when=asyncio.FIRST_COMPLETED)
                assigned.cancel()
                for number, lane in list(self._lanes.items()):
                    if lane in done:
                        del self._lanes[number]
                        lane.result()  # a lane ends when its partitions are gone, or by raising
        finally:
            lanes = [committer, *self._lanes.values()]
            self._lanes.clear()
            for task in lanes:
                task.cancel()
            await asyncio.gather(*lanes, return_exceptions=True)

    async def _partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Before partitions go to another instance (or back to this one): their lanes' batches
        in hand finish, and what they handled is committed, so that the next owner starts after
        it and meets the events they parked."""
        async with contextlib.AsyncExitStack() as turns:
            for number in sorted({tp.partition for tp in revoked}):
                await turns.enter_async_context(self._turns[number])
            offsets = {tp: self._uncommitted.pop(tp) for tp in revoked if tp in self._uncommitted}
            if offsets:
                try:
                    await self.kafka.commit(offsets)
                    self.progress.advanced(offsets)
                except Exception as error:  # noqa: BLE001 - the next owner is redelivered them; the inbox knows them
                    log.warning("batch.commit_failed", error=type(error).__name__, when="partitions revoked")

    def _partitions_assigned(self) -> None:
        self.consumer.partitions_assigned()
        self._assigned.set()

    def _open_lanes(self) -> None:
        for number in sorted({tp.partition for tp in self.kafka.assignment()} - set(self._lanes)):
            self._lanes[number] = asyncio.create_task(self._lane(number), name=f"{self.consumer.group}-lane-{number}")

    def _numbered(self, number: int) -> list[TopicPartition]:
        return sorted(tp for tp in self.kafka.assignment() if tp.partition == number)

    async def _lane(self, number: int) -> None:
        """Partition `number` of every topic, a batch at a time, for as long as this instance
        owns any of them. (Each partition is read by one lane, so its records stay in order; a
        patient's events share the number on every topic, so they are handled one batch at a
        time.)"""
        while partitions := self._numbered(number):
            try:
                batches = await self.kafka.getmany(*partitions, timeout_ms=200, max_records=self._batch_size)
            except UNREADABLE as error:
                await self._pass_over_unreadable(error, partitions)
                continue
            if batches:
                await self._process(batches)

    async def _commit_in_background(self) -> None:
        """Commits what has been handled while the next batches are fetched and handled: one
        commit at a time, in order, at most one per `commit_interval_s`."""
        while True:
            await self._to_commit.wait()
            try:
                await self._commit_now()
            except Exception as error:  # noqa: BLE001 - a commit that fails is made good by the next one
                log.warning("batch.commit_failed", error=type(error).__name__)
            await asyncio.sleep(self._commit_interval_s)

    async def sweep_parked(self) -> int:
        """Tries again the parked events of the partitions this instance owns: for each partition
        number with any, between two of its lane's batches (the other lanes go on)."""
        released = 0
        for number, keys in (await self.consumer.parked_keys(self.owned())).items():
            async with self._turns[number]:
                released += await self.consumer.replay_parked(keys)
        return released

    async def _process(self, batches: Mapping[TopicPartition, list[ConsumerRecord]]) -> None:
        """One lane's batch: its partitions' records handled together, in one transaction."""
        number = next(iter(batches)).partition
        async with self._turns[number]:
            await self._process_in_turn(batches)

    async def _process_in_turn(self, batches: Mapping[TopicPartition, list[ConsumerRecord]]) -> None:
        received_at = time.monotonic()
        records = [record for tp_records in batches.values() for record in tp_records]
        firsts = {tp: tp_records[0].offset for tp, tp_records in batches.items() if tp_records}
        lasts = {tp: tp_records[-1].offset + 1 for tp, tp_records in batches.items() if tp_records}
        try:
            tally = await self.consumer.handle_batch(records, received_at)
        except Exception as error:  # noqa: BLE001 - the transaction failed (the database is down?): handled again
            log.warning("batch.failed_retrying", consumer=self.consumer.group, error=type(error).__name__, partitions=len(firsts))
            owned = self.kafka.assignment()
            for tp, first in firsts.items():
                if tp in owned:  # a partition gone meanwhile is its new owner's to fetch
                    self.kafka.seek(tp, first)  # rewind: the batch is fetched and handled again
            self._next.update(firsts)
            await asyncio.sleep(self._failure_pause_s)
            return
        self._next.update(lasts)
        self._uncommitted.update(lasts)
        self._to_commit.set()
        log.info("batch.processed", consumer=self.consumer.group, records=len(records),
                 duration_ms=round((time.monotonic() - received_at) * 1000, 1),
                 **{outcome.value: count for outcome, count in tally.items()})

    async def _pass_over_unreadable(self, error: Exception, partitions: list[TopicPartition]) -> None:
        reason = UNREADABLE_REASON.format(error=type(error).__name__)

        async def dead_letter(tp: TopicPartition, offset: int) -> None:
            await self.consumer.dead_letter_unreadable(tp.topic, tp.partition, offset, reason)
            log.error("record.unreadable", consumer=self.consumer.group, topic=tp.topic, partition=tp.partition,
                      offset=offset, error=type(error).__name__)
            self._uncommitted[tp] = offset + 1
            self._to_commit.set()

        await pass_over_unreadable(self.kafka, partitions, self._next, batch_size=self._batch_size, handle=self._process,
                                   unreadable=dead_letter)

    async def _commit_now(self) -> None:
        offsets, self._uncommitted = self._uncommitted, {}
        self._to_commit.clear()
        owned = self.kafka.assignment()
        offsets = {tp: offset for tp, offset in offsets.items() if tp in owned}  # one gone is its new owner's
        if not offsets:
            return
        try:
            await self.kafka.commit(offsets)
        except (CommitFailedError, KafkaError) as error:
            # A rebalance took the partitions away: their new owner is redelivered the batch and
            # its inbox recognises what was done here.
            log.warning("batch.commit_failed", error=type(error).__name__)
            return
        except Exception:
            for tp, offset in offsets.items():  # tried again with the next commit, newer offsets first
                self._uncommitted.setdefault(tp, offset)
            self._to_commit.set()
            raise
        self.progress.advanced(offsets)

    def owned(self) -> list[tuple[str, int]]:
        return [(tp.topic, tp.partition) for tp in self.kafka.assignment()]

    def lag(self) -> list[PartitionLag]:
        """Each owned partition's end, as last fetched, less the offset committed: for the metrics."""
        found = []
        for tp in self.kafka.assignment():
            end, committed = self.kafka.highwater(tp), self.progress.committed.get(tp)
            if end is not None and committed is not None:
                found.append(PartitionLag(self.consumer.group, tp.topic, tp.partition, max(end - committed, 0)))
        return found


class _Assignments(ConsumerRebalanceListener):
    """Tells the loop of each rebalance: partitions revoked (awaited before they are handed
    over), then partitions assigned (before any of their records is fetched)."""

    def __init__(self, revoked: Callable[[set[TopicPartition]], Awaitable[None]], assigned: Callable[[], None]) -> None:
        self._revoked = revoked
        self._assigned = assigned

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._revoked(revoked)

    def on_partitions_assigned(self, assigned: object) -> None:
        self._assigned()
