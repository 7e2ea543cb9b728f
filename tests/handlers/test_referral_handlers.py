"""The referral service's handlers on a small fake store: what each one stores and emits."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts import (
    AssessmentCompleted,
    AssessmentStarted,
    DisclosureAudited,
    EpisodeClosed,
    InformationCategory,
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralDeclined,
    ReferralLinked,
    ReferralSource,
    ReferralStatusChanged,
    ReferralSubmitted,
    ReferrerStatus,
    ResponseTargetBreached,
    ServiceDirectoryPublished,
    Trust,
    Urgency,
    VisitCompleted,
    VisitMissed,
)
from contracts.assessment import Pathway
from services.referral import handlers
from services.referral.closed_loop import Progress, Referrer
from services.referral.domain import Decision, KnownPatient, PendingDeadline
from services.referral.store import ReferredEpisode
from shared.privacy.consent import ConsentState, Recorded
from services.referral.rules import load_rules
from shared.reference.directory import load_directory
from shared.runtime.errors import InvalidEvent, NotYetKnown
from tests.factories import NOW, envelope_for, referral
from tests.fakes import FakeContext

DEPS = handlers.Dependencies(rules=load_rules(), directory=load_directory())


@dataclass
class FakeStore:
    """The referral store's methods over dictionaries."""

    patients: dict[str, KnownPatient] = field(default_factory=dict)  # by checked H&C number
    referrals: dict[tuple[str, str], tuple[Decision, UUID]] = field(default_factory=dict)  # by (referring system, id)
    started: dict[UUID, datetime] = field(default_factory=dict)
    closed: dict[UUID, datetime] = field(default_factory=dict)
    pending: list[tuple[PendingDeadline, UUID, str | None]] = field(default_factory=list)  # with the journey and its trace
    traces: dict[tuple[str, str], str | None] = field(default_factory=dict)  # the trace each referral was recorded in
    breached: set[UUID] = field(default_factory=set)  # episodes
    digests: dict[Trust, str] = field(default_factory=dict)
    episodes: dict[UUID, ReferredEpisode] = field(default_factory=dict)  # opened here, with their referrers
    told: dict[UUID, Progress] = field(default_factory=dict)  # what each episode's referrers have heard

    async def referred_patient(self, referring_system: str, referral_id: str) -> UUID | None:
        earlier = self.referrals.get((referring_system, referral_id))
        return earlier[1] if earlier else None

    async def patient_with(self, hc_number: str) -> UUID | None:
        return self.patients[hc_number].patient_id if hc_number in self.patients else None

    async def find_or_add_patient(self, referral: ReferralSubmitted, hc_number: str, new_id: UUID) -> KnownPatient:
        return self.patients.setdefault(hc_number, KnownPatient(new_id, known=False, open_episode_id=None))

    async def record(self, referral: ReferralSubmitted, referring_system: str, decision: Decision, received_at: datetime,
                     correlation_id: UUID, trace: str | None = None) -> None:
        self.referrals[(referring_system, referral.referral_id)] = (decision, decision.patient_id)
        self.traces[(referring_system, referral.referral_id)] = trace

    async def assessment_started(self, episode_id: UUID, started_at: datetime) -> None:
        self.started.setdefault(episode_id, started_at)

    async def close_episode(self, episode_id: UUID, closed_at: datetime) -> None:
        self.closed.setdefault(episode_id, closed_at)

    async def referred_episode(self, episode_id: UUID) -> ReferredEpisode | None:
        return self.episodes.get(episode_id)

    async def progress(self, episode_id: UUID) -> Progress:
        return self.told.get(episode_id, Progress())

    async def save_progress(self, episode_id: UUID, progress: Progress, at: datetime) -> None:
        self.told[episode_id] = progress

    async def overdue(self, now: datetime) -> list[tuple[PendingDeadline, UUID, str | None]]:
        return [(deadline, cid, trace) for deadline, cid, trace in self.pending if deadline.episode_id not in self.breached]

    async def mark_breached(self, episode_id: UUID, at: datetime) -> None:
        self.breached.add(episode_id)

    async def directory_hash(self, trust: Trust) -> str | None:
        return self.digests.get(trust)

    async def directory_published(self, trust: Trust, content_hash: str, at: datetime) -> None:
        self.digests[trust] = content_hash


