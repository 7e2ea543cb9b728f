"""The discharge service's handlers and jobs on a small fake store: the gate, what each person
is sent as their consent allows, and the follow-up clock."""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts import (
    DischargeDecided,
    DischargeProposed,
    DischargeRefused,
    DischargeSummaryIssued,
    DisclosureAudited,
    EpisodeClosed,
    FollowUpBreached,
    FollowUpCompleted,
    FollowUpContactRecorded,
    FollowUpSource,
    GateCondition,
    NotificationSent,
    OnwardCare,
    SummaryContent,
)
from services.discharge import domain, handlers
from services.discharge.rules import load_rules
from shared.reference.directory import load_directory
from shared.runtime.errors import NotYetKnown
from tests.factories import NOW
from tests.fakes import FakeContext, FakePrivacy, FixedClock

DEPS = handlers.Dependencies(directory=load_directory(), rules=load_rules())


@dataclass
class FakeStore:
    """The discharge store's methods over dictionaries."""

    episodes: dict[UUID, domain.Episode] = field(default_factory=dict)
    carers_named: dict[UUID, list[str]] = field(default_factory=dict)
    closed: list[UUID] = field(default_factory=list)
    proposals: list[DischargeProposed] = field(default_factory=list)
    follow_ups: dict[UUID, domain.FollowUp] = field(default_factory=dict)
    breached: set[UUID] = field(default_factory=set)
    contacted: set[UUID] = field(default_factory=set)

    async def find_episode(self, episode_id: UUID) -> domain.Episode | None:
        return self.episodes.get(episode_id)

    async def save_proposal(self, proposal: DischargeProposed) -> None:
        self.proposals.append(proposal)

    async def carers(self, episode_id: UUID) -> list[str]:
        return self.carers_named.get(episode_id, [])

    async def close_episode(self, closed: EpisodeClosed, decided_by: str, reason: str) -> None:
        self.closed.append(closed.episode_id)

    async def start_follow_up(self, followup_id, patient_id, episode_id, source, trust, discharged_at, due_by) -> None:  # noqa: ANN001
        self.follow_ups.setdefault(followup_id, domain.FollowUp(followup_id, patient_id, episode_id, source, trust, discharged_at, due_by))

    async def contact(self, patient_id: UUID, at: datetime) -> list[tuple[UUID, datetime]]:
        stopped = [f for f in self.follow_ups.values() if f.patient_id == patient_id and f.followup_id not in self.contacted]
        self.contacted |= {f.followup_id for f in stopped}
        return [(f.followup_id, f.due) for f in stopped]

    async def open_follow_ups(self, now: datetime) -> list[domain.FollowUp]:
        return [f for i, f in self.follow_ups.items() if i not in self.contacted | self.breached and f.due <= now]

    async def mark_breached(self, followup_id: UUID, at: datetime) -> None:
        self.breached.add(followup_id)


def ready_episode(store: FakeStore, **fields: object) -> domain.Episode:
    episode = domain.Episode(
        uuid4(), uuid4(), visits_completed=9, closed_at=None, trust="belfast", patient_told=True,
        patient_told_at=NOW - timedelta(days=3), onward_to=OnwardCare.CMHT,  # told with the notice the gate asks for
        crisis_contacts_given=True, summary=SummaryContent(reason_for_care="Low mood.", medication="Sertraline."),
        crisis_contacts=("HTCR duty line 028 9649 6001",),
    )
    episode = replace(episode, **fields)
    store.episodes[episode.episode_id] = episode
    return episode


def decided(episode: domain.Episode) -> DischargeDecided:
    return DischargeDecided(patient_id=episode.patient_id, episode_id=episode.episode_id, decided_by="s-7", reason="Crisis resolved.", decided_at=NOW)


