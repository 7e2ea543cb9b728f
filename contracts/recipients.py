"""Who a copy, a consent decision or a message is for: one value, spelt one way.

Events carry a recipient as text ("patient", "gp", "carer:partner-1", "htcr:belfast",
"team-lead:htcr:belfast"); `Recipient` is that text with the constructors and questions code
needs, so no service builds or parses the spelling itself. It is a `str`, so it goes into an
event, a database row or a log line unchanged."""

import re
from enum import StrEnum

from contracts.base import Trust
from contracts.consent import Purpose


class TeamKind(StrEnum):
    HTCR = "htcr"  # home treatment crisis response
    CMHT = "cmht"  # community mental health team
    WARD = "ward"
    RECOVERY_TEAM = "recovery-team"


CARER_PREFIX = "carer:"
_CARING = re.compile("gp|(" + "|".join(kind.value for kind in TeamKind) + ")" + ":[a-z-]+")
TEAM_LEAD_PREFIX = "team-lead:"


class Recipient(str):
    """A recipient as events spell it."""

    @classmethod
    def patient(cls) -> "Recipient":
        return cls("patient")

    @classmethod
    def gp(cls) -> "Recipient":
        return cls("gp")

    @classmethod
    def carer(cls, carer_id: str) -> "Recipient":
        return cls(CARER_PREFIX + carer_id)

    @classmethod
    def team(cls, kind: TeamKind, trust: Trust) -> "Recipient":
        return cls(f"{kind.value}:{trust.value}")

    @classmethod
    def team_lead(cls, team: str) -> "Recipient":
        """The lead of a team ("htcr:belfast"), who hears what needs a decision."""
        return cls(TEAM_LEAD_PREFIX + team)

    @property
    def is_patient(self) -> bool:
        return self == "patient"

    @property
    def is_carer(self) -> bool:
        return self.startswith(CARER_PREFIX)

    @property
    def carer_id(self) -> str | None:
        return self.removeprefix(CARER_PREFIX) if self.is_carer else None

    @property
    def is_caring_team(self) -> bool:
        """A team caring for the patient, or their GP: direct care's minimum by default."""
        return _CARING.fullmatch(self) is not None

    @property
    def purpose(self) -> Purpose:
        """What information goes to them for: a carer's support, or everyone else's direct care."""
        return Purpose.CARER_SUPPORT if self.is_carer else Purpose.DIRECT_CARE