GP_SYSTEM = "/trust/belfast/gp-system"


async def submit(store: FakeStore, submitted: ReferralSubmitted, system: str = GP_SYSTEM) -> FakeContext:
    ctx = FakeContext(store, DEPS, envelope=envelope_for(submitted, source=system))
    await handlers.on_referral_submitted(ctx, submitted)
    return ctx


async def test_an_accepted_referral_is_recorded_and_acknowledged_to_the_referrer() -> None:
    store, submitted = FakeStore(), referral(urgency=Urgency.VERY_URGENT)
    ctx = await submit(store, submitted)
    accepted = ctx.events(ReferralAccepted)
    assert len(accepted) == 1 and store.referrals[(GP_SYSTEM, submitted.referral_id)][0] == accepted[0]
    assert [ack.referral_id for ack in ctx.events(ReferralAcknowledged)] == [submitted.referral_id]
    assert all(item.correlation_id == ctx.envelope.correlationid for item in ctx.emitted)


async def test_a_referral_is_recorded_with_the_trace_it_was_handled_in_for_its_breach_to_join() -> None:
    store, submitted = FakeStore(), referral()
    ctx = FakeContext(store, DEPS, envelope=envelope_for(submitted, source=GP_SYSTEM),
                      trace="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    await handlers.on_referral_submitted(ctx, submitted)
    assert store.traces[(GP_SYSTEM, submitted.referral_id)] == ctx.trace


async def test_the_same_referral_resent_is_neither_recorded_again_nor_acknowledged_twice() -> None:
    store, submitted = FakeStore(), referral()
    await submit(store, submitted)
    again = await submit(store, submitted)
    assert again.emitted == [] and len(store.referrals) == 1


async def test_the_same_referral_id_from_another_referring_system_is_another_referral() -> None:
    """Ids are unique per referring system only: an ED system may use the id a GP system used."""
    store, submitted = FakeStore(), referral()
    await submit(store, submitted)
    from_ed = await submit(store, submitted, system="/trust/belfast/ed-system")
    assert from_ed.events(ReferralAcknowledged) and set(store.referrals) == {
        (GP_SYSTEM, submitted.referral_id), ("/trust/belfast/ed-system", submitted.referral_id)
    }


async def test_a_referral_id_reused_by_its_system_for_another_patient_is_rejected_not_dropped() -> None:
    store, first = FakeStore(), referral(hc_number="943 476 5919")
    await submit(store, first)
    with pytest.raises(InvalidEvent, match="already used by this referring system .* for another patient"):
        await submit(store, first.model_copy(update={"hc_number": "440 495 8889"}))
    assert len(store.referrals) == 1 and list(store.patients) == ["9434765919"]


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
    assert isinstance(store.referrals[(GP_SYSTEM, submitted.referral_id)][0], ReferralDeclined)
    assert ctx.events(ReferralDeclined) and not ctx.events(ReferralAccepted)


async def test_an_assessment_starting_and_an_episode_closing_are_stored_and_an_ed_referrer_hears_nothing_more() -> None:
    store, episode, patient = FakeStore(), uuid4(), uuid4()
    store.episodes[episode] = ReferredEpisode(patient, [Referrer("ED-1", "/trust/belfast/ed-system", ReferralSource.EMERGENCY_DEPARTMENT, Trust.BELFAST)])
    started = AssessmentStarted(episode_id=episode, patient_id=patient, started_at=NOW)
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


async def test_each_overdue_referral_is_breached_once_in_its_own_journey_and_trace() -> None:
    journey = uuid4()
    trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    store = FakeStore(pending=[(overdue_deadline("GP-1", 1), journey, trace)])
    ctx = FakeContext(store, DEPS)
    await handlers.check_deadlines(ctx)
    await handlers.check_deadlines(ctx)
    breaches = ctx.events(ResponseTargetBreached)
    assert [breach.referral_id for breach in breaches] == ["GP-1"] and store.breached == {store.pending[0][0].episode_id}
    assert (ctx.emitted[0].correlation_id, ctx.emitted[0].trace) == (journey, trace)


async def test_the_directory_is_published_for_every_trust_at_first_start_and_not_again_unchanged() -> None:
    store = FakeStore()
    first = FakeContext(store, DEPS)
    await handlers.publish_directory(first)
    assert {event.trust for event in first.events(ServiceDirectoryPublished)} == set(Trust)
    second = FakeContext(store, DEPS)
    await handlers.publish_directory(second)
    assert second.emitted == []


GP_REFERRER = Referrer("GP-1", GP_SYSTEM, ReferralSource.GP, Trust.BELFAST)


def referred_episode(store: FakeStore, *referrers: Referrer) -> tuple[UUID, UUID]:
    patient, episode = uuid4(), uuid4()
    store.episodes[episode] = ReferredEpisode(patient, list(referrers or (GP_REFERRER,)))
    return patient, episode


def assessed(patient: UUID, episode: UUID, outcome: Pathway = Pathway.HOME_TREATMENT, at: datetime = NOW) -> AssessmentCompleted:
    return AssessmentCompleted(assessment_id=uuid4(), patient_id=patient, episode_id=episode, outcome=outcome, assessed_at=at)


def missed(patient: UUID, episode: UUID, hours: int) -> VisitMissed:
    at = NOW + timedelta(hours=hours)
    return VisitMissed(visit_id=uuid4(), patient_id=patient, episode_id=episode, window_end=at, detected_at=at)


def completed(patient: UUID, episode: UUID, hours: int) -> VisitCompleted:
    return VisitCompleted(visit_id=uuid4(), patient_id=patient, episode_id=episode, actual_minutes=50,
                          completed_at=NOW + timedelta(hours=hours))


async def handle_all(store: FakeStore, state: ConsentState, *events: object) -> FakeContext:
    """Every event through its handler, in one context that records all they emit."""
    ctx = FakeContext(store, DEPS)
    for event in events:
        ctx.privacy.consent_of[event.patient_id] = state
        await handlers.HANDLERS[type(event)](ctx, event)
    return ctx


async def test_the_referring_gp_hears_each_change_that_matters_once() -> None:
    store = FakeStore()
    patient, episode = referred_episode(store)
    closed = EpisodeClosed(patient_id=patient, episode_id=episode, visits_completed=3, closed_at=NOW + timedelta(days=9),
                           due_at=NOW + timedelta(days=12))
    ctx = await handle_all(
        store, ConsentState(),
        assessed(patient, episode), assessed(patient, episode),  # a reassessment deciding the same: nothing new
        completed(patient, episode, 20), completed(patient, episode, 44),  # only the first visit is news
        missed(patient, episode, 68), missed(patient, episode, 92), missed(patient, episode, 116),  # the 2nd and 3rd in a row
        completed(patient, episode, 140), missed(patient, episode, 164),  # a visit ends the run: one miss is not told
        closed, closed,
    )
    statuses = ctx.events(ReferralStatusChanged)
    assert [(s.status, s.outcome, s.missed_in_a_row) for s in statuses] == [
        (ReferrerStatus.ASSESSED, Pathway.HOME_TREATMENT, None), (ReferrerStatus.FIRST_VISIT, None, None),
        (ReferrerStatus.VISITS_MISSED, None, 2), (ReferrerStatus.VISITS_MISSED, None, 3), (ReferrerStatus.DISCHARGED, None, None),
    ]
    assert {(s.referral_id, s.referring_system) for s in statuses} == {("GP-1", GP_SYSTEM)}
    assert statuses[-1].follow_up_due_at == closed.due_at and "Referral GP-1: home treatment ended on" in statuses[-1].message
    audits = ctx.events(DisclosureAudited)
    assert len(audits) == 5 and all(a.permitted and a.recipient == "gp" for a in audits)
    assert [a.disclosure_event_id is not None for a in audits] == [True] * 5


async def test_a_reassessment_that_decides_on_admission_tells_the_referrer_the_patient_is_admitted() -> None:
    store = FakeStore()
    patient, episode = referred_episode(store)
    ctx = await handle_all(store, ConsentState(), assessed(patient, episode),
                           assessed(patient, episode, Pathway.INPATIENT_ADMISSION, NOW + timedelta(days=2)))
    assert [s.status for s in ctx.events(ReferralStatusChanged)] == [ReferrerStatus.ASSESSED, ReferrerStatus.ADMITTED]
    assert "being admitted to a ward" in ctx.events(ReferralStatusChanged)[1].message


async def test_a_gp_the_patient_asked_not_to_be_told_hears_nothing_and_each_refusal_is_audited() -> None:
    store = FakeStore()
    patient, episode = referred_episode(store)
    not_told = ConsentState((Recorded("gp", frozenset(InformationCategory), permit=False, consent_id=uuid4(), do_not_tell=True),))
    ctx = await handle_all(store, not_told, assessed(patient, episode), completed(patient, episode, 20))
    assert ctx.events(ReferralStatusChanged) == []
    audits = ctx.events(DisclosureAudited)
    assert len(audits) == 2 and not any(a.permitted for a in audits) and all(a.disclosure_event_id is None for a in audits)
    assert store.told[episode].seen_at_home, "what happened is still kept: a later change is told as it should be"


async def test_a_gp_denied_risk_hears_how_care_goes_but_not_of_missed_visits() -> None:
    store = FakeStore()
    patient, episode = referred_episode(store)
    no_risk = ConsentState((Recorded("gp", frozenset({InformationCategory.RISK}), permit=False, consent_id=uuid4()),))
    ctx = await handle_all(store, no_risk, assessed(patient, episode), missed(patient, episode, 20), missed(patient, episode, 44))
    assert [s.status for s in ctx.events(ReferralStatusChanged)] == [ReferrerStatus.ASSESSED]
    refused = [a for a in ctx.events(DisclosureAudited) if not a.permitted]
    assert len(refused) == 1 and refused[0].denied == (InformationCategory.RISK,)


async def test_each_referrer_of_an_episode_consent_names_is_told_and_a_self_referral_is_not() -> None:
    store = FakeStore()
    cmht = Referrer("CMHT-7", "/trust/belfast/htcr-clinical-system", ReferralSource.CMHT, Trust.BELFAST)
    self_referral = Referrer("SELF-1", "/trust/belfast/patient-portal", ReferralSource.KNOWN_PATIENT, Trust.BELFAST)
    patient, episode = referred_episode(store, GP_REFERRER, cmht, self_referral)
    ctx = await handle_all(store, ConsentState(), assessed(patient, episode))
    assert {(s.referral_id, s.referring_system) for s in ctx.events(ReferralStatusChanged)} == {
        ("GP-1", GP_SYSTEM), ("CMHT-7", "/trust/belfast/htcr-clinical-system")}
    assert {a.recipient for a in ctx.events(DisclosureAudited)} == {"gp", "cmht:belfast"}


async def test_a_change_in_an_episode_whose_referral_has_not_arrived_waits_for_it() -> None:
    store = FakeStore()
    with pytest.raises(NotYetKnown):
        await handle_all(store, ConsentState(), assessed(uuid4(), uuid4()))
    assert store.told == {}


async def test_a_change_naming_another_patients_episode_is_refused() -> None:
    store = FakeStore()
    _, episode = referred_episode(store)
    with pytest.raises(InvalidEvent):
        await handle_all(store, ConsentState(), completed(uuid4(), episode, 20))
