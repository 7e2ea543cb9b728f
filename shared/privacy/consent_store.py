"""Each service's own copy of consent state: recorded from consent events, loaded per patient."""

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from contracts import BreakGlassRequested, ConsentRecorded, ConsentWithdrawn, InformationCategory, Purpose, SharedCopiesErased
from contracts.recipients import CARER_PREFIX, Recipient
from shared.privacy.consent import ConsentState, Recorded, break_glass_window, check_break_glass_allowed, decide
from shared.runtime.context import HandlerContext


async def on_consent_recorded(ctx: HandlerContext, consent: ConsentRecorded) -> int:
    """The handlers every service that discloses information subscribes to. Each returns how
    many copy keys it destroyed: a deny of a category a key has sealed (do-not-tell: any), a
    withdrawn permit, or an erasure makes the recipient's copies unreadable."""
    # A withdrawal that came first (another order on the wire) applies at once: the permit never stands.
    await ctx.conn.execute(
        "INSERT INTO consent_decisions (patient_id, consent_id, recipient, categories, permit, recorded_at, purpose, "
        "valid_from, valid_until, do_not_tell, withdrawn_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
        "(SELECT withdrawn_at FROM consent_withdrawn_first WHERE consent_id = $2)) "
        "ON CONFLICT (consent_id) DO NOTHING",
        consent.patient_id,
        consent.consent_id,
        consent.recipient,
        [category.value for category in consent.categories],
        consent.permit,
        consent.recorded_at,
        consent.purpose.value if consent.purpose else None,
        consent.valid_from,
        consent.valid_until,
        consent.do_not_tell,
    )
    if consent.permit:
        return 0  # nothing was sealed under it yet, so nothing to make unreadable
    concerning = None if consent.do_not_tell else consent.categories  # not even told: every copy goes
    return await ctx.privacy.destroy_keys(consent.patient_id, consent.recipient, ctx.clock.now(), "consent denied", concerning)


async def on_consent_withdrawn(ctx: HandlerContext, withdrawal: ConsentWithdrawn) -> int:
    withdrawn = await ctx.conn.fetchrow(
        "UPDATE consent_decisions SET withdrawn_at = $3 WHERE patient_id = $1 AND consent_id = $2 AND withdrawn_at IS NULL "
        "RETURNING recipient, categories, permit",
        withdrawal.patient_id,
        withdrawal.consent_id,
        withdrawal.withdrawn_at,
    )
    if withdrawn is None:
        # Not recorded here yet, perhaps still on its way: kept, so the decision is withdrawn on arrival.
        await ctx.conn.execute(
            "INSERT INTO consent_withdrawn_first (consent_id, patient_id, withdrawn_at) SELECT $1, $2, $3 "
            "WHERE NOT EXISTS (SELECT 1 FROM consent_decisions WHERE consent_id = $1) ON CONFLICT DO NOTHING",
            withdrawal.consent_id,
            withdrawal.patient_id,
            withdrawal.withdrawn_at,
        )
        return 0
    if not withdrawn["permit"]:
        return 0  # a deny lifted: nothing to make unreadable
    concerning = [InformationCategory(c) for c in withdrawn["categories"]]
    return await ctx.privacy.destroy_keys(withdrawal.patient_id, withdrawn["recipient"], ctx.clock.now(), "consent withdrawn", concerning)


async def was_withdrawn_first(conn: asyncpg.Connection, consent_id: UUID) -> bool:
    """True when this decision's withdrawal arrived before the decision did."""
    return bool(await conn.fetchval("SELECT true FROM consent_withdrawn_first WHERE consent_id = $1", consent_id))


