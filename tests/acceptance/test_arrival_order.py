"""Order independence on the real broker and databases: Kafka keeps a patient's events in order
within a topic only, so a service that reads several topics may consume them in any cross-topic
order (a restart with a backlog, a fast clinician). An event whose prerequisite has not arrived
is parked (table `parked`) and handled when it arrives, so the end state is the same whatever
the order.

For one service at a time the test builds a patient's events itself, with fixed ids, and
delivers them one at a time (each consumed, handled or parked, before the next is published) in
many interleavings that keep each topic's own order, each for a fresh patient; then it compares
each interleaving's end state, by business content, with the in-order delivery's.

Besides each topic's order, an interleaving keeps causality: an event is never delivered before
one it could only have been caused by (noted at each scenario). Where a scenario has few
interleavings all are run; otherwise the in-order one, the reversed-by-topic one and a seeded
random sample. Sizes are chosen to keep this file near a minute on a 2-core machine when the
services park rather than wait (the in-order run goes first, alone; the others a few at a time,
each for its own patient): the assessment and discharge services 1 + 1 + 14 orders each,
scheduling all 15.
"""

import asyncio
import itertools
import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from contracts import (
    AssessmentCompleted,
    AssessmentSections,
    AssessmentShared,
    AssessmentSubmitted,
    AssessmentUpdated,
    CarerInformationShared,
    ConsentChangeAudited,
    ConsentRecorded,
    ConsentWithdrawn,
    CrisisContactsGiven,
    DischargeConversationRecorded,
    DischargeDecided,
    DischargeProposed,
    DischargeRefused,
    DischargeSummaryIssued,
    DisclosureAudited,
    EpisodeClosed,
    Event,
    FollowOnCareArranged,
    InformationCategory,
    NotificationSent,
    OnwardCare,
    Pathway,
    Purpose,
    ReferralAccepted,
    ReferralSource,
    Role,
    Shift,
    ShiftsRostered,
    Skill,
    StaffMemberRecorded,
    SummaryContent,
    Trust,
    Urgency,
    VisitCompleted,
    VisitOutcomeRecorded,
    VisitStatus,
)
from tests.acceptance.corpus import DeadLetters, RawProducer, Record, eventually, trust_record
from tests.acceptance.deployment import Deployment

SEED = 20261126
SAMPLED = 14  # random orders per service, besides in order and reversed by topic (scheduling has 15 in all: all run)
AT_ONCE = 4  # interleavings delivered concurrently, each for its own patient
CONSUMED_WITHIN_S = 8.0  # for one event to be handled or parked, on a busy 2-core machine
C = InformationCategory
CLINICIAN = "/trust/belfast/htcr-clinical-system"
CONSENT = "/trust/belfast/consent-capture"


def now() -> datetime:
    return datetime.now(UTC)


# Interleavings --------------------------------------------------------------------------------


def merges(streams: Sequence[Sequence[str]]) -> Iterator[tuple[str, ...]]:
    """Every order of the streams' items that keeps each stream's own order."""
    live = [s for s in streams if s]
    if not live:
        yield ()
        return
    for i, stream in enumerate(live):
        rest = [*live[:i], stream[1:], *live[i + 1 :]]
        for tail in merges(rest):
            yield (stream[0], *tail)


def causal(order: Sequence[str], after: Mapping[str, set[str]]) -> bool:
    seen: set[str] = set()
    for label in order:
        if not after.get(label, set()) <= seen:
            return False
        seen.add(label)
    return True


def repaired(order: Sequence[str], after: Mapping[str, set[str]]) -> tuple[str, ...]:
    """The order with each event that comes too early moved just after its last cause."""
    placed: list[str] = []
    waiting: list[str] = []
    for label in order:
        waiting.append(label)
        progress = True
        while progress:
            progress = False
            for held in list(waiting):
                if after.get(held, set()) <= set(placed):
                    placed.append(held)
                    waiting.remove(held)
                    progress = True
    assert not waiting, f"unsatisfiable causality: {waiting}"
    return tuple(placed)


