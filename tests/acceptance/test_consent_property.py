"""A stateful property test of consent across all four services, on the real broker and databases.

Hypothesis generates patient journeys (a `RuleBasedStateMachine`, one patient per example):
consent given, narrowed (a deny), withdrawn and overridden (break glass) at random points,
between an assessment, updates and a discharge. Each step is published as a Trust system would,
without waiting, so copies are in flight while consent changes. Once everything has settled,
every copy that reached a recipient (a row in a service's `deliveries`) is checked against the
decision function applied to the consent events that were on the log at the moment of receipt:
none may carry a category it would deny. And every copy on the log is accounted for: delivered,
or refused on receipt with the refusal audited.

`make property JOURNEYS=5000` runs it over more journeys (the normal suite runs 500).
"""

import asyncio
import os
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, precondition, rule, run_state_machine_as_test

from contracts import (
    AddressedCopy,
    AssessmentShared,
    AssessmentSubmitted,
    AssessmentUpdated,
    BreakGlassRequested,
    CarerInformationShared,
    ConsentRecorded,
    ConsentWithdrawn,
    DischargeSummaryIssued,
    DisclosureAudited,
    InformationCategory,
    Pathway,
    Purpose,
    ReferralAccepted,
)
from shared.privacy.consent import ConsentState, Recorded, decide
from shared.privacy.delivery import RECEIPT
from contracts.topics import CONSENT_INBOUND
from tools.journey import Journey, Patient, consent_capture, trust_systems
from tests.acceptance.deployment import Deployment
from tests.factories import new_hc_number

JOURNEYS = int(os.environ.get("CAREPATH_PROPERTY_JOURNEYS", "500"))
COPY_TYPES = {cls.cloudevents_type(): cls for cls in (AssessmentShared, CarerInformationShared, DischargeSummaryIssued)}
RECIPIENTS = ["ward:belfast", "htcr:belfast", "cmht:belfast", "gp", "carer:c1", "carer:c2"]
CARERS = [
    {"carer_id": carer, "name": "Alex", "relationship": "partner", "contact": "07700 900123", "strain": "low", "carers_assessment": "offered"}
    for carer in ("c1", "c2")
]
SECTIONS = {
    "risk": {"to_self": "medium", "to_others": "none", "from_others": "none", "safeguarding_children": False,
             "safeguarding_adults": False, "details": "Risk details.", "risk_plan": "Daily visits."},
    "mental_health_history": {"summary": "One previous episode.", "previous_admissions": 1, "previous_home_treatment_episodes": 0},
    "medication": {"items": [{"name": "Sertraline", "dose": "100 mg", "frequency": "daily"}]},
    "family_and_carers": {"composition": "Lives with partner.", "carers": CARERS},
    "crisis_plan": {"warning_signs": ["not sleeping"], "what_to_do": "Call the duty line.", "who_to_contact": ["HTCR"]},
}

EDITS = {  # a change to each section, different every time
    "risk": lambda n: {"details": f"Risk reviewed ({n}, {uuid4().hex[:4]})."},
    "mental_health_history": lambda n: {"previous_admissions": n},
    "medication": lambda n: {"items": [{"name": "Sertraline", "dose": f"{n * 25} mg", "frequency": "daily"}]},
    "family_and_carers": lambda n: {"composition": f"Lives with partner ({n}, {uuid4().hex[:4]})."},
    "crisis_plan": lambda n: {"what_to_do": f"Call the duty line ({n}, {uuid4().hex[:4]})."},
}


@dataclass
class World:
    """What the machine's journeys share: the Trust systems, patients already referred and
    accepted, and every consent event published, with the moment Kafka acknowledged it."""

    deployment: Deployment
    journey: Journey
    call: Callable[[Coroutine[Any, Any, Any]], Any]
    accepted: list[ReferralAccepted]
    consent_log: dict[UUID, list[tuple[datetime, Any]]] = field(default_factory=dict)
    steps: dict[UUID, list[str]] = field(default_factory=dict)
    journeys_run: int = 0

    def next_patient(self) -> ReferralAccepted:
        """A patient of their own for each journey: from those referred up front, or a new one."""
        if self.journeys_run == len(self.accepted):
            self.accepted.extend(self.call(refer_patients(self.deployment, self.journey, 1)))
        self.journeys_run += 1
        return self.accepted[self.journeys_run - 1]

    def publish(self, event: Any, system: str | None = None) -> None:
        system = system or ("consent" if event.topic is CONSENT_INBOUND else "clinician")
        self.call(getattr(self.journey, system).publish(event))
        acknowledged = datetime.now(UTC)
        if isinstance(event, ConsentRecorded | ConsentWithdrawn | BreakGlassRequested):
            self.consent_log.setdefault(event.patient_id, []).append((acknowledged, event))
        self.steps.setdefault(event.patient_id, []).append(type(event).__name__)


