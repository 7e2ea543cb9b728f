"""Every event type carepath knows, by CloudEvents type."""

from contracts.assessment import (
    AssessmentCompleted,
    AssessmentShared,
    CarerInformationShared,
    AssessmentStarted,
    AssessmentStartReported,
    AssessmentSubmitted,
    AssessmentUpdated,
    AssessmentVersionRecorded,
)
from contracts.audit import BreakGlassAlerted, ConsentChangeAudited, DisclosureAudited
from contracts.base import Event
from contracts.consent import BreakGlassRequested, ConsentRecorded, ConsentWithdrawn, SharedCopiesErased
from contracts.discharge import (
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
    ReadmissionLinked,
    WardDischargeRecorded,
)
from contracts.directory import ServiceDirectoryPublished
from contracts.referral import (
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralDeclined,
    ReferralLinked,
    ReferralRedirected,
    ReferralSubmitted,
    ResponseTargetBreached,
)
from contracts.scheduling import (
    CarePlanAgreed,
    ContactsBelowPlan,
    EscalationRaised,
    NotificationSent,
    ShiftsRostered,
    StaffMemberRecorded,
    VisitCompleted,
    VisitMissed,
    VisitOutcomeRecorded,
    VisitRequested,
    VisitRunningLate,
    VisitScheduled,
    VisitStarted,
)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.cloudevents_type(): cls
    for cls in (
        ReferralSubmitted,
        ReferralAccepted,
        ReferralRedirected,
        ReferralAcknowledged,
        ReferralLinked,
        ReferralDeclined,
        ResponseTargetBreached,
        ServiceDirectoryPublished,
        ConsentRecorded,
        ConsentWithdrawn,
        DisclosureAudited,
        ConsentChangeAudited,
        SharedCopiesErased,
        BreakGlassRequested,
        BreakGlassAlerted,
        AssessmentSubmitted,
        AssessmentStartReported,
        AssessmentUpdated,
        AssessmentStarted,
        AssessmentVersionRecorded,
        AssessmentShared,
        CarerInformationShared,
        AssessmentCompleted,
        StaffMemberRecorded,
        ShiftsRostered,
        CarePlanAgreed,
        VisitScheduled,
        VisitRequested,
        VisitStarted,
        VisitOutcomeRecorded,
        VisitCompleted,
        VisitRunningLate,
        VisitMissed,
        EscalationRaised,
        ContactsBelowPlan,
        NotificationSent,
        DischargeProposed,
        DischargeMeetingArranged,
        DischargeConversationRecorded,
        DischargeNotificationAcknowledged,
        FollowOnCareArranged,
        CrisisContactsGiven,
        DischargeDecided,
        FollowUpContactRecorded,
        WardDischargeRecorded,
        DischargeRefused,
        EpisodeClosed,
        DischargeSummaryIssued,
        FollowUpBreached,
        FollowUpCompleted,
        EpisodeReviewDue,
        ReadmissionLinked,
    )
}


def event_class(cloudevents_type: str) -> type[Event] | None:
    return EVENT_TYPES.get(cloudevents_type)