def orders(streams: Mapping[str, Sequence[str]], after: Mapping[str, set[str]], sampled: int) -> list[tuple[str, ...]]:
    """In order first, then reversed by topic, then a seeded sample of the rest (all, if few)."""
    in_order = tuple(itertools.chain(*streams.values()))
    backwards = repaired(tuple(itertools.chain(*reversed(list(streams.values())))), after)
    rest = sorted({o for o in merges(list(streams.values())) if causal(o, after)} - {in_order, backwards})
    if len(rest) > sampled:
        rest = random.Random(SEED).sample(rest, sampled)
    return [in_order, backwards, *rest]


# Delivery one event at a time ----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    topic: str
    source: str
    event: Event | Callable[[], Awaitable[Event | None]]  # built when its turn comes, if it needs the service's ids


@dataclass
class Run:
    order: tuple[str, ...]
    steps: dict[str, Step]
    ids: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return " ".join(self.order)


def main_group(deployment: Deployment, service: str) -> str:
    """The consumer group that handles the service's events (not the one delivering its copies)."""
    [group] = [group for group in deployment.groups_of(service) if not group.endswith("-delivery")]
    return group


async def _parked_at(deployment: Deployment, service: str, group: str, topic: str, partition: int, offset: int) -> bool:
    try:
        rows = await deployment.query(
            service, 'SELECT 1 FROM parked WHERE consumer = $1 AND topic = $2 AND partition = $3 AND "offset" = $4',
            group, topic, partition, offset,
        )
    except asyncpg.UndefinedTableError:
        return False
    return bool(rows)


async def consumed(deployment: Deployment, dead: DeadLetters, group: str, service: str, record: Record, where: Any) -> bool:
    """The service's group has handled the record (its id is in the inbox), parked it, or dead-lettered it."""
    event_id = dict(record.headers)["ce_id"].decode()
    if await deployment.query(service, "SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2", group, event_id):
        return True
    if any(d.headers.get("dlq_consumer") == group for d in dead.of(where.topic, where.partition, where.offset)):
        return True
    return await _parked_at(deployment, service, group, where.topic, where.partition, where.offset)


Send = Callable[[str, Record], Awaitable[list[str]]]


def sender(deployment: Deployment, raw: RawProducer, dead: DeadLetters, services: Sequence[str]) -> Send:
    """Publishes a record and returns once every one of `services` has consumed it (or says
    which did not, in time)."""
    groups = {service: main_group(deployment, service) for service in services}

    async def send(topic: str, record: Record) -> list[str]:
        where = await raw.send(topic, record)
        return [
            f"{service} neither handled nor parked it within {CONSUMED_WITHIN_S:.0f}s (held, waiting?)"
            for service, group in groups.items()
            if not await eventually(lambda: consumed(deployment, dead, group, service, record, where), CONSUMED_WITHIN_S, every_s=0.1)
        ]

    return send


async def deliver(send: Send, run: Run) -> None:
    """Publishes the run's events in its order, each once the one before has been consumed
    (dead letters are reported by `dead_lettered`)."""
    correlation_id = uuid4()
    for label in run.order:
        step = run.steps[label]
        event = step.event if isinstance(step.event, Event) else await step.event()
        if event is None:
            run.problems.append(f"{label}: could not be built (what it refers to never appeared)")
            continue
        late = await send(step.topic, trust_record(event, source=step.source, correlation_id=correlation_id))
        run.problems += [f"{label}: {problem}" for problem in late]


async def parked(deployment: Deployment, services: Sequence[str], *keys: object) -> int | str:
    """How many events with these keys (a patient, members of staff) are still parked, in these services."""
    total = 0
    for service in services:
        try:
            rows = await deployment.query(service, "SELECT count(*) AS n FROM parked WHERE key = ANY($1)", [str(k) for k in keys])
        except asyncpg.UndefinedTableError:
            return f"{service} has no parked table"
        total += rows[0]["n"]
    return total


def dead_lettered(dead: DeadLetters, run: Run) -> list[str]:
    keys = {str(value) for name, value in run.ids.items() if name in ("patient_id", "general", "ld")}
    found = []
    for letter in dead.seen:
        if letter.headers.get("ce_subject") in keys:
            found.append(f"{letter.headers.get('ce_type')} dead-lettered by {letter.headers.get('dlq_consumer')}: "
                         f"{(letter.headers.get('dlq_reason') or '')[:120]}")
    return found