class ConsentJourney(RuleBasedStateMachine):
    """One patient's journey; consent changes may come at any point, copies may be in flight."""

    world: World
    consents = Bundle("consents")

    def __init__(self) -> None:
        super().__init__()
        self.accepted = self.world.next_patient()
        self.outcome: Pathway | None = None
        self.discharged = False

    @rule(
        target=consents,
        recipient=st.sampled_from(RECIPIENTS),
        categories=st.sets(st.sampled_from(list(InformationCategory)), min_size=1),
        permit=st.booleans(),
        do_not_tell=st.booleans(),
        purpose=st.sampled_from([None, *Purpose]),
    )
    def decide_consent(self, recipient: str, categories: set, permit: bool, do_not_tell: bool, purpose: Purpose | None) -> UUID:
        decision = ConsentRecorded(
            consent_id=uuid4(), patient_id=self.accepted.patient_id, recipient=recipient, categories=tuple(sorted(categories)),
            permit=permit, do_not_tell=do_not_tell and not permit and recipient.startswith("carer:"), purpose=purpose,
            recorded_by="staff-0042", recorded_at=datetime.now(UTC),
        )
        self.world.publish(decision)
        return decision.consent_id

    @rule(consent_id=consumes(consents))
    def withdraw(self, consent_id: UUID) -> None:
        self.world.publish(
            ConsentWithdrawn(consent_id=consent_id, patient_id=self.accepted.patient_id, recorded_by="staff-0042", withdrawn_at=datetime.now(UTC))
        )

    @rule(team=st.sampled_from(["ward:belfast", "htcr:belfast"]), categories=st.sets(st.sampled_from(list(InformationCategory)), min_size=1))
    def break_glass(self, team: str, categories: set) -> None:
        self.world.publish(BreakGlassRequested(
            override_id=uuid4(), patient_id=self.accepted.patient_id, recipient=team, categories=tuple(sorted(categories)),
            staff_id="staff-0099", reason="Emergency: the record is needed now.", minutes=60, requested_at=datetime.now(UTC),
        ))

    @precondition(lambda self: self.outcome is None)
    @rule(outcome=st.sampled_from([Pathway.HOME_TREATMENT, Pathway.INPATIENT_ADMISSION]))
    def assess(self, outcome: Pathway) -> None:
        self.outcome = outcome
        self.world.publish(AssessmentSubmitted(
            assessment_id=uuid4(), patient_id=self.accepted.patient_id, episode_id=self.accepted.episode_id, outcome=outcome,
            outcome_reason="Acute crisis.", assessed_by="staff-0042", assessed_at=datetime.now(UTC), sections=SECTIONS,
        ))

    @precondition(lambda self: self.outcome is not None)
    @rule(section=st.sampled_from(sorted(SECTIONS)), n=st.integers(min_value=2, max_value=9))
    def update(self, section: str, n: int) -> None:
        changed = {**SECTIONS[section], **EDITS[section](n)}
        self.world.publish(AssessmentUpdated(
            update_id=uuid4(), patient_id=self.accepted.patient_id, episode_id=self.accepted.episode_id,
            sections={section: changed}, updated_by="staff-0042", updated_at=datetime.now(UTC),
        ))

    @precondition(lambda self: self.outcome is Pathway.HOME_TREATMENT and not self.discharged)
    @rule()
    def discharge(self) -> None:
        self.discharged = True
        self.world.call(self.world.journey.prepare_discharge(self.accepted))
        self.world.call(self.world.journey.decide_discharge(self.accepted))
        self.world.steps.setdefault(self.accepted.patient_id, []).append("Discharge")


def truth(consent_log: list[tuple[datetime, Any]], moment: datetime) -> ConsentState:
    """The consent state from the events Kafka had acknowledged before `moment`, in order."""
    state = ConsentState()
    for acknowledged, event in consent_log:
        if acknowledged >= moment:
            break
        if isinstance(event, ConsentRecorded):
            state = state.recorded(Recorded(
                event.recipient, frozenset(event.categories), event.permit, event.consent_id, event.purpose,
                event.valid_from, event.valid_until, event.do_not_tell,
            ))
        elif isinstance(event, BreakGlassRequested):
            state = state.recorded(Recorded(
                event.recipient, frozenset(event.categories), True, event.override_id,
                valid_from=event.requested_at, valid_until=event.requested_at + timedelta(minutes=event.minutes), override=True,
            ))
        else:
            state = state.withdrawn(event.consent_id)
    return state


