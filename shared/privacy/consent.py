"""The one consent decision: may this recipient receive these categories of information about
this patient, for this purpose, now? Pure, and the only place the rules live.

With no decision recorded for a recipient, the default applies:
- a team caring for the patient, and the GP, receive the minimum necessary for direct care:
  risk (with the crisis plan), medication, communication needs, contact details of key people,
  and discharge arrangements;
- clinical detail (history, diagnoses, presenting situation, what carers said, the patient's
  own words, social circumstances) is withheld until the patient consents;
- a carer receives general information only (the condition, signs of relapse, how to help);
- the patient receives everything about themselves; anyone else receives nothing.

Recorded decisions (`consent.recorded.v1`) apply to one recipient, for a purpose (or every
purpose) and a period. A permit adds categories; a deny removes them whatever was permitted,
before or after; a deny with `do_not_tell` blocks everything, so the person is not even told
the patient is known. A withdrawn decision (`consent.withdrawn.v1`) no longer counts. The
consent version is the number of consent events applied, so a receiver can tell whether a
disclosure was decided on state at least as new as its own.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID

from contracts import BreakGlassRequested, InformationCategory, Purpose, Recipient
from shared.runtime.errors import InvalidEvent

C = InformationCategory
DIRECT_CARE_MINIMUM = frozenset({C.RISK, C.MEDICATION, C.COMMUNICATION_NEEDS, C.CONTACT_DETAILS, C.DISCHARGE_ARRANGEMENTS})
CARER_DEFAULT = frozenset({C.CARER_GENERAL_INFORMATION})
EVERYTHING = frozenset(C)


@dataclass(frozen=True)
class Recorded:
    recipient: str
    categories: frozenset[InformationCategory]
    permit: bool
    consent_id: UUID | None = None
    purpose: Purpose | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    do_not_tell: bool = False
    withdrawn: bool = False
    override: bool = False  # break glass: an emergency permit for a staff team, time-limited

    def applies(self, recipient: str, purpose: Purpose, now: datetime) -> bool:
        return (
            not self.withdrawn
            and self.recipient == recipient
            and self.purpose in (None, purpose)
            and (self.valid_from is None or self.valid_from <= now)
            and (self.valid_until is None or now < self.valid_until)
        )


@dataclass(frozen=True)
class ConsentState:
    """A patient's consent decisions, oldest first, and how many consent events made them."""

    decisions: tuple[Recorded, ...] = field(default=())
    withdrawals: int = 0

    @property
    def version(self) -> int:
        return len(self.decisions) + self.withdrawals

    def recorded(self, decision: Recorded) -> "ConsentState":
        return replace(self, decisions=(*self.decisions, decision))

    def withdrawn(self, consent_id: UUID) -> "ConsentState":
        decisions = tuple(replace(d, withdrawn=True) if d.consent_id == consent_id else d for d in self.decisions)
        return ConsentState(decisions, self.withdrawals + 1)


@dataclass(frozen=True)
class Decision:
    permitted: frozenset[InformationCategory]
    denied: frozenset[InformationCategory]
    reason: str
    consent_version: int
    not_told: bool = False  # the recipient may not even learn the patient is known
    override: bool = False  # something was permitted only because of a break-glass override

    def allows(self, category: InformationCategory) -> bool:
        return category in self.permitted


def default_for(recipient: str, purpose: Purpose) -> tuple[frozenset[InformationCategory], str]:
    recipient = Recipient(recipient)
    if recipient.is_patient:
        return EVERYTHING, "the patient's own information"
    if recipient.is_caring_team and purpose is Purpose.DIRECT_CARE:
        return DIRECT_CARE_MINIMUM, "default: minimum necessary for direct care"
    if recipient.is_carer:
        return CARER_DEFAULT, "default: carers receive general information only"
    return frozenset(), "default: no consent recorded for this recipient"