async def run_all(
    deployment: Deployment,
    services: Sequence[str],
    runs: list[Run],
    end_state: Callable[[Run], Awaitable[dict[str, Any]]],
    at_once: int = AT_ONCE,
    between_batches: Callable[[list[Run], Send], Awaitable[None]] | None = None,
    before: Callable[[Send], Awaitable[None]] | None = None,
) -> None:
    async with RawProducer(deployment.kafka, deployment.prefix) as raw, DeadLetters(deployment.kafka, deployment.prefix) as dead:
        send = sender(deployment, raw, dead, services)
        if before is not None:
            await before(send)
            await deployment.settled(timeout_s=120)
        # The in-order run goes alone, so nothing another patient's events do can disturb the reference.
        for batch in [runs[:1], *(runs[start : start + at_once] for start in range(1, len(runs), at_once))]:
            await asyncio.gather(*(deliver(send, run) for run in batch))
            if between_batches is not None:
                await deployment.settled(timeout_s=120)
                await deployment.log.caught_up()
                for run in batch:
                    run.state = await end_state(run)
                await between_batches(batch, send)
        await deployment.settled(timeout_s=120)
        await deployment.log.caught_up()
        for run in runs:
            if not run.state:
                run.state = await end_state(run)
            run.problems += dead_lettered(dead, run)


def verdict(runs: list[Run]) -> list[str]:
    """Each run that differs from the in-order run (the first), and how; the in-order run's own
    problems first."""
    baseline = runs[0]
    report = []
    own = [*baseline.problems, *([f"parked: {baseline.state.get('parked')}"] if baseline.state.get("parked") != 0 else [])]
    if own:
        report.append(f"in order [{baseline.name}]\n      " + "\n      ".join(own))
    for run in runs[1:]:
        diffs = [
            f"{key}: {_short(run.state.get(key))} (in order: {_short(value)})"
            for key, value in baseline.state.items()
            if run.state.get(key) != value
        ]
        if diffs or run.problems:
            report.append(f"[{run.name}]\n      " + "\n      ".join([*run.problems, *diffs]))
    return report


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 300 else text[:297] + "..."


# What the services hold and sent, by business content ---------------------------------------


def _categories(event: Any) -> tuple[str, ...]:
    return tuple(sorted(str(c) for c in event.categories))


def sent_by(deployment: Deployment, service: str, kind: type, where: Callable[[Any], bool]) -> list[Any]:
    """Events of a kind the service published (other services may publish the same kind)."""
    return [
        logged.event
        for logged in deployment.log.seen
        if isinstance(logged.event, kind) and logged.envelope is not None
        and logged.envelope.source == f"/carepath/{service}" and where(logged.event)
    ]


async def consent_state(deployment: Deployment, service: str, patient_id: UUID) -> list[tuple]:
    rows = await deployment.query(
        service,
        "SELECT recipient, categories, permit, withdrawn_at IS NOT NULL AS withdrawn FROM consent_decisions WHERE patient_id = $1",
        patient_id,
    )
    return sorted((r["recipient"], tuple(sorted(r["categories"])), r["permit"], r["withdrawn"]) for r in rows)


async def delivered(deployment: Deployment, service: str, patient_id: UUID) -> list[tuple]:
    rows = await deployment.query(
        service, "SELECT recipient, event_type, copy FROM deliveries WHERE patient_id = $1", patient_id
    )
    return sorted(
        (r["recipient"], r["event_type"], tuple(sorted(json.loads(r["copy"])["categories"]))) for r in rows
    )


def audited(deployment: Deployment, service: str, patient_id: UUID) -> dict[str, list[tuple]]:
    """The audit trail the service wrote for the patient: disclosures and denials, consent changes."""
    return {
        "disclosures audited (recipient, permitted, via)": sorted(
            (e.recipient, e.permitted, e.via) for e in sent_by(deployment, service, DisclosureAudited, lambda e: e.patient_id == patient_id)
        ),
        "consent changes audited": sorted(
            (e.change, e.recipient, e.permit, _categories(e))
            for e in sent_by(deployment, service, ConsentChangeAudited, lambda e: e.patient_id == patient_id)
        ),
    }


