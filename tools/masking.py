"""What an operator's screen shows of an event's fields: only those known to be safe to print.
Every other field prints as `•••`, whatever its value, however deep, so a field nobody thought
about is masked, not shown. Known safe means it says how carepath handled the event (ids, types,
times, counts, routing and consent decisions, team codes), never what is known of the person.

The lists below are the decision, one reason per group. A unit test walks every event type's
fields and fails on one that is in neither list (nor marked `x-sensitive` by its contract):
a new field is masked until someone decides, here, that it may be shown."""

import typing
from typing import Any

from pydantic import BaseModel

from contracts import AssessmentSections

MASK = "•••"

# Shown wherever they appear: each name means one thing in every event.
SHOWN_ANYWHERE = frozenset({
    # carepath's own ids, random UUIDs meaningless outside its databases, and the referrer's reference
    "patient_id", "episode_id", "assessment_id", "update_id", "visit_id", "replaces_visit_id", "request_id", "consent_id",
    "override_id", "erasure_id", "discharge_id", "followup_id", "previous_episode_id", "disclosure_event_id", "redrive_id",
    "event_id", "referral_id",
    # when something happened, or is due: the journey's timing, which operators follow
    "accepted_at", "acknowledged_at", "agreed_at", "alerted_at", "arranged_at", "assessed_at", "changed_at", "closed_at",
    "completed_at", "contact_at", "decided_at", "declined_at", "detected_at", "discharged_at", "due_at", "ed_arrived_at",
    "erased_at", "expires_at", "given_at", "issued_at", "linked_at", "meeting_at", "opened_at", "proposed_at", "published_at",
    "raised_at", "read_at", "viewed_at", "received_at", "recorded_at", "redirected_at", "redriven_at", "refused_at", "requested_at",
    "sent_at", "shared_at", "started_at", "submitted_at", "updated_at", "withdrawn_at", "assess_by", "due_by",
    "window_start", "window_end", "valid_from", "valid_until", "planned_for",
    # staff codes from the Trust's roster (never a name): who did what
    "staff_id", "started_by", "assessed_by", "updated_by", "recorded_by", "given_by", "arranged_by", "contact_by",
    "proposed_by", "requested_by", "key_worker", "core_team",
    # the Trust, one of five, and the versions and counts carepath keeps
    "trust", "consent_version", "assessment_version",
})

# Shown only in the model named: the same name means something else elsewhere.
SHOWN_IN = frozenset({
    # a copy's envelope in the clear: who it is for (a team code, "gp", "carer:<id>"), why, which
    # categories, and the ciphertext (its key is never on Kafka)
    "AddressedCopy.recipient", "AddressedCopy.purpose", "AddressedCopy.categories", "Sealed.key_id", "Sealed.ciphertext",
    "AssessmentShared.reason", "AssessmentShared.withheld_sections",
    # routing decisions, as codes: where a referral went, the pathway, the gate, the follow-up
    "ReferralSubmitted.source", "ReferralSubmitted.urgency", "ReferralSubmitted.resident_trust",
    "ReferralAcknowledged.source", "ReferralAcknowledged.outcome", "ReferralAccepted.source", "ReferralAccepted.urgency",
    "ReferralLinked.source", "ReferralLinked.urgency", "ReferralDeclined.reason_code", "ReferralRedirected.redirected_to",
    "ResponseTargetBreached.urgency", "ResponseTargetBreached.minutes_late", "ResponseTargetBreached.minutes_in_ed",
    "ReferralStatusChanged.referring_system", "ReferralStatusChanged.status", "ReferralStatusChanged.outcome",
    "ReferralStatusChanged.missed_in_a_row", "ReferralStatusChanged.happened_at", "ReferralStatusChanged.follow_up_due_at",
    "AssessmentSubmitted.outcome", "AssessmentSubmitted.htcr_assessed_in_person", "AssessmentCompleted.outcome",
    "AssessmentCompleted.htcr_assessed_in_person", "AssessmentVersionRecorded.changed_sections",
    "FollowOnCareArranged.onward_to", "DischargeRefused.missing", "DischargeDecided.decided_by",
    "FollowUpBreached.source", "FollowUpBreached.hours_late", "FollowUpCompleted.within_target",
    "EpisodeClosed.visits_completed", "ReadmissionLinked.days_since_discharge", "EscalationRaised.action",
    # the plan and the visits, as counts, lengths and statuses
    "CarePlanAgreed.visits_first_week", "CarePlanAgreed.visits_per_week_after", "CarePlanAgreed.planned_minutes",
    "VisitScheduled.planned_minutes", "VisitOutcomeRecorded.status", "VisitOutcomeRecorded.actual_minutes",
    "VisitCompleted.actual_minutes", "VisitCompleted.cut_short", "VisitRequested.day",
    "ContactsBelowPlan.week", "ContactsBelowPlan.planned", "ContactsBelowPlan.completed", "NotificationSent.recipient",
    "NotificationSent.kind",
    # consent decisions and their audit, as categories and flags (the reasons are carepath's codes)
    "ConsentRecorded.recipient", "ConsentRecorded.categories", "ConsentRecorded.permit", "ConsentRecorded.purpose",
    "ConsentRecorded.do_not_tell", "SharedCopiesErased.recipient", "BreakGlassRequested.recipient",
    "BreakGlassRequested.categories", "BreakGlassRequested.minutes", "BreakGlassAlerted.recipient",
    "BreakGlassAlerted.categories", "DisclosureAudited.recipient", "DisclosureAudited.purpose", "DisclosureAudited.disclosed",
    "DisclosureAudited.denied", "DisclosureAudited.permitted", "DisclosureAudited.reason", "DisclosureAudited.override",
    "DisclosureAudited.via", "ConsentChangeAudited.change", "ConsentChangeAudited.recipient", "ConsentChangeAudited.permit",
    "ConsentChangeAudited.categories", "ConsentChangeAudited.keys_destroyed",
    # a carer as carepath knows them: a code, as copies to them are addressed ("carer:<id>")
    "CarerView.carer_id",
    # operators' own actions: who (a login), what and where; their typed reasons are masked
    "OperatorReadAudited.operator", "OperatorReadAudited.login", "OperatorReadAudited.read", "OperatorReadAudited.service",
    "DeadLetterRedriven.operator", "DeadLetterRedriven.login", "DeadLetterRedriven.dead_letter",
    "DeadLetterRedriven.to_topic", "DeadLetterRedriven.event_type", "DeadLetterRedriven.failed_with",
    "BoardViewAudited.viewer", "BoardViewAudited.team", "BoardViewAudited.list_name", "BoardViewAudited.disclosed",
    "BoardViewAudited.denied", "BoardViewAudited.reason",
    # feedback: the form's id and who answered (as copies are addressed); a team's totals, which
    # never carry one person's answers (withheld below the minimum) nor anyone's words
    "FeedbackReceived.feedback_id", "FeedbackReceived.respondent", "TeamFeedbackSummarised.team",
    "TeamFeedbackSummarised.period", "TeamFeedbackSummarised.responses", "TeamFeedbackSummarised.counted",
    "TeamFeedbackSummarised.minimum", "TeamFeedbackSummarised.summarised_at", "QuestionTotals.question",
    "QuestionTotals.answered", "QuestionTotals.yes", "QuestionTotals.partly", "QuestionTotals.no",
    # staff and their shifts, from the roster: about staff, not patients (their names masked)
    "StaffMemberRecorded.team", "StaffMemberRecorded.role", "StaffMemberRecorded.skills", "StaffMemberRecorded.team_lead",
    "Shift.starts_at", "Shift.ends_at",
    # the service directory: public information, published for Trust websites
    "DirectoryEntry.id", "DirectoryEntry.trusts", "DirectoryEntry.kind", "DirectoryEntry.name", "DirectoryEntry.open_24_7",
    "DirectoryEntry.hours", "DirectoryEntry.eligibility", "DirectoryEntry.how_to_access", "DirectoryEntry.phone",
    "DirectoryEntry.website", "DirectoryEntry.example", "Signpost.entry_id", "Signpost.kind", "Signpost.name",
    "Signpost.hours", "Signpost.how_to_access", "Signpost.phone",
})

