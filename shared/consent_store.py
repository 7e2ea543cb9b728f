"""Each service's own copy of consent state: recorded from consent events, loaded per patient."""

from uuid import UUID

import asyncpg

from contracts import ConsentRecorded, InformationCategory
from shared.consent import ConsentState, Recorded
from shared.consumer import HandlerContext


async def on_consent_recorded(ctx: HandlerContext, consent: ConsentRecorded) -> None:
    """The handler every service that discloses information subscribes to."""
    await ctx.conn.execute(
        "INSERT INTO consent_decisions (patient_id, consent_id, recipient, categories, permit, recorded_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (consent_id) DO NOTHING",
        consent.patient_id,
        consent.consent_id,
        consent.recipient,
        [category.value for category in consent.categories],
        consent.permit,
        consent.recorded_at,
    )


async def load(conn: asyncpg.Connection, patient_id: UUID) -> ConsentState:
    rows = await conn.fetch(
        "SELECT recipient, categories, permit FROM consent_decisions WHERE patient_id = $1 ORDER BY seq", patient_id
    )
    return ConsentState(
        tuple(
            Recorded(row["recipient"], frozenset(InformationCategory(c) for c in row["categories"]), row["permit"])
            for row in rows
        )
    )
