"""One patient's journey fed in as the Trust's systems would feed it: the GP system refers,
the HTCR clinician's app submits the assessment, the staff app records a visit, and the
clinician's system decides the discharge. Each step waits for carepath's answer on its topics.

Used by `carepath demo` (and so `make run`) and by the acceptance tests.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from contracts import (
    AssessmentCompleted,
    AssessmentSubmitted,
    CrisisContactsGiven,
    DischargeConversationRecorded,
    DischargeDecided,
    DischargeProposed,
    Envelope,
    EpisodeClosed,
    Event,
    FollowOnCareArranged,
    OnwardCare,
    Pathway,
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralSource,
    ReferralSubmitted,
    SummaryContent,
    Trust,
    Urgency,
    VisitCompleted,
    VisitOutcomeRecorded,
    VisitScheduled,
    VisitStatus,
)
from tools.eventlog import EventLog
from shared.runtime.kafka import KafkaLogin
from tools.trust import TrustSystem

DEMO_HC_NUMBER = "943 476 5919"  # passes the modulus-11 check; not a real person's number
DEMO_NAME = "Alex Demo-Patient"


@dataclass
class Patient:
    hc_number: str = DEMO_HC_NUMBER
    name: str = DEMO_NAME
    trust: Trust = Trust.BELFAST
    referral_id: str = field(default_factory=lambda: f"GP-{uuid4().hex[:12]}")
    correlation_id: UUID = field(default_factory=uuid4)


@dataclass
class Journey:
    """The Trust systems' side of one journey, one method per step."""

    log: EventLog
    gp: TrustSystem
    clinician: TrustSystem
    staff_app: TrustSystem
    patient: Patient
    timeout_s: float = 30
    consent: TrustSystem | None = None  # consent capture: decisions, withdrawals, break glass, erasures
    # The journey's trace (a W3C traceparent): begun by the referral, continued by every later step,
    # as the correlation id is, so one referral is one trace (`shared.runtime.tracing`).
    trace: str | None = None

    async def publish(self, system: TrustSystem, event: Event) -> Envelope:
        """Publishes an event as a step of this journey: with its correlation id, in its trace."""
        envelope = await system.publish(event, correlation_id=self.patient.correlation_id, trace=self.trace)
        self.trace = self.trace or envelope.traceparent
        return envelope

    def referral(self, **overrides: Any) -> ReferralSubmitted:
        fields: dict[str, Any] = {
            "referral_id": self.patient.referral_id,
            "trust": self.patient.trust,
            "source": ReferralSource.GP,
            "urgency": Urgency.VERY_URGENT,
            "hc_number": self.patient.hc_number,
            "patient_name": self.patient.name,
            "submitted_at": datetime.now(UTC),
        }
        return ReferralSubmitted(**(fields | overrides))

    async def submit(self, referral: ReferralSubmitted) -> ReferralAcknowledged:
        """Publishes a referral and returns carepath's acknowledgement of it."""
        await self.publish(self.gp, referral)
        return await self.log.wait_for(
            ReferralAcknowledged, lambda e: e.referral_id == referral.referral_id, self.timeout_s
        )

    async def refer(self) -> ReferralAccepted:
        await self.publish(self.gp, self.referral())
        return await self.log.wait_for(
            ReferralAccepted, lambda e: e.referral_id == self.patient.referral_id, self.timeout_s
        )

    async def submit_assessment(self, accepted: ReferralAccepted, **overrides: Any) -> AssessmentSubmitted:
        fields: dict[str, Any] = {
            "assessment_id": uuid4(),
            "patient_id": accepted.patient_id,
            "episode_id": accepted.episode_id,
            "outcome": Pathway.HOME_TREATMENT,
            "outcome_reason": "Acute crisis; safe at home with daily visits and carer support.",
            "assessed_by": "staff-0042",
            "assessed_at": datetime.now(UTC),
        }
        submitted = AssessmentSubmitted(**(fields | overrides))
        await self.publish(self.clinician, submitted)
        return submitted

    async def assess(self, accepted: ReferralAccepted) -> VisitScheduled:
        await self.submit_assessment(accepted)
        await self.log.wait_for(AssessmentCompleted, lambda e: e.episode_id == accepted.episode_id, self.timeout_s)
        return await self.log.wait_for(VisitScheduled, lambda e: e.episode_id == accepted.episode_id, self.timeout_s)

    async def visit(self, visit: VisitScheduled) -> VisitCompleted:
        outcome = VisitOutcomeRecorded(
            visit_id=visit.visit_id,
            patient_id=visit.patient_id,
            episode_id=visit.episode_id,
            status=VisitStatus.COMPLETED,
            actual_minutes=55,
            recorded_at=datetime.now(UTC),
        )
        await self.publish(self.staff_app, outcome)
        return await self.log.wait_for(VisitCompleted, lambda e: e.visit_id == visit.visit_id, self.timeout_s)

    async def prepare_discharge(self, accepted: ReferralAccepted, **proposal: Any) -> None:
        """Plans the discharge with the patient: proposal, conversation, onward care, crisis contacts."""
        ids = {"patient_id": accepted.patient_id, "episode_id": accepted.episode_id}
        now = datetime.now(UTC)
        fields: dict[str, Any] = {
            "proposed_by": "staff-0007",
            "planned_for": now.date(),
            "reason": "Crisis resolved; CMHT follow-up agreed with the patient.",
            "summary": SummaryContent(
                reason_for_care="Acute depressive crisis.",
                assessment_and_risk="Risk to self now low.",
                medication="Sertraline 100 mg daily.",
                plan_and_requested_actions="CMHT to review within two weeks; GP to continue prescribing.",
            ),
            "crisis_contacts": ("Home treatment duty line 028 9649 6001", "Lifeline 0808 808 8000"),
            "proposed_at": now,
        }
        for event in (
            DischargeProposed(**ids, **(fields | proposal)),
            # The end of home treatment talked through three days ago: the patient has the notice
            # the gate asks for (48 hours by default, services/discharge/trust_rules.toml).
            DischargeConversationRecorded(**ids, recorded_by="staff-0007", recorded_at=now - NOTICE),
            FollowOnCareArranged(**ids, onward_to=OnwardCare.CMHT, arranged_by="staff-0007", arranged_at=now),
            CrisisContactsGiven(**ids, given_by="staff-0007", given_at=now),
        ):
            await self.publish(self.clinician, event)

    async def decide_discharge(self, accepted: ReferralAccepted) -> DischargeDecided:
        decision = DischargeDecided(
            patient_id=accepted.patient_id,
            episode_id=accepted.episode_id,
            decided_by="staff-0007",
            reason="Crisis resolved; CMHT follow-up agreed with the patient.",
            decided_at=datetime.now(UTC),
        )
        await self.publish(self.clinician, decision)
        return decision

    async def discharge(self, accepted: ReferralAccepted) -> EpisodeClosed:
        await self.prepare_discharge(accepted)
        await self.decide_discharge(accepted)
        return await self.log.wait_for(EpisodeClosed, lambda e: e.episode_id == accepted.episode_id, self.timeout_s)

    async def run(self) -> EpisodeClosed:
        accepted = await self.refer()
        visit = await self.assess(accepted)
        await self.visit(visit)
        return await self.discharge(accepted)


NOTICE = timedelta(days=3)  # how long before the discharge a journey's patient was told of it


def trust_systems(login: KafkaLogin, prefix: str, trust: Trust = Trust.BELFAST) -> tuple[TrustSystem, TrustSystem, TrustSystem]:
    """The GP system, the HTCR clinical system and the staff app, each logged in as itself."""
    return (
        TrustSystem(login, prefix, f"/trust/{trust.value}/gp-system"),
        TrustSystem(login, prefix, f"/trust/{trust.value}/htcr-clinical-system"),
        TrustSystem(login, prefix, f"/trust/{trust.value}/staff-app"),
    )


def consent_capture(login: KafkaLogin, prefix: str, trust: Trust = Trust.BELFAST) -> TrustSystem:
    return TrustSystem(login, prefix, f"/trust/{trust.value}/consent-capture")
