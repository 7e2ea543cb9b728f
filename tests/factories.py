"""Test data: valid H&C numbers and events with sensible defaults."""

import random
from datetime import UTC, datetime
from uuid import uuid4

from contracts import Envelope, Event, ReferralSource, ReferralSubmitted, Trust, Urgency
from shared.reference import hc_number

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def new_hc_number(rng: random.Random | None = None) -> str:
    """A random 10-digit number that passes the modulus-11 check, formatted 3-3-4."""
    rng = rng or random.Random()
    while True:
        digits = "".join(str(rng.randrange(10)) for _ in range(9))
        for check in "0123456789":
            if hc_number.is_valid(digits + check):
                return f"{digits[:3]} {digits[3:6]} {digits[6:]}{check}"


def referral(**overrides: object) -> ReferralSubmitted:
    fields: dict[str, object] = {
        "referral_id": f"GP-{uuid4().hex[:10]}",
        "trust": Trust.BELFAST,
        "source": ReferralSource.GP,
        "urgency": Urgency.VERY_URGENT,
        "hc_number": "943 476 5919",
        "patient_name": "Test Patient",
        "submitted_at": NOW,
    }
    return ReferralSubmitted(**(fields | overrides))


def envelope_for(event: Event, **overrides: object) -> Envelope:
    """The envelope a Trust system would send the event in."""
    fields: dict[str, object] = dict(
        id=uuid4(),
        source="/trust/belfast/gp-system",
        type=event.cloudevents_type(),
        time=datetime.now(UTC),
        subject=event.key,
        correlationid=uuid4(),
    )
    return Envelope(**(fields | overrides))