# The assessment service -------------------------------------------------------------------------

SECTIONS = {
    "risk": {"to_self": "medium", "to_others": "none", "from_others": "none", "safeguarding_children": False,
             "safeguarding_adults": False, "details": "Thoughts of self-harm.", "risk_plan": "Daily visits."},
    "mental_health_history": {"summary": "One previous episode.", "previous_admissions": 0, "previous_home_treatment_episodes": 1},
    "diagnoses": {"conditions": [], "personality_disorder": False, "learning_disability": True},
    "family_and_carers": {"composition": "Lives with partner.", "carers": [
        {"carer_id": "partner-1", "name": "Sam", "relationship": "partner", "contact": "07700 900123",
         "strain": "medium", "carers_assessment": "offered"}]},
    "crisis_plan": {"warning_signs": ["stops eating"], "what_to_do": "Call the duty line.", "who_to_contact": ["HTCR duty line"]},
}


def assessment_case() -> tuple[dict[str, Step], dict[str, Any]]:
    """A referral accepted (by the referral service), a consent decision made, changed and one
    withdrawn (for the GP, to whom this service sends nothing, so consent timing cannot change
    what is sent), the assessment submitted (the CMHT takes over) and updated, the episode
    closed (by the discharge service)."""
    patient_id, episode_id = uuid4(), uuid4()
    ids = {"patient_id": patient_id, "episode_id": episode_id}
    at = now()
    gp_clinical = ConsentRecorded(consent_id=uuid4(), patient_id=patient_id, recipient="gp", categories=(C.CLINICAL_DETAIL,),
                                  permit=True, recorded_by="staff-0042", recorded_at=at)
    gp_medication = gp_clinical.model_copy(update={"consent_id": uuid4(), "categories": (C.MEDICATION,)})
    steps = {
        "R": Step("referral.events", "/carepath/referral", ReferralAccepted(
            referral_id=f"AO-{uuid4().hex[:10]}", **ids, trust=Trust.BELFAST, source=ReferralSource.GP,
            urgency=Urgency.VERY_URGENT, accepted_at=at, assess_by=at + timedelta(hours=4))),
        "C1": Step("consent.inbound", CONSENT, gp_clinical),
        "C2": Step("consent.inbound", CONSENT, gp_medication),
        "W1": Step("consent.inbound", CONSENT, ConsentWithdrawn(
            consent_id=gp_clinical.consent_id, patient_id=patient_id, recorded_by="staff-0042", withdrawn_at=at)),
        "S": Step("assessment.inbound", CLINICIAN, AssessmentSubmitted(
            assessment_id=uuid4(), **ids, outcome=Pathway.CMHT, outcome_reason="Safe with CMHT follow-up.",
            assessed_by="staff-0042", assessed_at=at, sections=AssessmentSections.model_validate(SECTIONS))),
        "U": Step("assessment.inbound", CLINICIAN, AssessmentUpdated(
            update_id=uuid4(), **ids, updated_by="staff-0042", updated_at=at, sections=AssessmentSections.model_validate(
                {"risk": SECTIONS["risk"] | {"to_self": "high"}, "patient_view": {"what_i_need": "Evening calls."}}))),
        "E": Step("discharge.events", "/carepath/discharge", EpisodeClosed(**ids, visits_completed=0, closed_at=at)),
    }
    return steps, ids


ASSESSMENT_STREAMS = {
    "referral.events": ["R"],
    "consent.inbound": ["C1", "C2", "W1"],
    "assessment.inbound": ["S", "U"],
    "discharge.events": ["E"],
}
# The discharge service closes only an episode the assessment service completed (after it read
# the referral and the submission), and the update is taken as made before the closure.
ASSESSMENT_AFTER = {"E": {"R", "S", "U"}}


