"""carepath's event contracts: every event that crosses a service boundary, and its envelope.

A Trust integrator reads `contracts/schemas/` (JSON Schema, generated from these models by
`make schemas`); Python code imports the models from here.
"""

from types import ModuleType as _ModuleType

from contracts.assessment import (
    CarerInformation,
    AssessmentCompleted,
    AssessmentShared,
    CarerInformationShared,
    AssessmentStarted,
    AssessmentStartReported,
    AssessmentSubmitted,
    AssessmentUpdated,
    AssessmentVersionRecorded,
    Pathway,
)
from contracts.assessment_sections import SECTION_CATEGORY, AssessmentSections, SectionName
from contracts.consent import BreakGlassRequested, ConsentRecorded, ConsentWithdrawn, SharedCopiesErased, DecisionMaker, InformationCategory, Purpose
from contracts.audit import BoardViewAudited, BreakGlassAlerted, ConsentChangeAudited, DeadLetterRedriven, DisclosureAudited, OperatorReadAudited
from contracts.base import Event, Trust
from contracts.recipients import Recipient, TeamKind
from contracts.discharge import (
    CarerView,
    CrisisContactsGiven,
    DischargeConversationRecorded,
    DischargeDecided,
    DischargeMeetingArranged,
    DischargeNotificationAcknowledged,
    DischargeProposed,
    DischargeRefused,
    DischargeSummaryIssued,
    EpisodeClosed,
    EpisodeReviewDue,
    FollowOnCareArranged,
    FollowUpBreached,
    FollowUpCompleted,
    FollowUpContactRecorded,
    FollowUpSource,
    GateCondition,
    OnwardCare,
    ReadmissionLinked,
    SummaryContent,
    SummaryHeadings,
    WardDischargeRecorded,
)
from contracts.copies import AddressedCopy, Sealed
from contracts.feedback import Answer, FeedbackAnswers, FeedbackReceived, Question, QuestionTotals, TeamFeedbackSummarised
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
    ReferralStatusChanged,
    ReferralSubmitted,
    ReferrerStatus,
    ResponseTargetBreached,
    Urgency,
)
from contracts.registry import EVENT_TYPES, event_class
from contracts.scheduling import (
    CarePlanAgreed,
    CarerStrain,
    ContactsBelowPlan,
    EscalationAction,
    EscalationRaised,
    EscalationReason,
    NotificationSent,
    RiskChange,
    Role,
    Shift,
    ShiftsRostered,
    Skill,
    StaffMemberRecorded,
    VisitCompleted,
    VisitMissed,
    VisitOutcomeRecorded,
    VisitRequested,
    VisitRunningLate,
    VisitScheduled,
    VisitStarted,
    VisitStatus,
)
from contracts.topics import AUDIT, DEAD_LETTER, TOPICS, Topic

# Everything imported above, and nothing else: the imports are the one list.
__all__ = sorted(name for name, value in globals().items() if not name.startswith("_") and not isinstance(value, _ModuleType))
