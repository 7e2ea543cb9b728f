"""Feeding a `ReliableConsumer` from Kafka (see `consumer` for what happens to each record):
fetch a round, hand each partition number its records at once, commit the round's offsets in
the background once its transactions have committed, take turns with the sweep of parked
events; and each partition's progress, for the health check."""

import asyncio
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import CommitFailedError, KafkaError

from shared.runtime.consumer import ReliableConsumer
from shared.runtime.kafka import UNREADABLE, UNREADABLE_REASON, pass_over_unreadable

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
    """Feeds one `ReliableConsumer` from Kafka: fetch a round, handle each partition number at
    once, commit the round's offsets in the background, repeat; and, between rounds, the sweep of
    parked events."""

    def __init__(
        self,
        consumer: ReliableConsumer,
        bootstrap: str,
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
        # Batches and the sweep of parked events take turns. Were the sweep trying a parked
        # event (its row locked) while a batch handles the event it waits for, the batch would
        # pass over it, the sweep would find its prerequisite not yet committed, and it would
        # wait for the next sweep while the patient's later events on other topics overtook it.
        self._turn = asyncio.Lock()
        self._commit_interval_s = commit_interval_s
        self._batch_size = batch_size
        self._failure_pause_s = failure_pause_s
        self.kafka = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=consumer.group,
            client_id=consumer.group,
            enable_auto_commit=False,  # committed after processing, never before
            auto_offset_reset="earliest",  # a new group reads everything, never just what comes next
            max_poll_records=batch_size,
            # The same partition numbers of every topic to the same instance: a patient's events
            # meet in one place, whichever topic brings them.
            partition_assignment_strategy=(RangePartitionAssignor,),
            # A killed instance's partitions go to the others (or to it, restarted) within seconds.
            session_timeout_ms=6_000,
            heartbeat_interval_ms=2_000,
        )

    async def start(self) -> None:
        self.kafka.subscribe(self.consumer.topics)
        await self.kafka.start()

    async def stop(self) -> None:
        if self._uncommitted:
            await self._commit_now()
        await self.kafka.stop()

    async def run(self) -> None:
        committer = asyncio.create_task(self._commit_in_background(), name=f"{self.consumer.group}-commits")
        try:
            while True:
                try:
                    batches = await self._fetch()
                except UNREADABLE as error:
                    await self._pass_over_unreadable(error)
                    continue
                if batches:
                    await self._process(batches)
        finally:
            committer.cancel()
            await asyncio.gather(committer, return_exceptions=True)

    async def _fetch(self) -> dict[TopicPartition, list[ConsumerRecord]]:
        """Up to a batch from each partition number with records waiting. The first fetch waits
        for records and may bring one partition's backlog alone; the partition numbers not in it
        are then asked, without waiting, for what the client holds already, so that one backlog
        does not leave the others' share of the work idle behind it. (Each partition is read once
        a round, so its records stay in order.)"""
        batches = dict(await self.kafka.getmany(timeout_ms=200, max_records=self._batch_size))
        while batches:
            numbers = {tp.partition for tp in batches}
            others = [tp for tp in self.kafka.assignment() if tp.partition not in numbers]
            more = await self.kafka.getmany(*others, timeout_ms=0, max_records=self._batch_size) if others else {}
            if not more:
                break
            batches.update(more)
        return batches

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
        """Tries again the parked events of the partitions this instance owns, between batches."""
        async with self._turn:
            return await self.consumer.replay_parked(self.owned())

    async def _process(self, batches: Mapping[TopicPartition, list[ConsumerRecord]]) -> None:
        async with self._turn:
            await self._process_in_turn(batches)

    async def _process_in_turn(self, batches: Mapping[TopicPartition, list[ConsumerRecord]]) -> None:
        received_at = time.monotonic()
        by_number: dict[int, list[ConsumerRecord]] = defaultdict(list)
        for tp, records in batches.items():
            by_number[tp.partition].extend(records)
        results = await asyncio.gather(
            *(self.consumer.handle_batch(records, received_at) for records in by_number.values()), return_exceptions=True
        )
        offsets: dict[TopicPartition, int] = {}
        failed = False
        tally: dict[str, int] = defaultdict(int)
        for records, result in zip(by_number.values(), results):
            firsts: dict[TopicPartition, int] = {}
            lasts: dict[TopicPartition, int] = {}
            for record in records:
                tp = TopicPartition(record.topic, record.partition)
                firsts.setdefault(tp, record.offset)
                lasts[tp] = record.offset + 1
            if isinstance(result, BaseException):
                failed = True
                log.warning("batch.failed_retrying", error=type(result).__name__, partitions=len(firsts))
                for tp, first in firsts.items():
                    self.kafka.seek(tp, first)  # rewind: the batch is fetched and handled again
                self._next.update(firsts)
            else:
                offsets.update(lasts)
                self._next.update(lasts)
                for outcome, count in result.items():
                    tally[outcome.value] += count
        if offsets:
            self._uncommitted.update(offsets)
            self._to_commit.set()
        log.info("batch.processed", consumer=self.consumer.group, records=sum(map(len, batches.values())),
                 duration_ms=round((time.monotonic() - received_at) * 1000, 1), **tally)
        if failed:
            await asyncio.sleep(self._failure_pause_s)

    async def _pass_over_unreadable(self, error: Exception) -> None:
        reason = UNREADABLE_REASON.format(error=type(error).__name__)

        async def dead_letter(tp: TopicPartition, offset: int) -> None:
            await self.consumer.dead_letter_unreadable(tp.topic, tp.partition, offset, reason)
            log.error("record.unreadable", consumer=self.consumer.group, topic=tp.topic, partition=tp.partition,
                      offset=offset, error=type(error).__name__)
            self._uncommitted[tp] = offset + 1
            self._to_commit.set()

        await pass_over_unreadable(self.kafka, self._next, batch_size=self._batch_size, handle=self._process, unreadable=dead_letter)

    async def _commit_now(self) -> None:
        offsets, self._uncommitted = self._uncommitted, {}
        self._to_commit.clear()
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
