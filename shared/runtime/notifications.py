"""Messages to people (patient, carer, team lead, CMHT, GP), written once for every service."""

from uuid import UUID

from contracts import NotificationSent
from shared.runtime.context import HandlerContext


async def notify(ctx: HandlerContext, recipient: str, patient_id: UUID, episode_id: UUID, kind: str, text: str) -> None:
    """Queues a plain-words message about a patient, inside the handler's transaction."""
    await ctx.emit(
        NotificationSent(
            recipient=recipient, patient_id=patient_id, episode_id=episode_id, kind=kind, text=text, sent_at=ctx.clock.now()
        )
    )
