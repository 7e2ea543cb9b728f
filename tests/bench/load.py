"""Backlogs for the benchmarks: referrals from a GP system, each for a different patient (a valid
H&C number of its own), encoded as a Trust system puts them on the wire, and published fast."""

import asyncio
import random
from datetime import UTC, datetime
from uuid import uuid4

from contracts import Envelope, ReferralSubmitted
from shared.runtime.codec import KafkaRecord, encode
from tools.trust import TrustSystem
from tests import logins
from tests.factories import new_hc_number, referral

GP_SYSTEM = "/trust/belfast/gp-system"


def referrals(count: int, rng: random.Random) -> list[ReferralSubmitted]:
    """`count` crisis referrals (GP, very urgent, Belfast), no two for the same patient."""
    numbers: set[str] = set()
    while len(numbers) < count:
        numbers.add(new_hc_number(rng))
    now = datetime.now(UTC)
    return [
        referral(referral_id=f"GP-BENCH-{uuid4().hex[:12]}", hc_number=number, patient_name=f"Bench Patient {n}", submitted_at=now)
        for n, number in enumerate(sorted(numbers, key=lambda _: rng.random()))
    ]


def as_records(events: list[ReferralSubmitted], source: str = GP_SYSTEM) -> list[KafkaRecord]:
    """Each referral as the GP system's producer sends it: the event as JSON, the envelope in headers."""
    now = datetime.now(UTC)
    return [
        encode(
            event,
            Envelope(id=uuid4(), source=source, type=event.cloudevents_type(), time=now, subject=event.key, correlationid=uuid4()),
        )
        for event in events
    ]


async def preload(prefix: str, topic: str, records: list[KafkaRecord], chunk: int = 1000, source: str = GP_SYSTEM) -> None:
    """Publishes the records to `<prefix>.<topic>`, many in flight at once, each acknowledged, as
    the principal `source` names (the GP system's, by default)."""
    async with TrustSystem(logins.admin(), prefix, source) as gp:
        for start in range(0, len(records), chunk):
            await asyncio.gather(*(gp.publish_raw(topic, r.key, r.value, r.headers) for r in records[start : start + chunk]))