async def assessment_end_state(deployment: Deployment, run: Run) -> dict[str, Any]:
    patient_id, episode_id = run.ids["patient_id"], run.ids["episode_id"]
    q = lambda sql: deployment.query("assessment", sql, patient_id)  # noqa: E731
    of_patient = lambda e: e.patient_id == patient_id  # noqa: E731
    return {
        "episode trust": [r["trust"] for r in await deployment.query("assessment", "SELECT trust FROM episodes WHERE episode_id = $1", episode_id)],
        "completed (outcome, trust)": sorted(
            (str(e.outcome), str(e.trust)) for e in sent_by(deployment, "assessment", AssessmentCompleted, of_patient)
        ),
        "care teams (team, left)": sorted((r["team"], r["left"]) for r in await q(
            "SELECT team, left_at IS NOT NULL AS left FROM care_teams WHERE patient_id = $1")),
        "versions (sections changed)": [tuple(sorted(json.loads(r["sections"]))) for r in await q(
            "SELECT sections FROM assessment_versions WHERE patient_id = $1 ORDER BY version")],
        "copies sent (type, recipient, categories)": sorted(
            (e.type_name, e.recipient, _categories(e))
            for e in sent_by(deployment, "assessment", AssessmentShared, of_patient)
            + sent_by(deployment, "assessment", CarerInformationShared, of_patient)
        ),
        "copies delivered": await delivered(deployment, "assessment", patient_id),
        **audited(deployment, "assessment", patient_id),
        "consent state": await consent_state(deployment, "assessment", patient_id),
        "parked": await parked(deployment, ["assessment"], patient_id),
    }


async def test_the_assessment_service_ends_in_the_same_state_whatever_the_order_its_topics_arrive_in(
    deployment: Deployment,
) -> None:
    """Referral accepted, consent, assessment and closure in any cross-topic order: the same
    Trust, care teams, versions, copies sent and delivered, audit trail and consent state."""
    runs = []
    for order in orders(ASSESSMENT_STREAMS, ASSESSMENT_AFTER, SAMPLED):
        steps, ids = assessment_case()
        runs.append(Run(order, steps, ids))
    await run_all(deployment, ["assessment"], runs, lambda run: assessment_end_state(deployment, run))
    report = verdict(runs)
    assert not report, f"{len(report)} of {len(runs)} orders went wrong:\n  " + "\n  ".join(report)


# The discharge service --------------------------------------------------------------------------


def discharge_case() -> tuple[dict[str, Step], dict[str, Any]]:
    """Home treatment completed (by the assessment service), two visits completed (by the
    scheduling service), the carer permitted the discharge arrangements, and the discharge
    planned and decided by the clinician's system."""
    patient_id, episode_id = uuid4(), uuid4()
    ids = {"patient_id": patient_id, "episode_id": episode_id}
    at = now()
    steps = {
        "A": Step("assessment.events", "/carepath/assessment", AssessmentCompleted(
            assessment_id=uuid4(), **ids, outcome=Pathway.HOME_TREATMENT, assessed_at=at, assessment_version=1, trust=Trust.BELFAST)),
        "V1": Step("scheduling.events", "/carepath/scheduling", VisitCompleted(visit_id=uuid4(), **ids, actual_minutes=55, completed_at=at)),
        "V2": Step("scheduling.events", "/carepath/scheduling", VisitCompleted(visit_id=uuid4(), **ids, actual_minutes=50, completed_at=at)),
        "K": Step("consent.inbound", CONSENT, ConsentRecorded(
            consent_id=uuid4(), patient_id=patient_id, recipient="carer:partner-1",
            categories=(C.CARER_GENERAL_INFORMATION, C.DISCHARGE_ARRANGEMENTS), permit=True, purpose=Purpose.CARER_SUPPORT,
            recorded_by="staff-0042", recorded_at=at)),
        "P": Step("discharge.inbound", CLINICIAN, DischargeProposed(
            **ids, proposed_by="staff-0007", planned_for=at.date(), reason="Crisis resolved.", proposed_at=at,
            summary=SummaryContent(reason_for_care="Depressive crisis.", assessment_and_risk="Risk now low.",
                                   medication="Sertraline 100 mg.", plan_and_requested_actions="CMHT review in 2 weeks."),
            crisis_contacts=("Lifeline 0808 808 8000",))),
        "T": Step("discharge.inbound", CLINICIAN, DischargeConversationRecorded(**ids, recorded_by="staff-0007", recorded_at=at - timedelta(days=3))),
        "F": Step("discharge.inbound", CLINICIAN, FollowOnCareArranged(**ids, onward_to=OnwardCare.CMHT, arranged_by="staff-0007", arranged_at=at)),
        "X": Step("discharge.inbound", CLINICIAN, CrisisContactsGiven(**ids, given_by="staff-0007", given_at=at)),
        "D": Step("discharge.inbound", CLINICIAN, DischargeDecided(
            **ids, decided_by="staff-0007", reason="Crisis resolved; CMHT follow-up agreed.", decided_at=at)),
    }
    return steps, ids