async def test_a_discharge_meeting_every_condition_closes_the_episode_sends_summaries_and_starts_the_follow_up_clock() -> None:
    store = FakeStore()
    episode = ready_episode(store)
    store.carers_named[episode.episode_id] = ["carer-1"]
    ctx = FakeContext(store, DEPS, clock=FixedClock(NOW), privacy=FakePrivacy())
    await handlers.on_discharge_decided(ctx, decided(episode))
    assert store.closed == [episode.episode_id] and len(ctx.events(EpisodeClosed)) == 1
    summaries = {copy.recipient for copy in ctx.events(DischargeSummaryIssued)}
    assert {"patient", "gp", "cmht:belfast"} <= summaries
    audited = {audit.recipient: audit.permitted for audit in ctx.events(DisclosureAudited)}
    assert set(audited) == {"patient", "gp", "cmht:belfast", "carer:carer-1"}, "every recipient's decision is audited"
    assert ["discharged", "feedback-invited"] == [note.kind for note in ctx.events(NotificationSent) if note.recipient == "patient"]
    (clock,) = store.follow_ups.values()
    assert clock.source is FollowUpSource.HOME_TREATMENT and clock.discharged_at == NOW


async def test_a_discharge_missing_a_condition_is_refused_naming_it_and_closes_nothing() -> None:
    store = FakeStore()
    episode = ready_episode(store, crisis_contacts_given=False)
    ctx = FakeContext(store, DEPS, clock=FixedClock(NOW))
    await handlers.on_discharge_decided(ctx, decided(episode))
    (refused,) = ctx.emitted
    assert isinstance(refused.event, DischargeRefused) and refused.event.missing == (GateCondition.CRISIS_CONTACTS_GIVEN,)
    assert store.closed == [] and store.follow_ups == {}


async def test_a_decision_for_an_episode_not_heard_of_yet_waits_for_it() -> None:
    episode = domain.Episode(uuid4(), uuid4(), 0, None)
    with pytest.raises(NotYetKnown):
        await handlers.on_discharge_decided(FakeContext(FakeStore(), DEPS), decided(episode))


async def test_a_planned_discharge_is_told_to_the_patient_with_their_wish_for_more_time() -> None:
    store = FakeStore()
    episode = ready_episode(store)
    proposal = DischargeProposed(
        patient_id=episode.patient_id, episode_id=episode.episode_id, proposed_by="s-7", planned_for=date(2026, 12, 10),
        reason="Crisis resolved.", patient_wants_more_time=True, proposed_at=NOW,
    )
    ctx = FakeContext(store, DEPS)
    await handlers.on_discharge_proposed(ctx, proposal)
    (told,) = ctx.events(NotificationSent)
    assert told.recipient == "patient" and "Thursday 10 December" in told.text and "more time" in told.text
    assert store.proposals == [proposal]


async def test_no_contact_72_hours_after_discharge_is_one_breach_and_an_alert_to_the_cmht() -> None:
    store = FakeStore()
    followup = domain.FollowUp(uuid4(), uuid4(), uuid4(), FollowUpSource.HOME_TREATMENT, "belfast", NOW - timedelta(hours=75))
    ward = domain.FollowUp(uuid4(), uuid4(), None, FollowUpSource.WARD, None, NOW - timedelta(hours=80))
    store.follow_ups = {followup.followup_id: followup, ward.followup_id: ward}
    ctx = FakeContext(store, DEPS, clock=FixedClock(NOW))
    await handlers.check_follow_ups(ctx)
    await handlers.check_follow_ups(ctx)
    assert sorted(b.hours_late for b in ctx.events(FollowUpBreached)) == [3, 8]
    assert [(n.recipient, n.kind) for n in ctx.events(NotificationSent)] == [("cmht:belfast", "follow-up-overdue")]


async def test_a_contact_stops_the_clock_and_says_whether_it_was_in_time() -> None:
    store = FakeStore()
    late = domain.FollowUp(uuid4(), uuid4(), uuid4(), FollowUpSource.HOME_TREATMENT, "belfast", NOW - timedelta(hours=73))
    store.follow_ups = {late.followup_id: late}
    contact = FollowUpContactRecorded(patient_id=late.patient_id, contact_by="s-3", contact_at=NOW)
    ctx = FakeContext(store, DEPS)
    await handlers.on_follow_up_contact(ctx, contact)
    await handlers.on_follow_up_contact(ctx, contact)
    assert [(c.followup_id, c.within_target) for c in ctx.events(FollowUpCompleted)] == [(late.followup_id, False)]
