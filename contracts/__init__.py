"""carepath's event contracts: every event that crosses a service boundary, and its envelope.

A Trust integrator reads `contracts/schemas/` (JSON Schema, generated from these models by
`make schemas`); Python code imports the models from here.
"""

from contracts.assessment import (
    AssessmentCompleted,
    AssessmentShared,
    AssessmentStarted,
    AssessmentStartReported,
    AssessmentSubmitted,
    AssessmentUpdated,
    AssessmentVersionRecorded,
    Pathway,
)
from contracts.assessment_sections import SECTION_CATEGORY, AssessmentSections, SectionName
from contracts.consent import InformationCategory, Purpose
from contracts.base import Event, Trust
from contracts.discharge import DischargeDecided, EpisodeClosed
from contracts.envelope import Envelope
from contracts.directory import DirectoryEntry, ServiceDirectoryPublished, ServiceKind, Signpost
from contracts.referral import (
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
    Urgency,
)
from contracts.registry import EVENT_TYPES, event_class
from contracts.scheduling import VisitCompleted, VisitOutcomeRecorded, VisitScheduled, VisitStatus
from contracts.topics import DEAD_LETTER, TOPICS, Topic

__all__ = [
    "SECTION_CATEGORY",
    "AssessmentSections",
    "AssessmentShared",
    "AssessmentStartReported",
    "AssessmentStarted",
    "AssessmentUpdated",
    "AssessmentVersionRecorded",
    "InformationCategory",
    "Purpose",
    "SectionName",
    "DeclineReason",
    "DirectoryEntry",
    "ReferralAcknowledged",
    "ReferralDeclined",
    "ReferralLinked",
    "ReferralOutcome",
    "ResponseTargetBreached",
    "ServiceDirectoryPublished",
    "ServiceKind",
    "Signpost",
    "DEAD_LETTER",
    "EVENT_TYPES",
    "TOPICS",
    "AssessmentCompleted",
    "AssessmentSubmitted",
    "DischargeDecided",
    "Envelope",
    "EpisodeClosed",
    "Event",
    "Pathway",
    "ReferralAccepted",
    "ReferralRedirected",
    "ReferralSource",
    "ReferralSubmitted",
    "Topic",
    "Trust",
    "Urgency",
    "VisitCompleted",
    "VisitOutcomeRecorded",
    "VisitScheduled",
    "VisitStatus",
    "event_class",
]
