"""Referral rules, pure: identity checks, triage by MHSDS urgency, response deadlines.

Emergency and very urgent referrals must be assessed within 4 hours, urgent within 24;
routine referrals are not a crisis and are redirected to the community mental health team.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from contracts import ReferralAccepted, ReferralRedirected, ReferralSubmitted, Urgency
from shared import hc_number
from shared.errors import InvalidEvent

RESPONSE_TARGETS: dict[Urgency, timedelta] = {
    Urgency.EMERGENCY: timedelta(hours=4),
    Urgency.VERY_URGENT: timedelta(hours=4),
    Urgency.URGENT: timedelta(hours=24),
}
ROUTINE_REDIRECT_REASON = (
    "Routine referrals are not a crisis: the community mental health team will contact the patient."
)


@dataclass(frozen=True)
class KnownPatient:
    patient_id: UUID
    open_episode_id: UUID | None


def checked_hc_number(referral: ReferralSubmitted) -> str:
    """The H&C number without spaces; an invalid one rejects the referral (no value quoted)."""
    if not hc_number.is_valid(referral.hc_number):
        raise InvalidEvent("hc_number fails the modulus-11 check digit")
    return hc_number.normalise(referral.hc_number)


def triage(
    referral: ReferralSubmitted,
    patient: KnownPatient,
    new_episode_id: UUID,
    now: datetime,
) -> ReferralAccepted | ReferralRedirected:
    """Accept with a deadline (joining an open episode if there is one), or redirect."""
    target = RESPONSE_TARGETS.get(referral.urgency)
    if target is None:
        return ReferralRedirected(
            referral_id=referral.referral_id,
            patient_id=patient.patient_id,
            trust=referral.trust,
            redirected_to="cmht",
            reason=ROUTINE_REDIRECT_REASON,
            redirected_at=now,
        )
    return ReferralAccepted(
        referral_id=referral.referral_id,
        patient_id=patient.patient_id,
        episode_id=patient.open_episode_id or new_episode_id,
        trust=referral.trust,
        source=referral.source,
        urgency=referral.urgency,
        accepted_at=now,
        assess_by=now + target,
    )