# Masked, decided so, though their contracts do not mark them `x-sensitive` (those are masked too).
MASKED = frozenset({
    # what is known of the person: clinical observations, proxies for a diagnosis, capacity, a place
    "AssessmentCompleted.required_skills", "AssessmentVersionRecorded.required_skills", "CarePlanAgreed.required_skills",
    "AssessmentCompleted.step_down", "AssessmentCompleted.visits_a_day_at_first",
    "AssessmentCompleted.easy_read", "AssessmentVersionRecorded.easy_read", "NotificationSent.easy_read",
    "VisitOutcomeRecorded.risk_change", "VisitOutcomeRecorded.carer_strain", "EscalationRaised.reasons",
    "ReferralSubmitted.currently_inpatient", "ConsentRecorded.decided_by", "DischargeProposed.patient_wants_more_time",
    "WardDischargeRecorded.ward",
    # words written to or for people, which may carry anything: the message, the reason, the contacts
    "NotificationSent.text", "ReferralStatusChanged.message", "ReferralDeclined.reason", "ReferralRedirected.reason", "DischargeProposed.crisis_contacts",
    # one person's answers about their own care (their words are marked sensitive, so masked too)
    "FeedbackAnswers.listened_to", "FeedbackAnswers.involved_in_decisions", "FeedbackAnswers.knew_who_was_coming",
    "FeedbackAnswers.told_before_discharge", "FeedbackAnswers.carer_included",
    # operators' typed reasons: free text
    "OperatorReadAudited.reason", "DeadLetterRedriven.reason",
    # a staff member's name as patients know them
    "StaffMemberRecorded.display_name",
})

# Every section of an assessment is clinical, whole (read through `carepath assessment diff`, audited).
MASKED_MODELS = frozenset(
    model for info in AssessmentSections.model_fields.values() for model in typing.get_args(info.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel)
)


def shown(model: type[BaseModel], name: str) -> bool:
    """May this field of this model be printed in the clear?"""
    return name in SHOWN_ANYWHERE or any(f"{cls.__name__}.{name}" in SHOWN_IN for cls in model.__mro__)


def nested(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (alone, optional or in a tuple), if it holds one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((found for arg in typing.get_args(annotation) if (found := nested(arg))), None)


def masked(model: BaseModel) -> dict[str, Any]:
    """The event as JSON-ready data with every field not known to be safe masked, at any depth."""
    data = model.model_dump(mode="json")
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        inner = nested(info.annotation)
        if inner is not None and inner not in MASKED_MODELS:
            if isinstance(value, BaseModel):
                data[name] = masked(value)
            elif isinstance(value, tuple | list):
                data[name] = [masked(item) if isinstance(item, BaseModel) else MASK for item in value]
        elif inner is not None:
            data[name] = None if value is None else MASK  # which sections are there, not what they say
        elif not shown(type(model), name):
            data[name] = MASK
    return data
