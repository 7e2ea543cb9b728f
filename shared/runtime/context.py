"""What a handler (or a periodic job) is given besides its event: the service's store bound to
the open transaction, the privacy tables' store on it, the service's dependencies (rules, directory, time zone: whatever its
wiring built), the clock, the envelope the event came in, and `emit`, which queues events in
the outbox inside that transaction.

Every service's handlers have the one shape, load, decide, store, emit:

    async def on_episode_closed(ctx: Ctx, closed: EpisodeClosed) -> None:
        await ctx.store.close_episode(closed.episode_id, closed.closed_at)

A handler test gives the same handler a context holding a small fake store instead."""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID, uuid4

import asyncpg

from contracts import Envelope, Event
from shared.runtime import outbox, tracing
from shared.runtime.clock import Clock


S = TypeVar("S")  # the service's store
D = TypeVar("D")  # the service's dependencies


@dataclass
class HandlerContext(Generic[S, D]):
    """What a handler (or a periodic job) gets besides the event."""

    conn: asyncpg.Connection
    clock: Clock
    source: str
    envelope: Envelope | None = None  # the event being handled; None in a periodic job
    received_at: float = field(default_factory=time.monotonic)  # when its batch was fetched
    committing_soon: bool = False
    store: S = None  # type: ignore[assignment] - the service's store on `conn`
    deps: D = None  # type: ignore[assignment] - the service's dependencies, built by its wiring
    privacy: Any = None  # the consent, copy-key and delivery tables on `conn` (shared.privacy.store)

    def commit_soon(self) -> None:
        """The handler took a lock other work waits for (a team's planning lock, say): the
        transaction ends as soon as this event is handled, so it is held no longer than needed
        and never together with locks later events of the batch take (two batches taking two
        such locks in opposite orders would deadlock)."""
        self.committing_soon = True

    @property
    def trace(self) -> str | None:
        """The traceparent of the span the event is handled in: kept by a service that emits for
        this journey later (a deadline check), so what it emits then is in the journey's trace."""
        return tracing.traceparent_of()

    async def emit(
        self, *events: Event, correlation_id: UUID | None = None, causation_id: UUID | None = None, trace: str | None = None
    ) -> list[Envelope]:
        """Events caused by the one being handled carry its correlation id, its id as cause and its
        span's trace; a periodic job names the journey (`correlation_id`) and trace it emits in."""
        incoming = self.envelope
        correlation = correlation_id or (incoming.correlationid if incoming else uuid4())
        causation = causation_id or (incoming.id if incoming else None)
        now = self.clock.now()
        traceparent = trace or tracing.traceparent_of()  # else the span of the event being handled, if any
        envelopes = [
            Envelope(
                id=uuid4(),
                source=self.source,
                type=event.cloudevents_type(),
                time=now,
                subject=event.key,
                correlationid=correlation,
                causationid=causation,
                traceparent=traceparent,
            )
            for event in events
        ]
        await outbox.add(self.conn, *zip(events, envelopes))
        return envelopes


Handler = Callable[[HandlerContext, Any], Awaitable[None]]
# A service's store, built on the transaction's connection for each event and each job.
StoreFactory = Callable[[asyncpg.Connection], Any]


@dataclass(frozen=True)
class Contexts:
    """Makes each handler's and job's context: the same clock, source, store and dependencies."""

    clock: Clock
    source: str
    store: StoreFactory | None = None
    deps: Any = None
    privacy: StoreFactory | None = None

    def __call__(
        self, conn: asyncpg.Connection, envelope: Envelope | None = None, received_at: float | None = None
    ) -> HandlerContext:
        return HandlerContext(
            conn, self.clock, self.source, envelope, time.monotonic() if received_at is None else received_at,
            store=self.store(conn) if self.store is not None else None, deps=self.deps,
            privacy=self.privacy(conn) if self.privacy is not None else None,
        )
