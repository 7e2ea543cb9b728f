"""The discharge handlers follow each discharge's own follow-up clock and the Trust's notice rule
(on the fake store of test_discharge_handlers)."""

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

from contracts import (
    DischargeRefused,
    EpisodeClosed,
    FollowUpBreached,
    GateCondition,
    NotificationSent,
    Trust,
    WardDischargeRecorded,
)
from services.discharge import handlers
from services.discharge.rules import load_rules
from tests.factories import NOW
from tests.fakes import FakeContext, FakePrivacy, FixedClock
from tests.handlers.test_discharge_handlers import DEPS, FakeStore, decided, ready_episode

RULES = load_rules()
NOTICE_ON = replace(RULES, default=replace(RULES.default, discharge_notice=timedelta(hours=48)),
                    trusts={trust: replace(rules, discharge_notice=timedelta(hours=48)) for trust, rules in RULES.trusts.items()})


def ward(trust: Trust, risk: bool, hours_ago: float) -> WardDischargeRecorded:
    return WardDischargeRecorded(discharge_id=uuid4(), patient_id=uuid4(), trust=trust, ward="Ward 3",
                                 discharged_at=NOW - timedelta(hours=hours_ago), suicide_risk_identified=risk)


async def test_a_ward_discharge_with_a_risk_of_suicide_gets_48_hours_and_one_without_the_trusts_standard() -> None:
    store = FakeStore()
    ctx = FakeContext(store, DEPS, clock=FixedClock(NOW))
    risky, western, belfast = ward(Trust.WESTERN, True, 50), ward(Trust.WESTERN, False, 100), ward(Trust.BELFAST, False, 50)
    for event in (risky, western, belfast):
        await handlers.on_ward_discharge_recorded(ctx, event)
    due = {f.followup_id: f.due_by - f.discharged_at for f in store.follow_ups.values()}
    assert due == {risky.discharge_id: timedelta(hours=48), western.discharge_id: timedelta(hours=168),
                   belfast.discharge_id: timedelta(hours=72)}
    for _ in range(3):
        await handlers.check_follow_ups(ctx)
    assert [b.followup_id for b in ctx.events(FollowUpBreached)] == [risky.discharge_id]
    assert [n.text.split(" (")[0] for n in ctx.events(NotificationSent)] == ["No follow-up contact within 48 hours of discharge"]


async def test_a_home_treatment_discharge_with_a_risk_of_suicide_carries_a_48_hour_clock_and_breaches_once() -> None:
    store = FakeStore()
    episode = ready_episode(store, suicide_risk_identified=True)
    await handlers.on_discharge_decided(FakeContext(store, DEPS, clock=FixedClock(NOW), privacy=FakePrivacy()), decided(episode))
    (clock,) = store.follow_ups.values()
    assert clock.due_by == NOW + timedelta(hours=48)
    for hours in (47, 49, 49.5, 60):
        later = FakeContext(store, DEPS, clock=FixedClock(NOW + timedelta(hours=hours)))
        await handlers.check_follow_ups(later)
        assert len(later.events(FollowUpBreached)) == (1 if hours == 49 else 0)


async def test_the_closing_event_and_the_stored_clock_are_the_same_clock() -> None:
    store = FakeStore()
    episode = ready_episode(store, trust="western")
    ctx = FakeContext(store, DEPS, clock=FixedClock(NOW), privacy=FakePrivacy())
    await handlers.on_discharge_decided(ctx, decided(episode))
    [closed] = ctx.events(EpisodeClosed)
    (clock,) = store.follow_ups.values()
    assert closed.due_at == clock.due_by == NOW + timedelta(days=7)


async def test_with_the_notice_rule_on_a_discharge_the_patient_was_told_of_today_is_refused_with_the_reason() -> None:
    store = FakeStore()
    deps = replace(DEPS, rules=NOTICE_ON)
    episode = ready_episode(store, patient_told_at=NOW - timedelta(hours=2), planned_for=NOW.date())
    ctx = FakeContext(store, deps, clock=FixedClock(NOW), privacy=FakePrivacy())
    await handlers.on_discharge_decided(ctx, decided(episode))
    [refused] = ctx.events(DischargeRefused)
    assert refused.missing == (GateCondition.NOTICE_GIVEN,) and "not the 48 hours they must have" in refused.explanation
    assert store.closed == [] and store.follow_ups == {}
    sooner = ready_episode(store, patient_told_at=NOW - timedelta(hours=2), planned_for=NOW.date(), patient_asked_to_end_sooner=True)
    await handlers.on_discharge_decided(ctx, decided(sooner))
    assert store.closed == [sooner.episode_id]
