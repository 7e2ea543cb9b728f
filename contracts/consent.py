"""The vocabulary of consent: categories of information, recipients and purposes.

The decision itself lives in one place, `shared/consent.py`; these are the words events use.
"""

from enum import StrEnum

TEAM_PATTERN = r"^(htcr|cmht|ward|recovery-team):(belfast|northern|south-eastern|southern|western)$"


class InformationCategory(StrEnum):
    CONTACT_DETAILS = "contact-details"
    RISK = "risk"
    CLINICAL_DETAIL = "clinical-detail"
    MEDICATION = "medication"
    COMMUNICATION_NEEDS = "communication-needs"
    CARER_GENERAL_INFORMATION = "carer-general-information"
    DISCHARGE_ARRANGEMENTS = "discharge-arrangements"


class Purpose(StrEnum):
    DIRECT_CARE = "direct-care"
    CARER_SUPPORT = "carer-support"
