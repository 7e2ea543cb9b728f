"""Referral rules, pure: who can refer, eligibility, triage by MHSDS urgency, response clocks,
and signposting from the service directory when carepath cannot take someone on; and when a
Trust's directory is published again.

Emergency and very urgent referrals must be assessed within 4 hours, urgent within 24 (per
Trust, from trust_rules.toml); routine referrals are not a crisis and go to the CMHT. Nobody is
turned away without a reason they can read and at least two places to go instead.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from contracts import (
    DeclineReason,
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralDeclined,
    ReferralLinked,
    ReferralOutcome,
    ReferralRedirected,
    ReferralSource,
    ReferralSubmitted,
    ResponseTargetBreached,
    ServiceDirectoryPublished,
    ServiceKind,
    Trust,
    Urgency,
)
from services.referral.rules import TrustRules
from shared.reference import hc_number
from shared.reference.directory import Directory
from shared.runtime.errors import InvalidEvent

Decision = ReferralAccepted | ReferralLinked | ReferralRedirected | ReferralDeclined

# Routes open only to people the service already knows (they have the team's number).
KNOWN_ONLY = frozenset(
    {ReferralSource.KNOWN_PATIENT, ReferralSource.CARER_OF_KNOWN_PATIENT, ReferralSource.VOLUNTARY_ORGANISATION}
)

K = ServiceKind
REDIRECT_TO_CMHT = (K.CMHT, K.CRISIS_LINE, K.VOLUNTARY_ORGANISATION)
SIGNPOSTS: dict[DeclineReason, tuple[ServiceKind, ...]] = {
    DeclineReason.NEW_PATIENT_SELF_REFERRAL: (K.GP, K.EMERGENCY_DEPARTMENT, K.CRISIS_LINE),
    DeclineReason.PATIENT_NOT_KNOWN: (K.GP, K.EMERGENCY_DEPARTMENT, K.CRISIS_LINE),
    DeclineReason.ALREADY_INPATIENT: (K.WARD, K.CRISIS_LINE),
    DeclineReason.OUTSIDE_TRUST_AREA: (K.HTCR, K.EMERGENCY_DEPARTMENT, K.CRISIS_LINE),
}
UNDER_AGE_SIGNPOSTS = (K.CAMHS, K.GP, K.CRISIS_LINE)
OVER_AGE_SIGNPOSTS = (K.OLDER_PEOPLE, K.GP, K.CRISIS_LINE)

REASONS = {
    DeclineReason.NEW_PATIENT_SELF_REFERRAL: (
        "The home treatment team cannot take a referral directly from someone it does not already know: "
        "a doctor first needs to rule out physical causes. Your GP or the emergency department can refer you "
        "today, and the crisis lines below are there at any hour."
    ),
    DeclineReason.PATIENT_NOT_KNOWN: (
        "Carers and voluntary organisations can contact the home treatment team directly only for someone "
        "it already knows. The person's GP or the emergency department can refer them, and the crisis lines "
        "below can help now."
    ),
    DeclineReason.ALREADY_INPATIENT: (
        "The person is on a ward now, so the ward team leads their care; the ward can refer to home treatment "
        "for an early discharge."
    ),
    DeclineReason.OUTSIDE_TRUST_AREA: (
        "The person lives in another Trust's area; the home treatment team there is the one to contact."
    ),
}
ROUTINE_REASON = (
    "A routine referral is not a crisis: the community mental health team will contact the patient. "
    "If things get worse before then, the crisis lines below are open."
)


@dataclass(frozen=True)
class KnownPatient:
    patient_id: UUID
    known: bool  # has had an episode with the service before (or has one now)
    open_episode_id: UUID | None


@dataclass(frozen=True)
class Triage:
    decision: Decision
    acknowledgement: ReferralAcknowledged

    @property
    def events(self) -> list:
        return [self.decision, self.acknowledgement]


@dataclass(frozen=True)
class PendingDeadline:
    """An accepted referral whose assessment has not started yet."""

    referral_id: str
    patient_id: UUID
    episode_id: UUID
    trust: Trust
    urgency: Urgency
    assess_by: datetime
    ed_arrived_at: datetime | None


def checked_hc_number(referral: ReferralSubmitted) -> str:
    """The H&C number without spaces; an invalid one rejects the referral (no value quoted)."""
    if not hc_number.is_valid(referral.hc_number):
        raise InvalidEvent("invalid H&C number: it fails the modulus-11 check digit")
    return hc_number.normalise(referral.hc_number)


def check_resent(earlier_patient: UUID, patient_now: UUID | None) -> None:
    """A referral id its referring system has used before: the same patient's referral sent
    again is already decided (nothing to do); another patient's under the same id is refused,
    so the second referral is never silently dropped."""
    if patient_now != earlier_patient:
        raise InvalidEvent("referral_id already used by this referring system (ce_source) for another patient")


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def triage(
    referral: ReferralSubmitted,
    patient: KnownPatient,
    rules: TrustRules,
    directory: Directory,
    new_episode_id: UUID,
    now: datetime,
) -> Triage:
    """Decline, link, redirect or accept a referral, and acknowledge it to the referrer."""
    decision = _decide(referral, patient, rules, directory, new_episode_id, now)
    outcome = {
        ReferralAccepted: ReferralOutcome.ACCEPTED,
        ReferralLinked: ReferralOutcome.LINKED,
        ReferralRedirected: ReferralOutcome.REDIRECTED,
        ReferralDeclined: ReferralOutcome.DECLINED,
    }[type(decision)]
    acknowledgement = ReferralAcknowledged(
        referral_id=referral.referral_id,
        patient_id=patient.patient_id,
        trust=referral.trust,
        source=referral.source,
        outcome=outcome,
        received_at=now,
        assess_by=decision.assess_by if isinstance(decision, ReferralAccepted) else None,
    )
    return Triage(decision, acknowledgement)


def _decide(
    referral: ReferralSubmitted,
    patient: KnownPatient,
    rules: TrustRules,
    directory: Directory,
    new_episode_id: UUID,
    now: datetime,
) -> Decision:
    # About 50 lines: the triage rules one after another, in the order a Trust applies them.
    if referral.source in KNOWN_ONLY and not patient.known:
        reason = (
            DeclineReason.NEW_PATIENT_SELF_REFERRAL
            if referral.source is ReferralSource.KNOWN_PATIENT
            else DeclineReason.PATIENT_NOT_KNOWN
        )
        return _decline(referral, patient, directory, reason, REASONS[reason], SIGNPOSTS[reason], now)
    if patient.open_episode_id is not None:
        return ReferralLinked(
            referral_id=referral.referral_id,
            patient_id=patient.patient_id,
            episode_id=patient.open_episode_id,
            trust=referral.trust,
            source=referral.source,
            urgency=referral.urgency,
            linked_at=now,
        )
    ineligible = _ineligibility(referral, rules, now)
    if ineligible is not None:
        reason, text, kinds, signpost_trust = ineligible
        return _decline(referral, patient, directory, reason, text, kinds, now, signpost_trust)
    target = rules.targets.get(referral.urgency)
    if target is None:
        return ReferralRedirected(
            referral_id=referral.referral_id,
            patient_id=patient.patient_id,
            trust=referral.trust,
            redirected_to=ServiceKind.CMHT.value,
            reason=ROUTINE_REASON,
            alternatives=directory.signposts(referral.trust, REDIRECT_TO_CMHT),
            redirected_at=now,
        )
    return ReferralAccepted(
        referral_id=referral.referral_id,
        patient_id=patient.patient_id,
        episode_id=new_episode_id,
        trust=referral.trust,
        source=referral.source,
        urgency=referral.urgency,
        accepted_at=now,
        assess_by=now + target,
        ed_arrived_at=referral.ed_arrived_at,
    )


def _ineligibility(
    referral: ReferralSubmitted, rules: TrustRules, now: datetime
) -> tuple[DeclineReason, str, Iterable[ServiceKind], Trust] | None:
    home = referral.resident_trust or referral.trust
    if home is not referral.trust:
        reason = DeclineReason.OUTSIDE_TRUST_AREA
        return reason, REASONS[reason], SIGNPOSTS[reason], home
    if referral.currently_inpatient and referral.source is not ReferralSource.INPATIENT_WARD:
        reason = DeclineReason.ALREADY_INPATIENT
        return reason, REASONS[reason], SIGNPOSTS[reason], home
    if referral.date_of_birth is not None:
        age = age_on(referral.date_of_birth, now.date())
        if age < rules.min_age:
            text = f"The home treatment team in this Trust sees people aged {rules.min_age} and over."
            return DeclineReason.OUTSIDE_AGE_RANGE, text, UNDER_AGE_SIGNPOSTS, home
        if rules.max_age is not None and age > rules.max_age:
            text = f"The home treatment team in this Trust sees people up to {rules.max_age}."
            return DeclineReason.OUTSIDE_AGE_RANGE, text, OVER_AGE_SIGNPOSTS, home
    return None


def _decline(
    referral: ReferralSubmitted,
    patient: KnownPatient,
    directory: Directory,
    reason: DeclineReason,
    text: str,
    kinds: Iterable[ServiceKind],
    now: datetime,
    signpost_trust: Trust | None = None,
) -> ReferralDeclined:
    return ReferralDeclined(
        referral_id=referral.referral_id,
        patient_id=patient.patient_id,
        trust=referral.trust,
        reason_code=reason,
        reason=text,
        alternatives=directory.signposts(signpost_trust or referral.trust, kinds),
        declined_at=now,
    )


def breaches(pending: Iterable[PendingDeadline], now: datetime) -> list[ResponseTargetBreached]:
    """One breach for each accepted referral past its deadline with no assessment started."""
    return [
        ResponseTargetBreached(
            referral_id=deadline.referral_id,
            patient_id=deadline.patient_id,
            episode_id=deadline.episode_id,
            trust=deadline.trust,
            urgency=deadline.urgency,
            assess_by=deadline.assess_by,
            detected_at=now,
            minutes_late=int((now - deadline.assess_by).total_seconds() // 60),
            ed_arrived_at=deadline.ed_arrived_at,
            minutes_in_ed=(
                int((now - deadline.ed_arrived_at).total_seconds() // 60) if deadline.ed_arrived_at else None
            ),
        )
        for deadline in pending
        if now > deadline.assess_by
    ]


@dataclass(frozen=True)
class DirectoryChange:
    """A Trust's directory to publish again, and the digest that says it was."""

    event: ServiceDirectoryPublished
    digest: str


def directory_change(directory: Directory, trust: Trust, published_digest: str | None, now: datetime) -> DirectoryChange | None:
    """The Trust's directory, if it differs from what was last published (by digest), else None."""
    entries = directory.for_trust(trust)
    digest = hashlib.sha256("".join(entry.model_dump_json() for entry in entries).encode()).hexdigest()
    if digest == published_digest:
        return None
    return DirectoryChange(ServiceDirectoryPublished(trust=trust, entries=entries, published_at=now), digest)