async def on_break_glass_requested(ctx: HandlerContext, override: BreakGlassRequested) -> datetime:
    """Records the override for its window by this service's clock (`break_glass_window`), unless
    its requester has had their day's overrides; returns when it ends."""
    now = ctx.clock.now()
    starts, ends = break_glass_window(override, now)
    requested = min(override.requested_at, now)  # counted by when it was asked for: a rebuild counts the same
    # One requester's overrides for different patients arrive in different lanes: counted one at a time.
    await ctx.conn.execute("SELECT pg_advisory_xact_lock(hashtext('carepath break glass ' || $1))", override.staff_id)
    used = await ctx.conn.fetchval(
        "SELECT count(*) FROM consent_decisions WHERE override AND requested_by = $1 AND requested_at > $2 "
        "AND requested_at <= $3 AND consent_id <> $4",
        override.staff_id, requested - timedelta(hours=24), requested, override.override_id,
    )
    check_break_glass_allowed(used)
    await ctx.conn.execute(
        "INSERT INTO consent_decisions (patient_id, consent_id, recipient, categories, permit, recorded_at, "
        "valid_from, valid_until, override, requested_by, requested_at) VALUES ($1, $2, $3, $4, true, $5, $5, $6, true, $7, $8) "
        "ON CONFLICT (consent_id) DO NOTHING",
        override.patient_id,
        override.override_id,
        override.recipient,
        [category.value for category in override.categories],
        starts,
        ends,
        override.staff_id,
        requested,
    )
    return ends


async def end_overrides(ctx: HandlerContext, limit: int = 200) -> list[tuple[UUID, UUID, int]]:
    """Overrides whose window has passed, each ended once: the keys of the copies its recipient
    was given (of the categories it opened) are destroyed, so what break glass disclosed no longer
    opens. Returns (patient, override, keys destroyed) for each ended now."""
    now = ctx.clock.now()
    ended = await ctx.conn.fetch(
        "UPDATE consent_decisions SET override_ended_at = $1 WHERE consent_id IN (SELECT consent_id FROM consent_decisions "
        "WHERE override AND override_ended_at IS NULL AND valid_until <= $1 ORDER BY valid_until LIMIT $2 FOR UPDATE SKIP LOCKED) "
        "RETURNING patient_id, consent_id, recipient, categories",
        now, limit,
    )
    results = []
    for row in ended:
        # Only what the override alone allowed: what the team may see anyway stays readable.
        state = await load(ctx.conn, row["patient_id"])
        opened = {InformationCategory(c) for c in row["categories"]}
        only_by_override = decide(state, row["recipient"], Recipient(row["recipient"]).purpose, opened, now).denied
        destroyed = await ctx.privacy.destroy_keys(row["patient_id"], row["recipient"], now, "break glass ended",
                                                   only_by_override) if only_by_override else 0
        results.append((row["patient_id"], row["consent_id"], destroyed))
    return results


async def on_shared_copies_erased(ctx: HandlerContext, erasure: SharedCopiesErased) -> int:
    return await ctx.privacy.destroy_keys(erasure.patient_id, erasure.recipient, ctx.clock.now(), "copies erased")


HANDLERS = {
    ConsentRecorded: on_consent_recorded,
    ConsentWithdrawn: on_consent_withdrawn,
    BreakGlassRequested: on_break_glass_requested,
    SharedCopiesErased: on_shared_copies_erased,
}


async def carers(conn: asyncpg.Connection, patient_id: UUID) -> list[str]:
    """The carers the patient's consent decisions name (by carer id)."""
    rows = await conn.fetch(
        "SELECT DISTINCT substr(recipient, length($2) + 1) FROM consent_decisions WHERE patient_id = $1 "
        "AND starts_with(recipient, $2)",
        patient_id,
        CARER_PREFIX,
    )
    return [row[0] for row in rows]


async def load(conn: asyncpg.Connection, patient_id: UUID) -> ConsentState:
    rows = await conn.fetch(
        "SELECT consent_id, recipient, categories, permit, purpose, valid_from, valid_until, do_not_tell, override, "
        "withdrawn_at IS NOT NULL AS withdrawn FROM consent_decisions WHERE patient_id = $1 ORDER BY seq",
        patient_id,
    )
    decisions = tuple(
        Recorded(
            recipient=row["recipient"],
            categories=frozenset(InformationCategory(c) for c in row["categories"]),
            permit=row["permit"],
            consent_id=row["consent_id"],
            purpose=Purpose(row["purpose"]) if row["purpose"] else None,
            valid_from=row["valid_from"],
            valid_until=row["valid_until"],
            do_not_tell=row["do_not_tell"],
            withdrawn=row["withdrawn"],
            override=row["override"],
        )
        for row in rows
    )
    return ConsentState(decisions, withdrawals=sum(d.withdrawn for d in decisions))
