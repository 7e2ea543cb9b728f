"""The referral service's handlers on a small fake store: what each one stores and emits."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts import (
    AssessmentStarted,
    EpisodeClosed,
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralDeclined,
    ReferralLinked,
    ReferralSource,
    ReferralSubmitted,
    ResponseTargetBreached,
    ServiceDirectoryPublished,
    Trust,
    Urgency,
)
from services.referral import handlers
from services.referral.domain import Decision, KnownPatient, PendingDeadline
from services.referral.rules import load_rules
from shared.reference.directory import load_directory
from shared.runtime.errors import InvalidEvent
from tests.factories import NOW, referral
from tests.fakes import FakeContext

DEPS = handlers.Dependencies(rules=load_rules(), directory=load_directory())


@dataclass
class FakeStore:
    """The referral store's methods over dictionaries."""

    patients: dict[str, KnownPatient] = field(default_factory=dict)  # by checked H&C number
    referrals: dict[tuple[Trust, str], Decision] = field(default_factory=dict)
    started: dict[UUID, datetime] = field(default_factory=dict)
    closed: dict[UUID, datetime] = field(default_factory=dict)
    pending: list[tuple[PendingDeadline, UUID]] = field(default_factory=list)
    breached: set[str] = field(default_factory=set)
    digests: dict[Trust, str] = field(default_factory=dict)

    async def referral_exists(self, referral: ReferralSubmitted) -> bool:
        return (referral.trust, referral.referral_id) in self.referrals

    async def find_or_add_patient(self, referral: ReferralSubmitted, hc_number: str, new_id: UUID) -> KnownPatient:
        return self.patients.setdefault(hc_number, KnownPatient(new_id, known=False, open_episode_id=None))

    async def record(self, referral: ReferralSubmitted, decision: Decision, received_at: datetime, correlation_id: UUID) -> None:
        self.referrals[(referral.trust, referral.referral_id)] = decision

    async def assessment_started(self, episode_id: UUID, started_at: datetime) -> None:
        self.started.setdefault(episode_id, started_at)

    async def close_episode(self, episode_id: UUID, closed_at: datetime) -> None:
        self.closed.setdefault(episode_id, closed_at)

    async def overdue(self, now: datetime) -> list[tuple[PendingDeadline, UUID]]:
        return [(deadline, cid) for deadline, cid in self.pending if deadline.referral_id not in self.breached]

    async def mark_breached(self, trust: Trust, referral_id: str, at: datetime) -> None:
        self.breached.add(referral_id)

    async def directory_hash(self, trust: Trust) -> str | None:
        return self.digests.get(trust)

    async def directory_published(self, trust: Trust, content_hash: str, at: datetime) -> None:
        self.digests[trust] = content_hash


async def submit(store: FakeStore, submitted: ReferralSubmitted) -> FakeContext:
    ctx = FakeContext.for_event(submitted, store, DEPS)
    await handlers.on_referral_submitted(ctx, submitted)
    return ctx


async def test_an_accepted_referral_is_recorded_and_acknowledged_to_the_referrer() -> None:
    store, submitted = FakeStore(), referral(urgency=Urgency.VERY_URGENT)
    ctx = await submit(store, submitted)
    accepted = ctx.events(ReferralAccepted)
    assert len(accepted) == 1 and store.referrals[(submitted.trust, submitted.referral_id)] == accepted[0]
    assert [ack.referral_id for ack in ctx.events(ReferralAcknowledged)] == [submitted.referral_id]
    assert all(item.correlation_id == ctx.envelope.correlationid for item in ctx.emitted)


async def test_the_same_referral_resent_is_neither_recorded_again_nor_acknowledged_twice() -> None:
    store, submitted = FakeStore(), referral()
    await submit(store, submitted)
    again = await submit(store, submitted)
    assert again.emitted == [] and len(store.referrals) == 1


async def test_a_second_referral_for_a_patient_is_looked_up_by_the_number_without_its_spaces() -> None:
    """The store is asked for the checked number, so '943 476 5919' and '9434765919' are one patient."""
    store = FakeStore()
    await submit(store, referral(hc_number="943 476 5919"))
    await submit(store, referral(hc_number="9434765919"))
    assert list(store.patients) == ["9434765919"]


async def test_a_referral_with_a_bad_check_digit_is_rejected_before_anything_is_stored() -> None:
    store = FakeStore()
    with pytest.raises(InvalidEvent):
        await submit(store, referral(hc_number="943 476 5918"))
    assert store.patients == {} and store.referrals == {}


async def test_a_referral_for_a_patient_with_an_open_episode_is_linked_to_it() -> None:
    episode = uuid4()
    store = FakeStore(patients={"9434765919": KnownPatient(uuid4(), known=True, open_episode_id=episode)})
    ctx = await submit(store, referral())
    assert [linked.episode_id for linked in ctx.events(ReferralLinked)] == [episode]


async def test_a_declined_referral_is_recorded_with_its_reason() -> None:
    store, submitted = FakeStore(), referral(source=ReferralSource.KNOWN_PATIENT)
    ctx = await submit(store, submitted)
    assert isinstance(store.referrals[(submitted.trust, submitted.referral_id)], ReferralDeclined)
    assert ctx.events(ReferralDeclined) and not ctx.events(ReferralAccepted)


async def test_an_assessment_starting_and_an_episode_closing_are_stored_and_emit_nothing() -> None:
    store, episode = FakeStore(), uuid4()
    started = AssessmentStarted(episode_id=episode, patient_id=uuid4(), started_at=NOW)
    ctx = FakeContext.for_event(started, store, DEPS)
    await handlers.on_assessment_started(ctx, started)
    closed = EpisodeClosed(episode_id=episode, patient_id=started.patient_id, visits_completed=9, closed_at=NOW + timedelta(days=9))
    await handlers.on_episode_closed(ctx, closed)
    assert store.started == {episode: NOW} and store.closed == {episode: NOW + timedelta(days=9)}
    assert ctx.emitted == []


def overdue_deadline(referral_id: str, hours_late: float) -> PendingDeadline:
    return PendingDeadline(
        referral_id=referral_id, patient_id=uuid4(), episode_id=uuid4(), trust=Trust.BELFAST,
        urgency=Urgency.VERY_URGENT, assess_by=NOW - timedelta(hours=hours_late), ed_arrived_at=None,
    )


async def test_each_overdue_referral_is_breached_once_in_its_own_journey() -> None:
    journey = uuid4()
    store = FakeStore(pending=[(overdue_deadline("GP-1", 1), journey)])
    ctx = FakeContext(store, DEPS)
    await handlers.check_deadlines(ctx)
    await handlers.check_deadlines(ctx)
    breaches = ctx.events(ResponseTargetBreached)
    assert [breach.referral_id for breach in breaches] == ["GP-1"] and store.breached == {"GP-1"}
    assert ctx.emitted[0].correlation_id == journey


async def test_the_directory_is_published_for_every_trust_at_first_start_and_not_again_unchanged() -> None:
    store = FakeStore()
    first = FakeContext(store, DEPS)
    await handlers.publish_directory(first)
    assert {event.trust for event in first.events(ServiceDirectoryPublished)} == set(Trust)
    second = FakeContext(store, DEPS)
    await handlers.publish_directory(second)
    assert second.emitted == []
