"""The board's handlers: each event folds into the things it shows (`domain.PROJECTIONS`): load,
fold, store. The board sends nothing but the audit of who looked (`reader.py`); the consent
events are handled by the shared consent handlers, as in every service that decides disclosures."""

from collections.abc import Mapping

from contracts import Event
from services.board.domain import PROJECTIONS
from services.board.store import Store
from shared.privacy import consent_store
from shared.runtime.context import Handler, HandlerContext

Ctx = HandlerContext[Store, None]


async def on_carepath_event(ctx: Ctx, event: Event) -> None:
    for projection in PROJECTIONS[type(event)]:
        key = projection.key(event)
        state = await ctx.store.load(projection, key)
        await ctx.store.save(projection, key, projection.fold(state, event))


HANDLERS: Mapping[type[Event], Handler] = {
    **{event_type: on_carepath_event for event_type in PROJECTIONS},
    **consent_store.HANDLERS,
}