async def refer_patients(deployment: Deployment, journey: Journey, n: int) -> list[ReferralAccepted]:
    rng = random.Random(uuid4().int)  # not the global `random`: hypothesis owns that while it runs
    patients = [Patient(hc_number=new_hc_number(rng), name=f"Propname-{uuid4().hex[:8]} Surname") for _ in range(n)]
    for patient in patients:
        journey.patient = patient
        await journey.gp.publish(journey.referral(), correlation_id=patient.correlation_id)
    wanted, by_referral, seen = {patient.referral_id for patient in patients}, {}, 0
    async with asyncio.timeout(60 + n / 10):
        while len(by_referral) < n:  # reads only what the log added since the last look
            new, seen = deployment.log.seen[seen:], len(deployment.log.seen)
            by_referral |= {e.referral_id: e for e in (l.event for l in new) if isinstance(e, ReferralAccepted) and e.referral_id in wanted}
            await asyncio.sleep(0.2)
    return [by_referral[patient.referral_id] for patient in patients]


# The Kafka client picks brokers with the global `random` while hypothesis runs the machine in
# another thread; hypothesis notices and warns, but no strategy depends on it.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_no_copy_ever_reaches_a_recipient_the_decision_function_would_deny_at_that_moment(deployment: Deployment) -> None:
    loop = asyncio.get_running_loop()
    gp, clinician, staff_app = trust_systems(deployment.kafka, deployment.prefix)
    consent = consent_capture(deployment.kafka, deployment.prefix)
    async with gp, clinician, staff_app, consent:
        journey = Journey(deployment.log, gp, clinician, staff_app, Patient(), timeout_s=60, consent=consent)
        # Hypothesis runs somewhat more machines than `max_examples` (about a fifth more here).
        accepted = await refer_patients(deployment, journey, JOURNEYS + JOURNEYS // 3 + 10)
        world = World(deployment, journey, lambda coro: asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=300), accepted)
        ConsentJourney.world = world
        await asyncio.to_thread(
            run_state_machine_as_test,
            ConsentJourney,
            settings=settings(
                max_examples=JOURNEYS, stateful_step_count=8, deadline=None, database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    await deployment.settled(timeout_s=300 + JOURNEYS * 0.4)  # deliveries drain at tens per second here

    patients = {a.patient_id for a in accepted[: world.journeys_run]}
    delivered = [
        row
        for service in ("assessment", "discharge")
        for row in await deployment.query(service, "SELECT * FROM deliveries WHERE patient_id = ANY($1::uuid[])", list(patients))
    ]
    violations = []
    for row in delivered:
        copy: AddressedCopy = COPY_TYPES[row["event_type"]].model_validate_json(row["copy"])
        state = truth(world.consent_log.get(copy.patient_id, []), row["delivered_at"])
        decision = decide(state, copy.recipient, copy.purpose, frozenset(copy.categories), row["delivered_at"])
        if decision.denied:
            violations.append(f"{copy.recipient} got {sorted(decision.denied)} of patient {copy.patient_id}: "
                              f"steps {world.steps[copy.patient_id]}")
    assert not violations, "\n".join(violations[:20])

    sent = [logged for logged in deployment.log.seen if isinstance(logged.event, AddressedCopy) and logged.event.patient_id in patients]
    refused = {a.disclosure_event_id for a in deployment.log.events(DisclosureAudited, lambda e: e.via.startswith(RECEIPT))}
    delivered_ids = {row["event_id"] for row in delivered}
    unaccounted = [logged.envelope.id for logged in sent if logged.envelope.id not in delivered_ids | refused]
    assert not unaccounted, f"{len(unaccounted)} copies neither delivered nor refused"
    assert world.journeys_run >= JOURNEYS and len(sent) > JOURNEYS  # the journeys ran and copies flowed
    print(f"\nconsent property: {world.journeys_run} journeys, {len(sent)} copies sent, {len(delivered)} delivered, "
          f"{len(sent) - len(delivered)} refused on receipt, {sum(map(len, world.consent_log.values()))} consent events")
