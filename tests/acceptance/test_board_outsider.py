"""The board tried from outside, on the real broker and PostgreSQL, running alone: the events the
other services would publish are written here as those services (each as its own principal), so
that no other service answers them with more.

- Hostile records on every topic the board reads (the containment corpus: broken headers, bytes
  that are not JSON or not UTF-8, 900 KB strings, JSON nested 1,200 deep, a 5,000-digit integer,
  wrong types, a missing field, an event on the wrong topic, no key) are dead-lettered by the
  board with a reason that names the problem, nothing of them is stored, and the valid event
  published behind them on the same partition is on the board within seconds. On the services'
  own topics a record that claims no event the board reads is passed over, as every consumer of
  those topics passes over the others' events; it too leaves nothing and holds up nothing.
- Journeys whose events arrive across topics in orders other than the one they happened in (each
  topic's own order kept, as Kafka keeps it), some records delivered twice, leave the board's read
  model exactly as the pure fold of the same events in their order.
"""

import asyncio
import itertools
import json
import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import TypeAdapter

from contracts import (
    AssessmentStarted,
    CarePlanAgreed,
    CarerInformationShared,
    ConsentRecorded,
    DischargeRefused,
    DischargeSummaryIssued,
    EpisodeClosed,
    EscalationRaised,
    Event,
    InformationCategory,
    ReferralAccepted,
    ReferralSource,
    ResponseTargetBreached,
    Trust,
    Urgency,
    VisitMissed,
    VisitRunningLate,
    VisitScheduled,
)
from contracts.consent import Purpose
from contracts.copies import Sealed
from contracts.discharge import GateCondition
from contracts.scheduling import EscalationAction, EscalationReason
from services.board.domain import EPISODE
from services.board.handlers import HANDLERS, PROJECTIONS
from tests import logins
from tests.acceptance.conftest import a_deployment
from tests.acceptance.corpus import DeadLetters, Defects, Poison, RawProducer, corpus, eventually, header, trust_record
from tests.acceptance.deployment import Deployment
from tests.acceptance.test_containment import Target, judge_dead_letters
from tests.bench.board_rebuild import SOURCES, as_record, journey as plain_journey
from tools.trust import TrustSystem

OUTCOME_WITHIN_S = 20.0  # "within seconds", on a 2-core machine shared with Kafka and PostgreSQL
TRUST = Trust.BELFAST
CONSENT_CAPTURE = f"/trust/{TRUST.value}/consent-capture"
BOARD_TYPES = {kind.cloudevents_type() for kind in HANDLERS}
C = InformationCategory