def decide(
    state: ConsentState,
    recipient: str,
    purpose: Purpose,
    categories: frozenset[InformationCategory] | set[InformationCategory],
    now: datetime,
) -> Decision:
    asked = frozenset(categories)
    allowed, reason = default_for(recipient, purpose)
    applicable = [d for d in state.decisions if d.applies(recipient, purpose, now)]
    overrides = [d for d in applicable if d.override]
    applicable = [d for d in applicable if not d.override]
    if any(d.do_not_tell for d in applicable):
        return Decision(frozenset(), asked, "the patient asked that this person is not told", state.version, not_told=True)
    if applicable:
        permitted = frozenset().union(*(d.categories for d in applicable if d.permit))
        denied = frozenset().union(*(d.categories for d in applicable if not d.permit))
        allowed = (allowed | permitted) - denied
        reason = "recorded consent" + (": a deny wins" if denied & asked else "")
    opened = frozenset().union(*(d.categories for d in overrides)) & asked - allowed
    if opened:  # an emergency, for a staff team, for a limited time: audited and alerted
        return Decision(asked & (allowed | opened), asked - allowed - opened, "break-glass override", state.version, override=True)
    return Decision(asked & allowed, asked - allowed, reason, state.version)


def check_receipt(
    state: ConsentState,
    recipient: str,
    purpose: Purpose,
    carried: frozenset[InformationCategory] | set[InformationCategory],
    decided_version: int,
    now: datetime,
) -> Decision:
    """The receiving end's check of a copy, decided afresh on the receiver's consent state: the
    version the copy says it was decided at is only believed to explain a refusal. A copy
    overtaken by a withdrawal or a narrowing while in flight, or whose permission has lapsed
    (a break-glass window ended), is refused whole: nothing in it is delivered."""
    carried = frozenset(carried)
    if decided_version > state.version:
        return Decision(frozenset(), carried, f"it claims consent v{decided_version}, newer than any here (v{state.version}): "
                        "refused on receipt", state.version)
    now_decided = decide(state, recipient, purpose, carried, now)
    if now_decided.denied and decided_version == state.version:
        return Decision(frozenset(), carried, f"no longer permitted at v{state.version} (a permission lapsed in flight): "
                        "refused on receipt", state.version, not_told=now_decided.not_told)
    if now_decided.denied:
        return Decision(
            frozenset(), carried, f"consent changed in flight (decided at v{decided_version}, now v{state.version}): refused on receipt",
            state.version, not_told=now_decided.not_told,
        )
    if decided_version == state.version:
        return replace(now_decided, reason="decided on current consent, and still permitted")
    return replace(now_decided, reason=f"still permitted at v{state.version} (decided at v{decided_version})")


# A request may be dated a little ahead of the receiving service's clock (clocks drift), no more.
BREAK_GLASS_CLOCK_SKEW = timedelta(minutes=2)
# Overrides one member of staff may make in a day; more is refused, and the dead letter says so.
BREAK_GLASS_PER_DAY = 3


def break_glass_window(override: BreakGlassRequested, received_at: datetime) -> tuple[datetime, datetime]:
    """When an override is in force, by the receiving service's clock: from its receipt until its
    minutes have passed since it was requested, or since its receipt if that was earlier. A
    request read late, or read again when a database is rebuilt from the log, gets no more than
    it asked for, and nothing once that has passed; one dated in the future is refused, as the
    sender's clock decides nothing here."""
    if override.requested_at > received_at + BREAK_GLASS_CLOCK_SKEW:
        raise InvalidEvent("break glass dated in the future: refused (its window runs by the receiving service's clock)")
    return received_at, min(received_at, override.requested_at) + timedelta(minutes=override.minutes)


def check_break_glass_allowed(used_in_last_day: int) -> None:
    """An override may not be chained without limit: a member of staff has a few a day."""
    if used_in_last_day >= BREAK_GLASS_PER_DAY:
        raise InvalidEvent(
            f"the requester has already broken the glass {used_in_last_day} times in 24 hours (at most {BREAK_GLASS_PER_DAY}): refused"
        )
