"""The board's handlers: each event folds into the things it shows (`domain.PROJECTIONS`): load,
fold, store. The board sends nothing but the audit of who looked (`reader.py`); the consent
events are handled by the shared consent handlers, as in every service that decides disclosures."""

from collections.abc import Mapping

from contracts import Event, NotificationSent, TeamFeedbackSummarised
from services.board import feedback
from services.board.domain import PROJECTIONS as BOARD, Projection
from services.board.fidelity import FIDELITY_FACTS, EpisodeRecord, fold_episode
from services.board.store import Store
from shared.privacy import consent_store
from shared.runtime.context import Handler, HandlerContext

Ctx = HandlerContext[Store, None]

# The fidelity figures keep one record per episode. Messages to people are not read: the board's
# principal does not read the notifications topic (carers are counted from the copies sent to them).
FIDELITY = Projection("fidelity", EpisodeRecord, lambda e: e.episode_id, fold_episode)
PROJECTIONS: Mapping[type, tuple[Projection, ...]] = {
    event_type: (*BOARD.get(event_type, ()), *((FIDELITY,) if event_type in FIDELITY_FACTS else ()))
    for event_type in (*BOARD, *FIDELITY_FACTS) if event_type is not NotificationSent
}


async def on_carepath_event(ctx: Ctx, event: Event) -> None:
    for projection in PROJECTIONS[type(event)]:
        key = projection.key(event)
        state = await ctx.store.load(projection, key)
        await ctx.store.save(projection, key, projection.fold(state, event))


async def on_team_feedback_summarised(ctx: Ctx, summary: TeamFeedbackSummarised) -> None:
    kept = await ctx.store.team_feedback(summary.team, summary.period)
    await ctx.store.save_team_feedback(feedback.latest(kept, summary))


HANDLERS: Mapping[type[Event], Handler] = {
    **{event_type: on_carepath_event for event_type in PROJECTIONS},
    TeamFeedbackSummarised: on_team_feedback_summarised,
    **consent_store.HANDLERS,
}