DISCHARGE_STREAMS = {
    "assessment.events": ["A"],
    "scheduling.events": ["V1", "V2"],
    "consent.inbound": ["K"],
    "discharge.inbound": ["P", "T", "F", "X", "D"],
}
# The decision is where information leaves: a consent published after it is a later decision,
# not a late arrival, so the consent is delivered before the discharge is decided.
DISCHARGE_AFTER = {"D": {"K"}}


async def discharge_end_state(deployment: Deployment, run: Run) -> dict[str, Any]:
    patient_id, episode_id = run.ids["patient_id"], run.ids["episode_id"]
    of_patient = lambda e: e.patient_id == patient_id  # noqa: E731
    rows = await deployment.query(
        "discharge",
        "SELECT trust, visits_completed, closed_at IS NOT NULL AS closed, patient_told_at IS NOT NULL AS told, onward_to, "
        "crisis_contacts_given_at IS NOT NULL AS contacts_given FROM episodes WHERE episode_id = $1",
        episode_id,
    )
    followups = await deployment.query("discharge", "SELECT source FROM followups WHERE patient_id = $1", patient_id)
    return {
        "episode": [dict(r) for r in rows],
        "episodes closed": len(sent_by(deployment, "discharge", EpisodeClosed, of_patient)),
        "discharges refused": len(sent_by(deployment, "discharge", DischargeRefused, of_patient)),
        "summaries sent (recipient, categories)": sorted(
            (e.recipient, _categories(e)) for e in sent_by(deployment, "discharge", DischargeSummaryIssued, of_patient)
        ),
        "summaries delivered": await delivered(deployment, "discharge", patient_id),
        "notifications (recipient, kind)": sorted(
            (e.recipient, e.kind) for e in sent_by(deployment, "discharge", NotificationSent, of_patient)
        ),
        "follow-ups": sorted(r["source"] for r in followups),
        **audited(deployment, "discharge", patient_id),
        "consent state": await consent_state(deployment, "discharge", patient_id),
        "parked": await parked(deployment, ["discharge"], patient_id),
    }


async def test_the_discharge_service_ends_in_the_same_state_whatever_the_order_its_topics_arrive_in(
    deployment: Deployment,
) -> None:
    """The episode, visits, consent and the discharge sequence in any cross-topic order: the same
    episode (Trust, visits counted, closed), summaries sent and delivered, notifications, follow-up,
    audit trail and consent state. (The visits counted are the episode's, not the snapshot in
    `episode.closed`, which says what the service knew when it closed the episode.)"""
    runs = []
    for order in orders(DISCHARGE_STREAMS, DISCHARGE_AFTER, SAMPLED):
        steps, ids = discharge_case()
        runs.append(Run(order, steps, ids))
    await run_all(deployment, ["discharge"], runs, lambda run: discharge_end_state(deployment, run))
    report = verdict(runs)
    assert not report, f"{len(report)} of {len(runs)} orders went wrong:\n  " + "\n  ".join(report)


# The scheduling service -------------------------------------------------------------------------

# Belfast is left to the other scenarios' episodes; one interleaving per Trust runs at a time,
# so each plan is made from a team holding only its own interleaving's two staff.
SCHEDULING_TRUSTS = (Trust.NORTHERN, Trust.SOUTH_EASTERN, Trust.SOUTHERN, Trust.WESTERN)


def shifts(days: int = 10) -> tuple[Shift, ...]:
    today = now().replace(hour=0, minute=0, second=0, microsecond=0)
    return tuple(Shift(starts_at=today + timedelta(days=d, hours=7), ends_at=today + timedelta(days=d, hours=21)) for d in range(days))


