"""The assessment service's handlers on a small fake store: versions that carry only what
changed, the assessment following the patient to each team that takes over, and carers told
what their consent allows. (The consent events themselves are applied by the shared consent
handlers, on the real database: tests/acceptance/test_consent.py.)"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts import (
    AssessmentCompleted,
    AssessmentSections,
    AssessmentShared,
    AssessmentStarted,
    AssessmentSubmitted,
    AssessmentUpdated,
    AssessmentVersionRecorded,
    CarerInformationShared,
    DisclosureAudited,
    Pathway,
    ReferralAccepted,
    ReferralSource,
    SectionName,
    Trust,
)
from services.assessment import domain, handlers
from shared.runtime.errors import InvalidEvent, NotYetKnown
from tests.factories import NOW
from tests.fakes import FakeContext, FixedClock

RISK = {"to_self": "medium", "to_others": "low", "from_others": "none", "safeguarding_children": False,
        "safeguarding_adults": False, "details": "Thoughts of self-harm, no plan.", "risk_plan": "Daily visits."}
CRISIS_PLAN = {"warning_signs": ["stops eating"], "what_to_do": "Call the team.", "who_to_contact": ["HTCR duty line"]}
CARERS = {"composition": "Lives with partner.", "carers": [
    {"carer_id": "partner-1", "name": "Sam Morgan", "relationship": "partner", "contact": "07700 900123",
     "strain": "high", "carers_assessment": "offered"},
]}


@dataclass
class FakeStore:
    """The assessment store's methods over dictionaries."""

    episodes: dict[UUID, domain.KnownEpisode] = field(default_factory=dict)
    started: set[UUID] = field(default_factory=set)
    assessments: set[UUID] = field(default_factory=set)
    versions_of: dict[UUID, list[domain.Version]] = field(default_factory=dict)
    sources: dict[UUID, UUID] = field(default_factory=dict)  # source id: episode id
    teams: dict[UUID, list[str]] = field(default_factory=dict)

    async def add_episode(self, accepted: ReferralAccepted) -> None:
        self.episodes.setdefault(accepted.episode_id, domain.KnownEpisode(accepted.episode_id, accepted.patient_id, accepted.trust))

    async def find_episode(self, episode_id: UUID) -> domain.KnownEpisode | None:
        return self.episodes.get(episode_id)

    async def start(self, episode_id: UUID, patient_id: UUID, at: datetime) -> bool:
        first = episode_id not in self.started
        self.started.add(episode_id)
        return first

    async def add_assessment(self, submitted: AssessmentSubmitted, recorded_at: datetime) -> bool:
        first = submitted.assessment_id not in self.assessments
        self.assessments.add(submitted.assessment_id)
        return first

    async def versions(self, patient_id: UUID) -> list[domain.Version]:
        return list(self.versions_of.get(patient_id, []))

    async def add_version(self, patient_id, number, episode_id, source_id, sections, by, at) -> None:  # noqa: ANN001
        self.versions_of.setdefault(patient_id, []).append(domain.Version(number, sections))
        self.sources[source_id] = episode_id

    async def source_seen(self, source_id: UUID) -> bool:
        return source_id in self.sources

    async def join_care(self, patient_id: UUID, team: str, episode_id: UUID, at: datetime) -> bool:
        caring = self.teams.setdefault(patient_id, [])
        if team in caring:
            return False
        caring.append(team)
        return True

    async def caring_teams(self, patient_id: UUID) -> list[str]:
        return self.teams.get(patient_id, [])

    async def latest_episode(self, patient_id: UUID) -> UUID | None:
        return next(reversed(self.sources.values()), None)


def accepted(patient_id: UUID | None = None) -> ReferralAccepted:
    return ReferralAccepted(
        referral_id="GP-1", patient_id=patient_id or uuid4(), episode_id=uuid4(), trust=Trust.BELFAST, source=ReferralSource.GP,
        urgency=2, accepted_at=NOW, assess_by=NOW + timedelta(hours=4),
    )


def submitted(referral: ReferralAccepted, outcome: Pathway = Pathway.HOME_TREATMENT, **sections: dict) -> AssessmentSubmitted:
    return AssessmentSubmitted(
        assessment_id=uuid4(), patient_id=referral.patient_id, episode_id=referral.episode_id, outcome=outcome,
        outcome_reason="clinical text", assessed_by="staff-1", assessed_at=NOW,
        sections=AssessmentSections.model_validate(sections or {"risk": RISK}),
    )


