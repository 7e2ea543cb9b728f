"""The one consent decision: may this recipient receive these categories of information about
this patient, for this purpose? Pure, and the only place the rules live.

Until a patient's consent decisions are recorded (consent events arrive with the consent
work), the default applies:
- the team caring for the patient receives the minimum necessary for direct care: risk (with
  the crisis plan), medication, communication needs, and contact details of key people;
- clinical detail (history, diagnoses, presenting situation, what carers said, the patient's
  own words, social circumstances) is withheld until the patient consents;
- a carer receives general information only (the condition, signs of relapse, how to help);
- anyone else receives nothing.
"""

import re
from dataclasses import dataclass, field

from contracts import InformationCategory, Purpose

C = InformationCategory
DIRECT_CARE_MINIMUM = frozenset({C.RISK, C.MEDICATION, C.COMMUNICATION_NEEDS, C.CONTACT_DETAILS})
CARER_DEFAULT = frozenset({C.CARER_GENERAL_INFORMATION})
_TEAM = re.compile(r"^(htcr|cmht|ward|recovery-team):[a-z-]+$")


@dataclass(frozen=True)
class ConsentState:
    """A patient's recorded consent decisions; version 0 means none recorded yet."""

    version: int = 0
    decisions: tuple = field(default=())


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
    if _TEAM.match(recipient) and purpose is Purpose.DIRECT_CARE:
        allowed, reason = DIRECT_CARE_MINIMUM, "default: minimum necessary for direct care by the caring team"
    elif recipient.startswith("carer:"):
        allowed, reason = CARER_DEFAULT, "default: carers receive general information only"
    else:
        allowed, reason = frozenset(), "default: no consent recorded for this recipient"
    return Decision(asked & allowed, asked - allowed, reason, state.version)