def scheduling_case(deployment: Deployment, trust: Trust, n: int) -> tuple[dict[str, Step], dict[str, Any]]:
    """The rota (a general nurse and a nurse with the learning-disability skill, recorded and
    rostered), home treatment for a patient who needs that skill (from the assessment
    service), the first visit's outcome (from the staff app) and the closure (from the
    discharge service, after it counted that visit)."""
    patient_id, episode_id = uuid4(), uuid4()
    general, ld = f"ao{n:02d}-general", f"ao{n:02d}-ld"
    ids = {"patient_id": patient_id, "episode_id": episode_id, "general": general, "ld": ld, "trust": trust}
    rostering, team = f"/trust/{trust.value}/rostering", f"htcr:{trust.value}"
    at = now()

    async def first_visit_outcome() -> VisitOutcomeRecorded | None:
        async def first() -> Any:
            rows = await deployment.query(
                "scheduling", "SELECT visit_id FROM visits WHERE episode_id = $1 ORDER BY window_start LIMIT 1", episode_id
            )
            return rows[0]["visit_id"] if rows else None

        if not await eventually(first, CONSUMED_WITHIN_S):
            return None
        return VisitOutcomeRecorded(
            visit_id=await first(), patient_id=patient_id, episode_id=episode_id, status=VisitStatus.COMPLETED,
            actual_minutes=50, recorded_at=now(),
        )

    steps = {
        "G": Step("rota.inbound", rostering, StaffMemberRecorded(staff_id=general, team=team, role=Role.NURSE, display_name="Gen")),
        "Gs": Step("rota.inbound", rostering, ShiftsRostered(staff_id=general, shifts=shifts())),
        "L": Step("rota.inbound", rostering, StaffMemberRecorded(
            staff_id=ld, team=team, role=Role.NURSE, skills=(Skill.LEARNING_DISABILITY,), display_name="Lee")),
        "Ls": Step("rota.inbound", rostering, ShiftsRostered(staff_id=ld, shifts=shifts())),
        "A": Step("assessment.events", "/carepath/assessment", AssessmentCompleted(
            assessment_id=uuid4(), patient_id=patient_id, episode_id=episode_id, outcome=Pathway.HOME_TREATMENT, assessed_at=at,
            assessment_version=1, trust=trust, required_skills=(Skill.LEARNING_DISABILITY,))),
        "O": Step("visit.outcomes", f"/trust/{trust.value}/staff-app", first_visit_outcome),
        "E": Step("discharge.events", "/carepath/discharge", EpisodeClosed(
            patient_id=patient_id, episode_id=episode_id, visits_completed=1, closed_at=at)),
    }
    return steps, ids


SCHEDULING_STREAMS = {
    "rota.inbound": ["G", "Gs", "L", "Ls"],
    "assessment.events": ["A"],
    "visit.outcomes": ["O"],
    "discharge.events": ["E"],
}
# The outcome names a visit the plan made; the closure follows the discharge service counting
# that visit, so both come after what caused them; and the closure is last, as nothing is
# planned for a closed episode (a rota read after it rightly changes nothing there).
SCHEDULING_AFTER = {"O": {"A"}, "E": {"O", "A", "G", "Gs", "L", "Ls"}}


async def scheduling_end_state(deployment: Deployment, run: Run) -> dict[str, Any]:
    episode_id = run.ids["episode_id"]
    label = {run.ids["general"]: "general", run.ids["ld"]: "learning-disability", None: None}
    rows = await deployment.query(
        "scheduling", "SELECT team, key_worker, core_team, closed_at IS NOT NULL AS closed FROM episodes WHERE episode_id = $1",
        episode_id,
    )
    visits = await deployment.query("scheduling", "SELECT status FROM visits WHERE episode_id = $1", episode_id)
    return {
        "episode (team, key worker, core team, closed)": [
            (r["team"].split(":")[0] if r["team"] else None, label.get(r["key_worker"], r["key_worker"]),
             tuple(label.get(s, s) for s in r["core_team"]), r["closed"])
            for r in rows
        ],
        "visits by status": sorted(Counter(r["status"] for r in visits).items()),
        "visits completed (minutes)": sorted(
            e.actual_minutes for e in sent_by(deployment, "scheduling", VisitCompleted, lambda e: e.episode_id == episode_id)
        ),
        "parked": await parked(deployment, ["scheduling"], run.ids["patient_id"], run.ids["general"], run.ids["ld"]),
    }


