"""Containment on the real broker and databases: a record no service can decode or validate is
dead-lettered with a reason and its origin, nothing of it is stored, and the consumer moves on
at once, so the valid event queued behind it on the same partition completes within seconds.
An event too large to pass on holds up nothing behind it either.

The poison corpus (`tests/acceptance/corpus.py`) is published on every inbound topic, each
record keyed like the valid event that follows it. All eight topics are poisoned at once (one
module fixture), and each topic's verdict is its own test.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from contracts import (
    TOPICS,
    AssessmentCompleted,
    AssessmentSections,
    AssessmentShared,
    AssessmentSubmitted,
    AssessmentUpdated,
    CarerView,
    ConsentRecorded,
    DischargeProposed,
    Event,
    FeedbackAnswers,
    FeedbackReceived,
    InformationCategory,
    Pathway,
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralSource,
    ReferralSubmitted,
    Role,
    StaffMemberRecorded,
    Urgency,
    VisitOutcomeRecorded,
    VisitRequested,
    VisitStatus,
    WardDischargeRecorded,
)
from tools.journey import Journey, Patient, trust_systems
from tests.acceptance.corpus import (
    DeadLetters,
    Defects,
    Poison,
    RawProducer,
    corpus,
    eventually,
    largest,
    trust_record,
)
from tests.acceptance.deployment import Deployment
from tests.factories import new_hc_number

OUTCOME_WITHIN_S = 20.0  # "within seconds", on a 2-core machine shared with Kafka and PostgreSQL
FATE_WITHIN_S = 30.0  # for the oversized update to be dead-lettered or its copies published
# The oversized update must itself pass through Kafka (1 MiB messages): where the contract allows
# more than that, it is filled up to this many bytes of JSON instead.
INBOUND_BUDGET = 1_000_000
SCHEDULING_TZ = ZoneInfo("Europe/Belfast")  # the scheduling service's default Trust time zone
MARKER = f"Sensitive-{uuid4().hex[:8]}"  # in the poison's free text; no dead-letter reason may repeat it
C = InformationCategory


def now() -> datetime:
    return datetime.now(UTC)


def epoch(at: datetime) -> int:
    return int(at.timestamp())


def consent(patient_id: UUID | str, **fields: Any) -> ConsentRecorded:
    values: dict[str, Any] = {
        "consent_id": uuid4(), "patient_id": UUID(str(patient_id)), "recipient": "gp", "categories": (C.MEDICATION,),
        "permit": True, "recorded_by": "staff-0042", "recorded_at": now(),
    }
    return ConsentRecorded(**(values | fields))


def running(deployment: Deployment) -> dict[str, bool]:
    return {name: svc.process is not None and svc.process.poll() is None for name, svc in deployment.services.items()}


# The oversized outgoing event --------------------------------------------------------------------


async def test_an_update_too_large_to_pass_on_holds_up_nothing_behind_it(
    deployment: Deployment, journey: Journey, in_care: "InCare"
) -> None:
    """The largest `assessment.updated` the contract allows (its copy, sealed for a team
    permitted everything, larger still) is either dead-lettered as too large to pass on, or its
    copies are published; either way a referral and an assessment for other patients sent right
    after it get their outcomes within seconds."""
    # `in_care` (the corpus tests' patient) is set up first, so that a service this test leaves
    # stuck cannot also fail the setup of every corpus test below.
    accepted = await journey.refer()
    everything = consent(accepted.patient_id, recipient=f"htcr:{accepted.trust.value}", categories=tuple(C), permit=True)
    await journey.consent.publish(everything)
    assert await eventually(
        lambda: deployment.query("assessment", "SELECT 1 FROM consent_decisions WHERE consent_id = $1", everything.consent_id), 30
    )
    await journey.assess(accepted)
    second = replace(journey, patient=Patient(hc_number=new_hc_number(), name=f"Second-{uuid4().hex[:6]} Patient"))
    third = replace(journey, patient=Patient(hc_number=new_hc_number(), name=f"Third-{uuid4().hex[:6]} Patient"))
    deployment.patients.extend([second.patient, third.patient])
    accepted_second = await second.refer()
    await deployment.settled()

    def copies() -> list[AssessmentShared]:
        return deployment.log.events(AssessmentShared, lambda e: e.patient_id == accepted.patient_id)

    shared_before = len(copies())

    fixed = {
        "update_id": str(uuid4()), "patient_id": str(accepted.patient_id), "episode_id": str(accepted.episode_id),
        "updated_by": "staff-0042", "updated_at": now().isoformat(),
    }
    biggest = largest(AssessmentUpdated, fixed, INBOUND_BUDGET)
    update = AssessmentUpdated.model_validate(biggest.payload)
    record = trust_record(update, source=journey.clinician.source, correlation_id=journey.patient.correlation_id)
    async with RawProducer(deployment.kafka, deployment.prefix) as raw, DeadLetters(deployment.kafka, deployment.prefix) as dead:
        sent = await raw.send("assessment.inbound", record)
        # Right behind it: a referral (another service) and an assessment (the same service).
        await third.gp.publish(third.referral(), correlation_id=third.patient.correlation_id)
        await second.submit_assessment(accepted_second, outcome=Pathway.CMHT)
        behind = await asyncio.gather(
            deployment.log.wait_for(ReferralAcknowledged, lambda e: e.referral_id == third.patient.referral_id, OUTCOME_WITHIN_S),
            deployment.log.wait_for(AssessmentCompleted, lambda e: e.episode_id == accepted_second.episode_id, OUTCOME_WITHIN_S),
            return_exceptions=True,
        )
        topic = f"{deployment.prefix}.assessment.inbound"
        await eventually(lambda: dead.of(topic, sent.partition, sent.offset) or len(copies()) > shared_before, FATE_WITHIN_S)
        dead_letters = dead.of(topic, sent.partition, sent.offset)

    size = f"{biggest.size:,}-byte"
    if biggest.capped:
        size += f" (the budget: the contract allows more, e.g. no bound on {', '.join(biggest.unbounded[:2])})"
    assert not isinstance(behind[0], BaseException), f"a referral sent after a {size} update was not acknowledged in {OUTCOME_WITHIN_S}s"
    assert not isinstance(behind[1], BaseException), f"an assessment sent after a {size} update did not complete in {OUTCOME_WITHIN_S}s"
    assert dead_letters or len(copies()) > shared_before, f"the {size} update was neither dead-lettered nor shared within {FATE_WITHIN_S}s"
    assert all(d.headers.get("dlq_reason") for d in dead_letters)
    assert running(deployment) == dict.fromkeys(deployment.services, True)


# The poison corpus on every inbound topic ----------------------------------------------------------


@dataclass(frozen=True)
class InCare:
    """A patient in home treatment, set up before any poison is published."""

    accepted: ReferralAccepted
    visits: list[UUID]  # scheduled, in window order
    visits_per_day: dict[date, int]
    correlation_id: UUID


@pytest.fixture(scope="module")
async def in_care(deployment: Deployment) -> InCare:
    gp, clinician, staff_app = trust_systems(deployment.kafka, deployment.prefix)
    patient = Patient(hc_number=new_hc_number(), name=f"Contained-{uuid4().hex[:6]} Patient")
    deployment.patients.append(patient)
    async with gp, clinician, staff_app:
        journey = Journey(deployment.log, gp, clinician, staff_app, patient, timeout_s=60)
        accepted = await journey.refer()
        await journey.assess(accepted)
    await deployment.settled()
    rows = await deployment.query(
        "scheduling",
        "SELECT visit_id, (window_start AT TIME ZONE $2)::date AS day FROM visits WHERE episode_id = $1 ORDER BY window_start",
        accepted.episode_id, SCHEDULING_TZ.key,
    )
    assert len(rows) >= 3, "home treatment should plan a week of visits"
    return InCare(accepted, [row["visit_id"] for row in rows], dict(Counter(row["day"] for row in rows)), patient.correlation_id)


@dataclass(frozen=True)
class Target:
    """One inbound topic: poison derived from `template`, then `valid`, whose effect `outcome` sees."""

    topic: str
    source: str
    template: Callable[[], Event]
    valid: Event
    wrong_topic: Event
    defects: Defects
    outcome: Callable[[Deployment], Awaitable[bool]]
    secrets: tuple[str, ...] = ()  # values no dead-letter reason may contain


async def _one(deployment: Deployment, service: str, sql: str, *args: object) -> Any:
    rows = await deployment.query(service, sql, *args)
    return rows[0] if rows else None


def targets(care: InCare) -> dict[str, Target]:
    accepted = care.accepted
    patient_id, episode_id, trust = accepted.patient_id, accepted.episode_id, accepted.trust
    ids = {"patient_id": patient_id, "episode_id": episode_id}
    clinician, gp = f"/trust/{trust.value}/htcr-clinical-system", f"/trust/{trust.value}/gp-system"

    # referral.inbound: the referral id is the key; a poison referral, if stored, would have
    # decided it first (as a CMHT emergency referral), so the valid one would find it decided.
    referral_id, hc_number = str(uuid4()), new_hc_number()
    referral = dict(referral_id=referral_id, trust=trust, hc_number=hc_number)
    valid_referral = ReferralSubmitted(
        **referral, source=ReferralSource.GP, urgency=Urgency.VERY_URGENT, patient_name=f"{MARKER} Valid", submitted_at=now()
    )

    async def referral_decided(d: Deployment) -> bool:
        row = await _one(d, "referral", "SELECT decision, source FROM referrals WHERE referral_id = $1", referral_id)
        return row is not None and (row["decision"], row["source"]) == ("accepted", "gp")

    # assessment.inbound, consent.inbound, pas.inbound: each poison has an id of its own.
    valid_assessment = AssessmentSubmitted(
        assessment_id=uuid4(), **ids, outcome=Pathway.HOME_TREATMENT, outcome_reason="A second opinion.",
        assessed_by="staff-0042", assessed_at=now(),
    )
    valid_consent = consent(patient_id)
    valid_ward = WardDischargeRecorded(discharge_id=uuid4(), patient_id=patient_id, trust=trust, ward="Ward 3", discharged_at=now())

    async def consent_applied(d: Deployment) -> bool:
        sql = "SELECT 1 FROM consent_decisions WHERE consent_id = $1"
        return all([await _one(d, service, sql, valid_consent.consent_id) for service in ("assessment", "discharge")])

    # rota.inbound: the staff id is the key. The team is one no plan is made for.
    staff_id = str(uuid4())
    valid_staff = StaffMemberRecorded(staff_id=staff_id, team=f"cmht:{trust.value}", role=Role.DOCTOR, display_name="Valid")

    async def staff_recorded(d: Deployment) -> bool:
        row = await _one(d, "scheduling", "SELECT role, display_name FROM staff WHERE staff_id = $1", staff_id)
        return row is not None and (row["role"], row["display_name"]) == ("doctor", "Valid")

    # scheduling.inbound: a valid request adds a visit tomorrow; a poison one would add one the day after.
    tomorrow = now().astimezone(SCHEDULING_TZ).date() + timedelta(days=1)
    valid_request = VisitRequested(request_id=uuid4(), **ids, day=tomorrow, requested_by="staff-0042")

    async def visit_added(d: Deployment) -> bool:
        return await _visits_on(d, episode_id, tomorrow) == care.visits_per_day.get(tomorrow, 0) + 1

    # visit.outcomes: the valid outcome is for one visit, the poison for another.
    valid_outcome = VisitOutcomeRecorded(
        visit_id=care.visits[1], **ids, status=VisitStatus.COMPLETED, actual_minutes=55, recorded_at=now()
    )

    async def visit_completed(d: Deployment) -> bool:
        row = await _one(d, "scheduling", "SELECT status, actual_minutes FROM visits WHERE visit_id = $1", care.visits[1])
        return row is not None and (row["status"], row["actual_minutes"]) == ("completed", 55)

    # discharge.inbound: a poison proposal, if stored, would leave the patient's view and a carer's.
    proposed_at = now()
    valid_proposal = DischargeProposed(
        **ids, proposed_by="staff-0007", planned_for=now().date(), reason="Crisis resolved.", proposed_at=proposed_at
    )

    async def proposal_recorded(d: Deployment) -> bool:
        row = await _one(d, "discharge", "SELECT proposed_at FROM episodes WHERE episode_id = $1", episode_id)
        return row is not None and row["proposed_at"] == proposed_at

    # feedback.inbound: each poison has a feedback id of its own; the words carry the marker.
    valid_feedback = FeedbackReceived(feedback_id=uuid4(), **ids, respondent="patient",
                                      answers=FeedbackAnswers(listened_to="yes"), received_at=now())

    async def feedback_kept(d: Deployment) -> bool:
        return bool(await _one(d, "discharge", "SELECT 1 FROM feedback WHERE feedback_id = $1", valid_feedback.feedback_id))

    async def ward_discharge_recorded(d: Deployment) -> bool:
        return bool(await _one(d, "discharge", "SELECT 1 FROM followups WHERE followup_id = $1", valid_ward.discharge_id))

    async def assessment_recorded(d: Deployment) -> bool:
        return bool(await _one(d, "assessment", "SELECT 1 FROM assessments WHERE assessment_id = $1", valid_assessment.assessment_id))

    wrong = lambda: consent(patient_id)  # noqa: E731 - a valid consent decision (each its own), off its topic
    at = now()
    found = [
        Target(
            "referral.inbound", gp,
            lambda: ReferralSubmitted(**referral, source=ReferralSource.CMHT, urgency=Urgency.EMERGENCY,
                                      patient_name=f"{MARKER} Poison", submitted_at=at - timedelta(hours=1)),
            valid_referral, consent(referral_id),
            Defects("patient_name", "patient_name", {"urgency": "1", "currently_inpatient": "no", "submitted_at": epoch(at)}),
            referral_decided, secrets=(hc_number, hc_number.replace(" ", "")),
        ),
        Target(
            "assessment.inbound", clinician,
            lambda: valid_assessment.model_copy(update={"assessment_id": uuid4(), "outcome_reason": f"{MARKER} reason"}),
            valid_assessment, wrong(),
            Defects("outcome_reason", "outcome", {
                "htcr_assessed_in_person": "yes", "assessed_at": epoch(at),
                "sections": {"mental_health_history": {"summary": "One episode.", "previous_admissions": "2",
                                                       "previous_home_treatment_episodes": 0}},
            }),
            assessment_recorded,
        ),
        Target(
            "consent.inbound", f"/trust/{trust.value}/consent-capture",
            lambda: consent(patient_id, categories=(C.CLINICAL_DETAIL,), recorded_by=f"{MARKER}"[:64]),
            valid_consent,
            AssessmentUpdated(update_id=uuid4(), **ids, sections=AssessmentSections.model_validate(
                {"patient_view": {"what_i_need": f"{MARKER} wrong topic"}}), updated_by="staff-0042", updated_at=at),
            Defects("recorded_by", "permit", {"permit": "yes", "recorded_at": epoch(at), "categories": "clinical-detail"}),
            consent_applied,
        ),
        Target(
            "rota.inbound", f"/trust/{trust.value}/rostering",
            lambda: valid_staff.model_copy(update={"role": Role.NURSE, "display_name": "Poison"}),
            valid_staff, consent(staff_id),
            Defects("display_name", "role", {"team_lead": "no", "skills": "prescribing"}),
            staff_recorded,
        ),
        Target(
            "scheduling.inbound", clinician,
            lambda: valid_request.model_copy(update={"request_id": uuid4(), "day": tomorrow + timedelta(days=1)}),
            valid_request, wrong(),
            Defects("requested_by", "day", {"day": epoch(datetime.combine(tomorrow + timedelta(days=1), datetime.min.time(), UTC))}),
            visit_added,
        ),
        Target(
            "visit.outcomes", f"/trust/{trust.value}/staff-app",
            lambda: valid_outcome.model_copy(update={"visit_id": care.visits[2], "actual_minutes": 17}),
            valid_outcome, wrong(),
            Defects("status", "status", {"actual_minutes": "17", "recorded_at": epoch(at)}),
            visit_completed,
        ),
        Target(
            "discharge.inbound", clinician,
            lambda: valid_proposal.model_copy(update={
                "reason": f"{MARKER} reason", "patient_view": f"{MARKER} view", "proposed_at": at - timedelta(hours=1),
                "carer_views": (CarerView(carer_id="poison-carer", view=f"{MARKER} carer"),),
            }),
            valid_proposal, wrong(),
            Defects("reason", "reason", {"patient_wants_more_time": "yes", "proposed_at": epoch(at)}),
            proposal_recorded,
        ),
        Target(
            "pas.inbound", f"/trust/{trust.value}/pas",
            lambda: valid_ward.model_copy(update={"discharge_id": uuid4(), "ward": f"{MARKER} ward"}),
            valid_ward, wrong(),
            Defects("ward", "ward", {"discharged_at": epoch(at), "trust": 1}),
            ward_discharge_recorded,
        ),
        Target(
            "feedback.inbound", f"/trust/{trust.value}/feedback-form",
            lambda: valid_feedback.model_copy(update={"feedback_id": uuid4(), "free_text": f"{MARKER} words"}),
            valid_feedback, wrong(),
            Defects("free_text", "respondent", {"answers": "yes", "received_at": epoch(at)}),
            feedback_kept,
        ),
    ]
    return {target.topic: target for target in found}


_TARGET_TOPICS = [
    "referral.inbound", "assessment.inbound", "consent.inbound", "rota.inbound",
    "scheduling.inbound", "visit.outcomes", "discharge.inbound", "pas.inbound", "feedback.inbound",
]


def test_every_inbound_topic_has_a_poison_corpus() -> None:
    """A new inbound topic cannot be added without its containment being tested."""
    assert sorted(_TARGET_TOPICS) == sorted(topic.name for topic in TOPICS if topic.inbound)


async def _visits_on(deployment: Deployment, episode_id: UUID, day: date) -> int:
    row = await _one(
        deployment, "scheduling",
        "SELECT count(*) AS n FROM visits WHERE episode_id = $1 AND (window_start AT TIME ZONE $3)::date = $2",
        episode_id, day, SCHEDULING_TZ.key,
    )
    return row["n"]


async def traces(deployment: Deployment, care: InCare, events: list[Event]) -> list[str]:
    """What the services stored of these poison events, in words; each kind of event leaves its
    trace where the service that handles it keeps state."""
    found: list[str] = []

    async def any_of(service: str, sql: str, values: list[Any], what: str) -> None:
        if values and await deployment.query(service, sql, values):
            found.append(f"{service} stored {what}")

    of = lambda kind: [e for e in events if isinstance(e, kind)]  # noqa: E731
    for service in ("assessment", "discharge"):
        await any_of(service, "SELECT 1 FROM consent_decisions WHERE consent_id = ANY($1)",
                     [e.consent_id for e in of(ConsentRecorded)], "a poison consent decision")
    await any_of("assessment", "SELECT 1 FROM assessments WHERE assessment_id = ANY($1)",
                 [e.assessment_id for e in of(AssessmentSubmitted)], "a poison assessment")
    await any_of("assessment", "SELECT 1 FROM assessment_versions WHERE source_id = ANY($1)",
                 [e.update_id for e in of(AssessmentUpdated)], "a poison assessment update")
    await any_of("discharge", "SELECT 1 FROM followups WHERE followup_id = ANY($1)",
                 [e.discharge_id for e in of(WardDischargeRecorded)], "a poison ward discharge")
    await any_of("scheduling", "SELECT 1 FROM visits WHERE visit_id = ANY($1) AND status <> 'scheduled'",
                 list({e.visit_id for e in of(VisitOutcomeRecorded)}), "a poison visit outcome")
    for day in {e.day for e in of(VisitRequested)}:
        if await _visits_on(deployment, care.accepted.episode_id, day) > care.visits_per_day.get(day, 0):
            found.append(f"scheduling stored a poison visit request (a visit added on {day})")
    for referral in of(ReferralSubmitted):
        row = await _one(deployment, "referral", "SELECT source FROM referrals WHERE referral_id = $1", referral.referral_id)
        if row is not None and row["source"] == referral.source.value:
            found.append(f"referral stored a poison referral (decided as from {row['source']})")
            break
    for staff in of(StaffMemberRecorded):  # stored then overwritten by the valid one leaves no trace here
        row = await _one(deployment, "scheduling", "SELECT display_name FROM staff WHERE staff_id = $1", staff.staff_id)
        if row is not None and row["display_name"] == staff.display_name:
            found.append("scheduling stored a poison staff member")
            break
    if of(DischargeProposed):
        episode_id = care.accepted.episode_id
        row = await _one(
            deployment, "discharge",
            "SELECT patient_view IS NOT NULL AS viewed, patient_wants_more_time AS more_time, "
            "(SELECT count(*) FROM carer_views WHERE episode_id = $1) AS carers FROM episodes WHERE episode_id = $1",
            episode_id,
        )
        if row is not None and (row["viewed"] or row["more_time"] or row["carers"]):
            found.append("discharge stored a poison discharge proposal (a patient's or carer's view, or more time asked)")
    return sorted(set(found))


@dataclass
class Verdict:
    topic: str
    problems: list[str] = field(default_factory=list)
    outcome_after_s: float | None = None


def reading_groups(deployment: Deployment, full_topic: str) -> set[str]:
    return {
        group
        for service in deployment.services
        for group, topics in deployment.groups_of(service).items()
        if full_topic in topics and not group.endswith("-delivery")
    }


def judge_dead_letters(deployment: Deployment, dead: DeadLetters, target: Target, sent: list[tuple[Poison, Any]]) -> list[str]:
    full = f"{deployment.prefix}.{target.topic}"
    groups = reading_groups(deployment, full)
    problems = []
    for poison, where in sent:
        letters = dead.of(full, where.partition, where.offset)
        if not letters:
            problems.append(f"{poison.name}: not dead-lettered")
            continue
        for letter in letters:
            reason = letter.headers.get("dlq_reason") or ""
            said = f"{poison.name}: dead-lettered by {letter.headers.get('dlq_consumer')} with reason {reason[:160]!r}"
            if not reason.strip():
                problems.append(f"{poison.name}: dead-lettered without a dlq_reason")
            if letter.headers.get("dlq_consumer") not in groups:
                problems.append(f"{said}, but dlq_consumer is not a group reading {target.topic} ({sorted(groups)})")
            for name in poison.names:
                if name not in reason:
                    problems.append(f"{said}, which does not name {name!r}")
            for value in (*poison.echoes, *target.secrets, "Sensitive-"):
                if value in reason:
                    problems.append(f"{said}, which repeats a value received")
            if len(reason) > 1_000:
                problems.append(f"{poison.name}: a dlq_reason of {len(reason)} characters")
            if poison.readable and (letter.value or b"") != (poison.record.value or b""):
                problems.append(f"{poison.name}: the dead letter does not carry the record's value unchanged")
    return problems


async def contain(deployment: Deployment, care: InCare, dead: DeadLetters, raw: RawProducer, target: Target) -> Verdict:
    poisons = corpus(target.template, target.wrong_topic, target.defects, source=target.source, correlation_id=care.correlation_id)
    sent = [(poison, await raw.send(target.topic, poison.record)) for poison in poisons]
    valid = trust_record(target.valid, source=target.source, correlation_id=care.correlation_id)
    where = await raw.send(target.topic, valid)
    assert all(w.partition == where.partition for p, w in sent if p.record.key is not None), "poison shares the valid event's partition"
    verdict = Verdict(target.topic)
    started = time.monotonic()
    full = f"{deployment.prefix}.{target.topic}"

    def logged_unreadable(w: Any) -> bool:  # what `carepath tail` shows at that position
        return any((logged.topic, logged.partition, logged.offset) == (full, w.partition, w.offset)
                   and "unreadable record" in (logged.problem or "") for logged in deployment.log.seen)

    unreadable = [(p, w) for p, w in sent if not p.readable]

    async def done() -> bool:
        if verdict.outcome_after_s is None and await target.outcome(deployment):
            verdict.outcome_after_s = time.monotonic() - started
        return (verdict.outcome_after_s is not None and all(dead.of(full, w.partition, w.offset) for _, w in sent)
                and all(logged_unreadable(w) for _, w in unreadable))

    await eventually(done, OUTCOME_WITHIN_S, every_s=0.25)
    if verdict.outcome_after_s is None:
        verdict.problems.append(f"the valid event behind the poison had no outcome within {OUTCOME_WITHIN_S:.0f}s")
    verdict.problems += [f"{p.name}: the event log did not show it as unreadable" for p, w in unreadable if not logged_unreadable(w)]
    verdict.problems += judge_dead_letters(deployment, dead, target, sent)
    verdict.problems += await traces(deployment, care, [p.event for p in poisons if p.event is not None])
    verdict.problems += [f"the {name} service is no longer running" for name, up in running(deployment).items() if not up]
    return verdict


@pytest.fixture(scope="module")
async def contained(deployment: Deployment, in_care: InCare) -> dict[str, Verdict]:
    """Every inbound topic poisoned at once, then judged: topic -> what went wrong there."""
    found = targets(in_care)
    assert sorted(found) == sorted(_TARGET_TOPICS)
    referral = found["referral.inbound"]
    deployment.patients += [  # so the suite's last test checks no log line holds them either
        Patient(hc_number=referral.valid.hc_number, name=name) for name in (referral.valid.patient_name, referral.template().patient_name)
    ]
    async with DeadLetters(deployment.kafka, deployment.prefix) as dead, RawProducer(deployment.kafka, deployment.prefix) as raw:
        verdicts = await asyncio.gather(*(contain(deployment, in_care, dead, raw, target) for target in found.values()))
    return {verdict.topic: verdict for verdict in verdicts}


@pytest.mark.parametrize("topic", _TARGET_TOPICS)
async def test_poison_is_dead_lettered_with_a_reason_stored_nowhere_and_the_next_event_completes(
    deployment: Deployment, contained: dict[str, Verdict], topic: str
) -> None:
    """Each poison record on the topic is dead-lettered (by each group reading it) with a reason
    that names the problem and repeats nothing received — one the Kafka client cannot even read
    by its position, and the event log shows it as unreadable; nothing of it is stored; the valid
    event published after it on the same partition gets its outcome within seconds; and every
    service is still running."""
    verdict = contained[topic]
    assert not verdict.problems, f"{topic}:\n  " + "\n  ".join(verdict.problems)
    assert running(deployment) == dict.fromkeys(deployment.services, True)