@pytest.fixture(scope="module")
async def alone(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    async with a_deployment(tmp_path_factory.mktemp("board-alone"), only=("board",)) as deployment:
        yield deployment


def now() -> datetime:
    return datetime.now(UTC)


def epoch(at: datetime) -> int:
    return int(at.timestamp())


def sealed() -> Sealed:
    return Sealed(key_id=uuid4(), ciphertext="A" * 40)


# Events as the services publish them --------------------------------------------------------------


def accepted(patient: UUID, episode: UUID, at: datetime) -> ReferralAccepted:
    return ReferralAccepted(referral_id=f"GP-BOARD-{uuid4().hex[:12]}", patient_id=patient, episode_id=episode, trust=TRUST,
                            source=ReferralSource.GP, urgency=Urgency.VERY_URGENT, accepted_at=at, assess_by=at + timedelta(hours=4))


def visit(patient: UUID, episode: UUID, opens: datetime, visit_id: UUID | None = None) -> VisitScheduled:
    return VisitScheduled(visit_id=visit_id or uuid4(), patient_id=patient, episode_id=episode, window_start=opens,
                          window_end=opens + timedelta(hours=1), planned_minutes=60, staff_id="staff-0001")


def carer_information(patient: UUID, episode: UUID, at: datetime) -> CarerInformationShared:
    return CarerInformationShared(recipient="carer:partner-1", patient_id=patient, purpose=Purpose.CARER_SUPPORT,
                                  categories=(C.CARER_GENERAL_INFORMATION,), consent_version=1, sealed=sealed(), episode_id=episode,
                                  shared_at=at)


def summary(patient: UUID, episode: UUID, at: datetime) -> DischargeSummaryIssued:
    return DischargeSummaryIssued(recipient="gp", patient_id=patient, purpose=Purpose.DIRECT_CARE,
                                  categories=(C.DISCHARGE_ARRANGEMENTS,), consent_version=1, sealed=sealed(), episode_id=episode,
                                  issued_at=at, due_by=at + timedelta(days=3))


def refused(patient: UUID, episode: UUID, at: datetime) -> DischargeRefused:
    return DischargeRefused(patient_id=patient, episode_id=episode, missing=(GateCondition.CRISIS_CONTACTS_GIVEN,), refused_at=at)


def consent(patient: UUID) -> ConsentRecorded:
    return ConsentRecorded(consent_id=uuid4(), patient_id=patient, recipient=f"htcr:{TRUST.value}", categories=(C.RISK,), permit=False,
                           recorded_by="staff-0042", recorded_at=now())


# Hostile records on every topic the board reads ---------------------------------------------------


async def _exists(deployment: Deployment, sql: str, *args: object) -> bool:
    return bool(await deployment.query("board", sql, *args))


def targets(patient: UUID) -> dict[str, Target]:
    """For each topic the board reads: poison made from a template (each with ids of its own,
    keyed by the patient, so on the valid event's partition), then a valid event of the same
    kind whose effect on the board is looked for."""
    at = now() - timedelta(hours=2)
    episode, visit_id = uuid4(), uuid4()
    fresh = uuid4  # each poison's episode, visit or consent: what must not be found stored

    async def episode_shown(d: Deployment) -> bool:
        return await _exists(d, "SELECT 1 FROM board_episodes WHERE episode_id = $1", episode)

    async def fact_shown(d: Deployment, kind: str, key: UUID) -> bool:
        return await _exists(d, "SELECT 1 FROM board_facts WHERE kind = $1 AND id = $2", kind, key)

    valid_consent = consent(patient)
    found = [
        Target(
            "referral.events", SOURCES["referral"], lambda: accepted(patient, fresh(), at),
            accepted(patient, episode, at), visit(patient, fresh(), at),
            Defects("referral_id", "trust", {"urgency": "4", "accepted_at": epoch(at)}),
            episode_shown,
        ),
        Target(
            "assessment.events", SOURCES["assessment"],
            lambda: AssessmentStarted(patient_id=patient, episode_id=fresh(), started_at=at),
            AssessmentStarted(patient_id=patient, episode_id=episode, started_at=at), accepted(patient, fresh(), at),
            Defects("episode_id", "started_at", {"started_at": epoch(at)}),
            lambda d: fact_shown(d, "referral", episode),
        ),
        Target(
            "assessment.shared", SOURCES["assessment"], lambda: carer_information(patient, fresh(), at),
            carer_information(patient, episode, at), summary(patient, fresh(), at),
            Defects("recipient", "shared_at", {"consent_version": "1", "shared_at": epoch(at)}),
            lambda d: fact_shown(d, "fidelity", episode),
        ),
        Target(
            "scheduling.events", SOURCES["scheduling"], lambda: visit(patient, fresh(), at),
            visit(patient, episode, at, visit_id), AssessmentStarted(patient_id=patient, episode_id=fresh(), started_at=at),
            Defects("staff_id", "window_start", {"planned_minutes": "60", "window_end": epoch(at)}),
            lambda d: fact_shown(d, "visit", visit_id),
        ),
        Target(
            "discharge.events", SOURCES["discharge"], lambda: refused(patient, fresh(), at),
            refused(patient, episode, at), visit(patient, fresh(), at),
            Defects("missing", "refused_at", {"missing": "crisis-contacts-given", "refused_at": epoch(at)}),
            lambda d: fact_shown(d, "discharge", episode),
        ),
        Target(
            "consent.inbound", CONSENT_CAPTURE,
            lambda: consent(patient).model_copy(update={"categories": (C.CLINICAL_DETAIL,)}),
            valid_consent, accepted(patient, fresh(), at),
            Defects("recorded_by", "permit", {"permit": "yes", "recorded_at": epoch(at), "categories": "clinical-detail"}),
            lambda d: _exists(d, "SELECT 1 FROM consent_decisions WHERE consent_id = $1", valid_consent.consent_id),
        ),
    ]
    return {target.topic: target for target in found}


_TOPICS = ["referral.events", "assessment.events", "assessment.shared", "scheduling.events", "discharge.events", "consent.inbound"]


def test_every_topic_the_board_reads_has_a_poison_corpus() -> None:
    """A topic cannot be added to what the board reads without its containment being tested."""
    assert sorted(_TOPICS) == sorted({kind.topic.name for kind in HANDLERS})


def must_be_dead_lettered(topic: str, poison: Poison) -> bool:
    """Everything on a Trust system's topic; on the services' own, a record the Kafka client
    cannot read, and one that claims (in readable text) an event the board reads."""
    if topic.endswith(".inbound") or not poison.readable:
        return True
    try:
        return (header(poison.record, "ce_type") or b"").decode() in BOARD_TYPES
    except UnicodeDecodeError:
        return False


async def stored(deployment: Deployment, events: list[Event]) -> list[str]:
    """What the board kept of these poison events, in words: any row of their episodes, visits or
    consent decisions."""
    ids = [value for event in events for name in ("episode_id", "visit_id") if isinstance(value := getattr(event, name, None), UUID)]
    consents = [event.consent_id for event in events if isinstance(event, ConsentRecorded)]
    found = []
    if await _exists(deployment, "SELECT 1 FROM board_episodes WHERE episode_id = ANY($1)", ids):
        found.append("the board stored an episode of a poison event")
    if await _exists(deployment, "SELECT 1 FROM board_facts WHERE id = ANY($1) OR episode_id = ANY($1)", ids):
        found.append("the board stored a fact of a poison event")
    if await _exists(deployment, "SELECT 1 FROM consent_decisions WHERE consent_id = ANY($1)", consents):
        found.append("the board stored a poison consent decision")
    return found


async def contain(deployment: Deployment, dead: DeadLetters, raw: RawProducer, target: Target, correlation_id: UUID) -> list[str]:
    poisons = corpus(target.template, target.wrong_topic, target.defects, source=target.source, correlation_id=correlation_id)
    sent = [(poison, await raw.send(target.topic, poison.record)) for poison in poisons]
    where = await raw.send(target.topic, trust_record(target.valid, source=target.source, correlation_id=correlation_id))
    assert all(w.partition == where.partition for p, w in sent if p.record.key is not None), "poison shares the valid event's partition"
    expected = [(poison, w) for poison, w in sent if must_be_dead_lettered(target.topic, poison)]
    full = f"{deployment.prefix}.{target.topic}"
    started, shown_after = time.monotonic(), None

    async def done() -> bool:
        nonlocal shown_after
        if shown_after is None and await target.outcome(deployment):
            shown_after = time.monotonic() - started
        return shown_after is not None and all(dead.of(full, w.partition, w.offset) for _, w in expected)

    await eventually(done, OUTCOME_WITHIN_S, every_s=0.25)
    problems = [] if shown_after is not None else [f"the valid event behind the poison was not on the board within {OUTCOME_WITHIN_S:.0f}s"]
    problems += judge_dead_letters(deployment, dead, target, expected)
    problems += await stored(deployment, [p.event for p in poisons if p.event is not None])
    if deployment.services["board"].process.poll() is not None:
        problems.append("the board service is no longer running")
    return problems


@pytest.fixture(scope="module")
async def contained(alone: Deployment) -> dict[str, list[str]]:
    """Every topic the board reads poisoned at once, then judged: topic -> what went wrong there."""
    patient, correlation_id = uuid4(), uuid4()
    found = targets(patient)
    assert sorted(found) == sorted(_TOPICS)
    async with DeadLetters(alone.kafka, alone.prefix) as dead, RawProducer(alone.kafka, alone.prefix) as raw:
        verdicts = await asyncio.gather(*(contain(alone, dead, raw, target, correlation_id) for target in found.values()))
    return dict(zip(found, verdicts))


@pytest.mark.parametrize("topic", _TOPICS)
async def test_hostile_records_on_a_topic_the_board_reads_are_dead_lettered_stored_nowhere_and_hold_up_nothing(
    alone: Deployment, contained: dict[str, list[str]], topic: str
) -> None:
    """Each poison record is dead-lettered by the board's group with a reason that names the
    problem and repeats nothing received (on the services' topics, those claiming an event the
    board reads); nothing of any of them is on the board; the valid event behind them is."""
    problems = contained[topic]
    assert not problems, f"{topic}:\n  " + "\n  ".join(problems)


# Journeys arriving in other orders ----------------------------------------------------------------


def whole_journey(rng: random.Random, start: datetime) -> list[tuple[str, Event]]:
    """A journey with something for every list on the board, in the order it happened: the
    referral's clock breached before the assessment starts, a visit running late and then missed,
    a carer at breaking point and the carer's information shared, a discharge held at the gate
    and then made, and the GP's summary."""
    events = plain_journey(rng, start)
    referral = next(event for _, event in events if isinstance(event, ReferralAccepted))
    patient, episode = referral.patient_id, referral.episode_id
    missed = next(event for _, event in events if isinstance(event, VisitMissed))
    closed = next(event for _, event in events if isinstance(event, EpisodeClosed))
    plan = next(event for _, event in events if isinstance(event, CarePlanAgreed))

    def before(kind: type, *extra: tuple[str, Event]) -> None:
        at = next(i for i, (_, event) in enumerate(events) if isinstance(event, kind))
        events[at:at] = extra

    before(AssessmentStarted, ("referral", ResponseTargetBreached(
        referral_id=referral.referral_id, patient_id=patient, episode_id=episode, trust=referral.trust, urgency=referral.urgency,
        assess_by=referral.assess_by, detected_at=referral.assess_by + timedelta(minutes=1), minutes_late=1)))
    before(VisitMissed, ("scheduling", VisitRunningLate(visit_id=missed.visit_id, patient_id=patient, episode_id=episode,
                                                        window_start=missed.window_end - timedelta(hours=1),
                                                        detected_at=missed.window_end - timedelta(minutes=45))),
           ("scheduling", EscalationRaised(patient_id=patient, episode_id=episode, visit_id=missed.visit_id,
                                           reasons=(EscalationReason.CARER_AT_BREAKING_POINT,), action=EscalationAction.MORE_VISITS,
                                           raised_at=missed.window_end - timedelta(minutes=50))),
           ("assessment", carer_information(patient, episode, plan.agreed_at + timedelta(hours=1))))
    before(EpisodeClosed, ("discharge", refused(patient, episode, closed.closed_at - timedelta(hours=2))))
    at = next(i for i, (_, event) in enumerate(events) if isinstance(event, EpisodeClosed)) + 1
    events[at:at] = [("discharge", summary(patient, episode, closed.closed_at + timedelta(hours=1)))]
    return events


def folded(events: list[Event]) -> dict[tuple[str, UUID], Any]:
    """The board's read model of these events folded in their order, as JSON: (kind, key) -> state."""
    states: dict[tuple[str, UUID], Any] = {}
    for event in events:
        for projection in PROJECTIONS.get(type(event), ()):
            key = projection.key(event)
            states[projection.kind, key] = projection.fold(states.get((projection.kind, key)) or projection.model(key), event)
    return {where: TypeAdapter(type(state)).dump_python(state, mode="json") for where, state in states.items()}


def arrival(rng: random.Random, events: list[tuple[str, Any]], topics: tuple[str, ...] | None) -> list[tuple[str, Any]]:
    """The journey's records as they might arrive: each topic's in their order, the topics one
    after another in `topics` order, or (None) shuffled together at random."""
    by_topic: dict[str, list[tuple[str, Any]]] = {}
    for item in events:
        by_topic.setdefault(item[1].topic.name, []).append(item)
    if topics is not None:
        return [item for topic in topics for item in by_topic.get(topic, [])]
    lanes = [list(reversed(lane)) for lane in by_topic.values()]
    arrived = []
    while any(lanes):
        arrived.append(rng.choice([lane for lane in lanes if lane]).pop())
    return arrived


async def test_journeys_arriving_across_topics_in_any_order_and_twice_leave_the_board_as_their_events_in_order_would(
    alone: Deployment,
) -> None:
    """Eight journeys: four with their topics one after another in four orders (the log's order
    reversed among them), four shuffled together; a third of the records sent again. The board's
    rows of each journey equal the pure fold of its events in the order they happened."""
    rng = random.Random(15)
    start = now() - timedelta(days=10)
    journeys = [whole_journey(rng, start) for _ in range(8)]
    topics = tuple(dict.fromkeys(event.topic.name for _, event in journeys[0]))
    others = [order for order in itertools.permutations(topics) if order not in (topics, tuple(reversed(topics)))]
    orders = [tuple(reversed(topics)), *rng.sample(others, 3), None, None, None, None]
    sent: list[tuple[str, str, Any]] = []
    for events, order in zip(journeys, orders):
        records = [(service, event.topic.name, as_record(service, event)) for service, event in events]
        arrived = arrival(rng, [(service, event, record) for (service, event), (_, _, record) in zip(events, records)], order)
        sent += [(service, event.topic.name, record) for service, event, record in arrived]
    again = [item for i, item in enumerate(sent) if i % 3 == 0]
    writers = {service: TrustSystem(logins.admin(), alone.prefix, source) for service, source in SOURCES.items()}
    for writer in writers.values():
        await writer.__aenter__()
    try:
        for service, topic, record in [*sent, *again]:
            await writers[service].publish_raw(topic, record.key, record.value, record.headers)
    finally:
        for writer in writers.values():
            await writer.__aexit__(None, None, None)
    await alone.settled(timeout_s=120)

    for events in journeys:
        expected = folded([event for _, event in events])
        episode = next(event.episode_id for _, event in events if isinstance(event, ReferralAccepted))
        patient = next(event.patient_id for _, event in events if isinstance(event, ReferralAccepted))
        rows = await alone.query(
            "board",
            "SELECT kind, id, state::text AS state FROM board_facts WHERE episode_id = $1 OR patient_id = $2 "
            "UNION ALL SELECT $3, episode_id, state::text FROM board_episodes WHERE episode_id = $1",
            episode, patient, EPISODE.kind,
        )
        shown = {(row["kind"], row["id"]): json.loads(row["state"]) for row in rows}
        assert sorted(shown) == sorted(expected), "the board keeps other things than the fold of the journey's events"
        for where, state in expected.items():
            assert shown[where] == state, f"{where[0]} {where[1]}: the board's row differs from the events folded in order"
