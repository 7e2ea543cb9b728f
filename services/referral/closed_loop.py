"""Closing the loop with the referrer, pure: which changes in a referred patient's care the
referring system is told of (assessed and the outcome, admitted, first seen at home, visits
missed in a row, discharged), what each says in plain words, and how far the patient's consent
lets each referrer hear it.

A referrer hears a change once: `Progress` is what the episode's referrers have been told so far,
and each change returns the progress after it. A referrer is told only what consent lets it see
(the care arrangements; missed visits are also a risk), audited either way. Referrers that
consent has no name for (an emergency department, a psychiatrist, the person themselves, a
voluntary organisation) are acknowledged when they refer, and hear nothing more.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from contracts import (
    AssessmentCompleted,
    EpisodeClosed,
    InformationCategory,
    Purpose,
    Recipient,
    ReferralSource,
    ReferralStatusChanged,
    ReferrerStatus,
    TeamKind,
    Trust,
)
from contracts.assessment import Pathway
from shared.privacy.consent import ConsentState, decide
from shared.privacy.disclosure import Disclosure

# Missed visits in a row that the referrer is told of: the second, and each one after it in the run.
MISSED_IN_A_ROW = 2

C = InformationCategory
# What each change discloses, in consent's categories: where the patient's care has got to is
# the care arrangements; visits missed in a row are also a sign of risk.
DISCLOSES: dict[ReferrerStatus, frozenset[InformationCategory]] = {
    ReferrerStatus.ASSESSED: frozenset({C.DISCHARGE_ARRANGEMENTS}),
    ReferrerStatus.ADMITTED: frozenset({C.DISCHARGE_ARRANGEMENTS}),
    ReferrerStatus.FIRST_VISIT: frozenset({C.DISCHARGE_ARRANGEMENTS}),
    ReferrerStatus.VISITS_MISSED: frozenset({C.DISCHARGE_ARRANGEMENTS, C.RISK}),
    ReferrerStatus.DISCHARGED: frozenset({C.DISCHARGE_ARRANGEMENTS}),
}

NEXT_STEP = {
    Pathway.HOME_TREATMENT: "They will have home treatment: the team will visit them at home.",
    Pathway.INPATIENT_ADMISSION: "They are being admitted to a ward.",
    Pathway.CMHT: "Their care passes to the community mental health team.",
    Pathway.RECOVERY_TEAM: "Their care passes to the recovery team.",
    Pathway.SIGNPOSTING: "They do not need the team now; they were given other services to contact.",
    Pathway.NO_FURTHER_ACTION: "They do not need the team now. No further action is planned.",
}


@dataclass(frozen=True)
class Referrer:
    """A referral that joined the episode, and the system that made it."""

    referral_id: str
    referring_system: str
    source: ReferralSource
    trust: Trust

    @property
    def recipient(self) -> Recipient | None:
        """The referrer in consent's words, where consent has one for it."""
        if self.source is ReferralSource.GP:
            return Recipient.gp()
        if self.source is ReferralSource.CMHT:
            return Recipient.team(TeamKind.CMHT, self.trust)
        if self.source is ReferralSource.INPATIENT_WARD:
            return Recipient.team(TeamKind.WARD, self.trust)
        return None


@dataclass(frozen=True)
class Progress:
    """What an episode's referrers have been told so far."""

    outcome: Pathway | None = None
    seen_at_home: bool = False
    missed_in_a_row: int = 0
    discharged: bool = False


@dataclass(frozen=True)
class Change:
    status: ReferrerStatus
    happened_at: datetime
    outcome: Pathway | None = None
    missed_in_a_row: int | None = None
    follow_up_due_at: datetime | None = None


def assessed(progress: Progress, completed: AssessmentCompleted) -> tuple[Progress, Change | None]:
    """Told once per outcome: a reassessment that decides the same thing says nothing new."""
    if completed.outcome == progress.outcome:
        return progress, None
    status = ReferrerStatus.ADMITTED if completed.outcome is Pathway.INPATIENT_ADMISSION else ReferrerStatus.ASSESSED
    return replace(progress, outcome=completed.outcome), Change(status, completed.assessed_at, outcome=completed.outcome)


def visit_completed(progress: Progress, at: datetime) -> tuple[Progress, Change | None]:
    """The first visit is news; later ones end a run of missed visits."""
    after = replace(progress, seen_at_home=True, missed_in_a_row=0)
    return after, None if progress.seen_at_home else Change(ReferrerStatus.FIRST_VISIT, at)


def visit_missed(progress: Progress, at: datetime) -> tuple[Progress, Change | None]:
    missed = progress.missed_in_a_row + 1
    after = replace(progress, missed_in_a_row=missed)
    return after, Change(ReferrerStatus.VISITS_MISSED, at, missed_in_a_row=missed) if missed >= MISSED_IN_A_ROW else None


def discharged(progress: Progress, closed: EpisodeClosed) -> tuple[Progress, Change | None]:
    if progress.discharged:
        return progress, None
    return replace(progress, discharged=True), Change(ReferrerStatus.DISCHARGED, closed.closed_at, follow_up_due_at=closed.due_at)


def message(referral_id: str, change: Change, tz: ZoneInfo) -> str:
    """The change in plain words for the referrer: no name, nothing clinical beyond the pathway."""
    local = change.happened_at.astimezone(tz)
    day = f"{local:%A} {local.day} {local:%B}"
    opening = f"Referral {referral_id}: "
    if change.status is ReferrerStatus.ASSESSED or change.status is ReferrerStatus.ADMITTED:
        assert change.outcome is not None
        return opening + f"the home treatment team assessed your patient on {day}. " + NEXT_STEP[change.outcome]
    if change.status is ReferrerStatus.FIRST_VISIT:
        return opening + f"the home treatment team saw your patient at home for the first time on {day} at {local:%H:%M}."
    if change.status is ReferrerStatus.VISITS_MISSED:
        return opening + (f"your patient has missed {change.missed_in_a_row} planned visits in a row, the last on {day}. "
                          "The team is trying to reach them.")
    text = opening + f"home treatment ended on {day}."
    if change.follow_up_due_at is not None:
        due = change.follow_up_due_at.astimezone(tz)
        text += f" The team will contact your patient by {due:%A} {due.day} {due:%B} at {due:%H:%M} to check how they are."
    return text


def tell(
    referrers: list[Referrer],
    change: Change,
    patient_id: UUID,
    episode_id: UUID,
    state: ConsentState,
    tz: ZoneInfo,
    now: datetime,
) -> list[Disclosure]:
    """Each referrer's share of a change: the status where consent lets it see what the change
    discloses, else nothing (and the refusal is audited). Referrers consent has no name for get
    nothing, and no audit: nothing was decided about them."""
    shares = []
    for referrer in referrers:
        recipient = referrer.recipient
        if recipient is None:
            continue
        asked = DISCLOSES[change.status]
        decision = decide(state, recipient, Purpose.DIRECT_CARE, asked, now)
        allowed = decision.permitted == asked  # all of it, or none: a status half-told would mislead
        status = ReferralStatusChanged(
            referral_id=referrer.referral_id,
            referring_system=referrer.referring_system,
            patient_id=patient_id,
            episode_id=episode_id,
            trust=referrer.trust,
            status=change.status,
            outcome=change.outcome,
            missed_in_a_row=change.missed_in_a_row,
            follow_up_due_at=change.follow_up_due_at,
            happened_at=change.happened_at,
            message=message(referrer.referral_id, change, tz),
        ) if allowed else None
        shares.append(Disclosure(recipient, Purpose.DIRECT_CARE, decision, asked if allowed else frozenset(), status))
    return shares