def updated(referral: ReferralAccepted, **sections: dict) -> AssessmentUpdated:
    return AssessmentUpdated(
        update_id=uuid4(), patient_id=referral.patient_id, episode_id=referral.episode_id, updated_by="staff-2",
        updated_at=NOW, sections=AssessmentSections.model_validate(sections),
    )


async def handled(store: FakeStore, handler, event) -> FakeContext:  # noqa: ANN001
    ctx = FakeContext.for_event(event, store, clock=FixedClock(NOW))
    await handler(ctx, event)
    return ctx


async def test_a_first_assessment_is_version_one_starts_the_clock_and_completes_with_the_trust() -> None:
    store, referral = FakeStore(), accepted()
    await handled(store, handlers.on_referral_accepted, referral)
    ctx = await handled(store, handlers.on_assessment_submitted, submitted(referral))
    assert [v.assessment_version for v in ctx.events(AssessmentVersionRecorded)] == [1]
    assert len(ctx.events(AssessmentStarted)) == 1
    (done,) = ctx.events(AssessmentCompleted)
    assert done.assessment_version == 1 and done.trust is Trust.BELFAST


async def test_an_assessment_for_an_episode_not_accepted_yet_waits_and_another_patients_is_refused() -> None:
    store, referral = FakeStore(), accepted()
    with pytest.raises(NotYetKnown):
        await handled(store, handlers.on_assessment_submitted, submitted(referral))
    await handled(store, handlers.on_referral_accepted, referral)
    other = submitted(accepted()).model_copy(update={"episode_id": referral.episode_id})
    with pytest.raises(InvalidEvent, match="different patient"):
        await handled(store, handlers.on_assessment_submitted, other)


async def test_an_update_carries_only_what_changed_and_an_unchanged_one_makes_no_version() -> None:
    store, referral = FakeStore(), accepted()
    await handled(store, handlers.on_referral_accepted, referral)
    await handled(store, handlers.on_assessment_submitted, submitted(referral))
    same = await handled(store, handlers.on_assessment_updated, updated(referral, risk=RISK))
    assert same.emitted == []
    riskier = await handled(store, handlers.on_assessment_updated, updated(referral, risk=RISK | {"to_self": "high"}))
    (recorded,) = riskier.events(AssessmentVersionRecorded)
    assert recorded.assessment_version == 2 and recorded.changed_sections == (SectionName.RISK,)
    assert [copy.recipient for copy in riskier.events(AssessmentShared)] == ["htcr:belfast"]


async def test_the_team_taking_over_gets_the_whole_assessment_once() -> None:
    store, referral = FakeStore(), accepted()
    await handled(store, handlers.on_referral_accepted, referral)
    ctx = await handled(store, handlers.on_assessment_submitted, submitted(referral, Pathway.CMHT))
    joined = [copy for copy in ctx.events(AssessmentShared) if copy.reason == "joined"]
    assert [copy.recipient for copy in joined] == ["cmht:belfast"] and store.teams[referral.patient_id] == ["htcr:belfast", "cmht:belfast"]


async def test_a_known_patients_new_episode_starts_from_their_latest_assessment() -> None:
    store, first = FakeStore(), accepted()
    await handled(store, handlers.on_referral_accepted, first)
    await handled(store, handlers.on_assessment_submitted, submitted(first))
    store.teams.clear()  # the first episode ended: no team cares for the patient now
    again = await handled(store, handlers.on_referral_accepted, accepted(first.patient_id))
    (shared,) = again.events(AssessmentShared)
    assert shared.recipient == "htcr:belfast" and shared.reason == "joined" and shared.assessment_version == 1


async def test_a_new_crisis_plan_is_offered_to_each_named_carer_and_audited_whatever_consent_says() -> None:
    """With no decision recorded, a carer's default is general information: what the carer sheet holds."""
    store, referral = FakeStore(), accepted()
    await handled(store, handlers.on_referral_accepted, referral)
    await handled(store, handlers.on_assessment_submitted, submitted(referral))
    ctx = await handled(store, handlers.on_assessment_updated, updated(referral, crisis_plan=CRISIS_PLAN, family_and_carers=CARERS))
    assert [copy.recipient for copy in ctx.events(CarerInformationShared)] == ["carer:partner-1"]
    carer_audits = [a for a in ctx.events(DisclosureAudited) if a.recipient == "carer:partner-1"]
    assert len(carer_audits) == 1 and carer_audits[0].permitted
    unrelated = await handled(store, handlers.on_assessment_updated, updated(referral, risk=RISK | {"to_others": "medium"}))
    assert unrelated.events(CarerInformationShared) == [], "carers are re-sent only when what they are given changed"
