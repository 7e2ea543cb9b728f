"""The one consent decision: may this recipient receive these categories of information about
this patient, for this purpose? Pure, and the only place the rules live.

With no decision recorded for a recipient, the default applies:
- the team caring for the patient receives the minimum necessary for direct care: risk (with
  the crisis plan), medication, communication needs, and contact details of key people;
- clinical detail (history, diagnoses, presenting situation, what carers said, the patient's
  own words, social circumstances) is withheld until the patient consents;
- a carer receives general information only (the condition, signs of relapse, how to help);
- anyone else receives nothing.
Recorded decisions (`consent.recorded.v1`) add permitted categories for a recipient; a deny
for a recipient removes those categories whatever was permitted, before or after.
"""

import re
from dataclasses import dataclass, field

from contracts import InformationCategory, Purpose

C = InformationCategory
DIRECT_CARE_MINIMUM = frozenset({C.RISK, C.MEDICATION, C.COMMUNICATION_NEEDS, C.CONTACT_DETAILS})
CARER_DEFAULT = frozenset({C.CARER_GENERAL_INFORMATION})
_CARING = re.compile(r"^((htcr|cmht|ward|recovery-team):[a-z-]+|gp)$")


@dataclass(frozen=True)
class Recorded:
    recipient: str
    categories: frozenset[InformationCategory]
    permit: bool


@dataclass(frozen=True)
class ConsentState:
    """A patient's recorded consent decisions, oldest first; the version is how many there are."""

    decisions: tuple[Recorded, ...] = field(default=())

    @property
    def version(self) -> int:
        return len(self.decisions)


@dataclass(frozen=True)
class Decision:
    permitted: frozenset[InformationCategory]
    denied: frozenset[InformationCategory]
    reason: str
    consent_version: int

    def allows(self, category: InformationCategory) -> bool:
        return category in self.permitted


def decide(
    state: ConsentState, recipient: str, purpose: Purpose, categories: frozenset[InformationCategory] | set
) -> Decision:
    asked = frozenset(categories)
    if _CARING.match(recipient) and purpose is Purpose.DIRECT_CARE:
        allowed, reason = DIRECT_CARE_MINIMUM | {C.DISCHARGE_ARRANGEMENTS}, "default: minimum necessary for direct care"
    elif recipient.startswith("carer:"):
        allowed, reason = CARER_DEFAULT, "default: carers receive general information only"
    elif recipient == "patient":
        allowed, reason = frozenset(C), "the patient's own information"
    else:
        allowed, reason = frozenset(), "default: no consent recorded for this recipient"
    own = [decision for decision in state.decisions if decision.recipient == recipient]
    if own:
        permitted = frozenset().union(*(d.categories for d in own if d.permit))
        denied = frozenset().union(*(d.categories for d in own if not d.permit))
        allowed = (allowed | permitted) - denied
        reason = "recorded consent" + (" (a deny wins)" if denied & asked else "")
    return Decision(asked & allowed, asked - allowed, reason, state.version)