async def test_the_scheduling_service_ends_in_the_same_state_whatever_the_order_its_topics_arrive_in(
    deployment: Deployment,
) -> None:
    """The rota, the assessment, the first visit's outcome and the closure in any cross-topic
    order: the same key worker and core team (the one nurse with the skill the patient needs),
    the same visits completed and cancelled, nothing left parked."""
    runs = []
    for n, order in enumerate(orders(SCHEDULING_STREAMS, SCHEDULING_AFTER, sampled=20)):
        steps, ids = scheduling_case(deployment, SCHEDULING_TRUSTS[n % len(SCHEDULING_TRUSTS)], n)
        runs.append(Run(order, steps, ids))

    async def staff_leave_the_team(batch: list[Run], send: Send) -> None:
        """The batch's staff move to the CMHT, so the next batch's teams start empty."""
        for run in batch:
            for staff_id in (run.ids["general"], run.ids["ld"]):
                moved = StaffMemberRecorded(staff_id=staff_id, team=f"cmht:{run.ids['trust'].value}", role=Role.NURSE)
                assert not await send("rota.inbound", trust_record(moved, source="/trust/rostering", correlation_id=uuid4()))

    async def teams_start_empty(send: Send) -> None:
        """Staff that other tests left on these teams would be chosen too: they move to the CMHT first."""
        rows = await deployment.query(
            "scheduling", "SELECT staff_id, team FROM staff WHERE team = ANY($1::text[])",
            [f"htcr:{trust.value}" for trust in SCHEDULING_TRUSTS],
        )
        for row in rows:
            moved = StaffMemberRecorded(staff_id=row["staff_id"], team=row["team"].replace("htcr:", "cmht:"), role=Role.NURSE)
            assert not await send("rota.inbound", trust_record(moved, source="/trust/rostering", correlation_id=uuid4()))

    await run_all(
        deployment, ["scheduling"], runs, lambda run: scheduling_end_state(deployment, run),
        at_once=len(SCHEDULING_TRUSTS), between_batches=staff_leave_the_team, before=teams_start_empty,
    )
    report = verdict(runs)
    assert not report, f"{len(report)} of {len(runs)} orders went wrong:\n  " + "\n  ".join(report)


# A withdrawal read before the decision it withdraws -----------------------------------------------


async def test_a_withdrawal_consumed_before_the_decision_it_withdraws_still_withdraws_it(deployment: Deployment) -> None:
    """Consent events may come by two routes (two clinical systems, one lagging): a withdrawal
    read before its decision must still withdraw it, in every service that keeps consent, with
    the same audit trail as when they arrive in order."""

    def case() -> tuple[dict[str, Step], dict[str, Any]]:
        patient_id = uuid4()
        decision = ConsentRecorded(
            consent_id=uuid4(), patient_id=patient_id, recipient="carer:partner-1", categories=(C.CARER_GENERAL_INFORMATION,),
            permit=True, purpose=Purpose.CARER_SUPPORT, recorded_by="staff-0042", recorded_at=now(),
        )
        withdrawn = ConsentWithdrawn(consent_id=decision.consent_id, patient_id=patient_id, recorded_by="staff-0042", withdrawn_at=now())
        return {"C": Step("consent.inbound", CONSENT, decision), "W": Step("consent.inbound", CONSENT, withdrawn)}, {"patient_id": patient_id}

    runs = [Run(order, *case()) for order in (("C", "W"), ("W", "C"))]

    async def end_state(run: Run) -> dict[str, Any]:
        patient_id = run.ids["patient_id"]
        return {
            "consent state (assessment)": await consent_state(deployment, "assessment", patient_id),
            "consent state (discharge)": await consent_state(deployment, "discharge", patient_id),
            "consent changes audited": audited(deployment, "assessment", patient_id)["consent changes audited"],
            "parked": await parked(deployment, ["assessment", "discharge"], patient_id),
        }

    await run_all(deployment, ["assessment", "discharge"], runs, end_state)
    assert runs[0].state["consent state (assessment)"] == [("carer:partner-1", ("carer-general-information",), True, True)]
    report = verdict(runs)
    assert not report, "\n  ".join(report)
