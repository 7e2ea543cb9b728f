"""What a handler (or a periodic job) is given besides its event: the open transaction, the
clock, the envelope it came in, and `emit`, which queues events in the outbox inside that
transaction. Every service's handlers have the one shape `on_<event>(ctx, event)`."""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from contracts import Envelope, Event
from shared.runtime import outbox
from shared.runtime.clock import Clock


@dataclass
class HandlerContext:
    """What a handler (or a periodic job) gets besides the event: the open transaction, the
    clock, and `emit`, which queues events in the outbox inside that transaction."""

    conn: asyncpg.Connection
    clock: Clock
    source: str
    envelope: Envelope | None = None  # the event being handled; None in a periodic job
    received_at: float = field(default_factory=time.monotonic)  # when its batch was fetched
    committing_soon: bool = False

    def commit_soon(self) -> None:
        """The handler took a lock other work waits for (a team's planning lock, say): the
        transaction ends as soon as this event is handled, so it is held no longer than needed
        and never together with locks later events of the batch take (two batches taking two
        such locks in opposite orders would deadlock)."""
        self.committing_soon = True

    async def emit(
        self, *events: Event, correlation_id: UUID | None = None, causation_id: UUID | None = None
    ) -> list[Envelope]:
        """Events caused by the one being handled carry its correlation id and its id as cause."""
        incoming = self.envelope
        correlation = correlation_id or (incoming.correlationid if incoming else uuid4())
        causation = causation_id or (incoming.id if incoming else None)
        now = self.clock.now()
        envelopes = [
            Envelope(
                id=uuid4(),
                source=self.source,
                type=event.cloudevents_type(),
                time=now,
                subject=event.key,
                correlationid=correlation,
                causationid=causation,
            )
            for event in events
        ]
        await outbox.add(self.conn, *zip(events, envelopes))
        return envelopes


Handler = Callable[[HandlerContext, Any], Awaitable[None]]
