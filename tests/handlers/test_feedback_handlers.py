"""The discharge service's feedback handlers on a small fake store: who is invited and when, each
response kept once with its words sealed, and only the team's totals published."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts import (
    Answer,
    DisclosureAudited,
    FeedbackAnswers,
    FeedbackReceived,
    InformationCategory,
    NotificationSent,
    Sealed,
    TeamFeedbackSummarised,
)
from services.discharge import domain, handlers
from shared.privacy.consent import ConsentState, Recorded
from shared.runtime.errors import InvalidEvent, NotYetKnown
from tests.factories import NOW
from tests.fakes import FakeContext, FakePrivacy, FixedClock
from tests.handlers.test_discharge_handlers import DEPS, FakeStore, decided, ready_episode

WORDS = "Nobody told me who was coming; my mum did all the night shifts."


@dataclass
class FeedbackStore(FakeStore):
    """The discharge fake store, with the feedback table and the midway invitation."""

    responses: dict[UUID, tuple[FeedbackReceived, str | None, str, Sealed | None]] = field(default_factory=dict)
    invited: dict[UUID, datetime] = field(default_factory=dict)
    opened: dict[UUID, datetime] = field(default_factory=dict)

    async def save_feedback(self, answered: FeedbackReceived, team: str | None, period: str, words: Sealed | None, now: datetime) -> bool:
        if answered.feedback_id in self.responses:
            return False
        self.responses[answered.feedback_id] = (answered, team, period, words)
        return True

    async def feedback_answers(self, team: str, period: str) -> list[FeedbackAnswers]:
        return [a.answers for a, t, p, _ in self.responses.values() if (t, p) == (team, period)]

    async def open_episodes_not_invited(self, opened_before: datetime) -> list[UUID]:
        return [i for i, at in self.opened.items() if at <= opened_before and i not in self.invited and self.episodes[i].closed_at is None]

    async def mark_feedback_invited(self, episode_id: UUID, at: datetime) -> None:
        self.invited[episode_id] = at


def answered(episode: domain.Episode, respondent: str = "patient", words: str | None = None, **given: Answer) -> FeedbackReceived:
    return FeedbackReceived(feedback_id=uuid4(), patient_id=episode.patient_id, episode_id=episode.episode_id, respondent=respondent,
                            answers=FeedbackAnswers(**given), free_text=words, received_at=NOW)


def everything_emitted(ctx: FakeContext) -> str:
    return " ".join(event.model_dump_json() for event in ctx.events())


async def test_a_completed_discharge_invites_the_patient_and_the_carers_consent_allows_and_audits_each_decision() -> None:
    store = FeedbackStore()
    episode = ready_episode(store)
    store.carers_named[episode.episode_id] = ["carer-1", "carer-2"]
    privacy = FakePrivacy(consent_of={episode.patient_id: ConsentState((
        Recorded("carer:carer-1", frozenset({InformationCategory.DISCHARGE_ARRANGEMENTS}), True),
        Recorded("carer:carer-2", frozenset(InformationCategory), False, do_not_tell=True),
    ))})
    ctx = FakeContext(store, DEPS, clock=FixedClock(NOW), privacy=privacy)
    await handlers.on_discharge_decided(ctx, decided(episode))
    invited = {note.recipient for note in ctx.events(NotificationSent) if note.kind == "feedback-invited"}
    assert invited == {"patient", "carer:carer-1"}
    audited = {(a.recipient, a.permitted) for a in ctx.events(DisclosureAudited)
               if a.via == NotificationSent.cloudevents_type()}
    assert audited == {("patient", True), ("carer:carer-1", True), ("carer:carer-2", False)}


async def test_an_episode_open_two_weeks_is_asked_midway_once_and_a_younger_one_not_yet() -> None:
    store = FeedbackStore()
    long, young = ready_episode(store), ready_episode(store)
    store.opened |= {long.episode_id: NOW - timedelta(days=14, minutes=1), young.episode_id: NOW - timedelta(days=13)}
    for _ in range(3):
        ctx = FakeContext(store, DEPS, clock=FixedClock(NOW), privacy=FakePrivacy())
        await handlers.invite_feedback_midway(ctx)
        if _ == 0:
            [note] = ctx.events(NotificationSent)
            assert (note.episode_id, note.kind, note.recipient) == (long.episode_id, "feedback-invited", "patient")
            assert "two weeks" in note.text
        else:
            assert ctx.events(NotificationSent) == []
    assert set(store.invited) == {long.episode_id}


async def test_a_closed_episode_is_never_asked_midway() -> None:
    store = FeedbackStore()
    closed = ready_episode(store, closed_at=NOW - timedelta(days=1))
    store.opened[closed.episode_id] = NOW - timedelta(days=30)
    ctx = FakeContext(store, DEPS, clock=FixedClock(NOW), privacy=FakePrivacy())
    await handlers.invite_feedback_midway(ctx)
    assert ctx.events() == [] and store.invited == {}


async def test_an_answer_is_kept_with_its_words_sealed_and_only_the_teams_totals_are_published() -> None:
    store = FeedbackStore()
    episode = ready_episode(store)
    privacy = FakePrivacy()
    ctx = FakeContext(store, DEPS, clock=FixedClock(NOW), privacy=privacy)
    response = answered(episode, "carer:carer-1", WORDS, listened_to=Answer.NO)
    await handlers.on_feedback_received(ctx, response)
    [summary] = ctx.events()
    assert isinstance(summary, TeamFeedbackSummarised)
    assert (summary.team, summary.period, summary.responses, summary.counted, summary.questions) == ("htcr:belfast", "2026-11", 1, 0, ())
    kept, team, period, sealed = store.responses[response.feedback_id]
    assert sealed is not None and privacy.kept[sealed.key_id] == (episode.patient_id, "feedback", str(response.feedback_id), WORDS)
    assert WORDS not in everything_emitted(ctx) and "carer-1" not in everything_emitted(ctx)
    assert ctx.committing_soon, "the team's lock is let go as soon as the answer is kept"


async def test_the_fifth_answer_publishes_the_first_totals_and_the_same_response_again_changes_nothing() -> None:
    store = FeedbackStore()
    episode = ready_episode(store)
    ctx = FakeContext(store, DEPS, clock=FixedClock(NOW), privacy=FakePrivacy())
    responses = [answered(episode, f"carer:c{n}", knew_who_was_coming=Answer.YES if n else Answer.NO) for n in range(5)]
    for response in responses:
        await handlers.on_feedback_received(ctx, response)
    await handlers.on_feedback_received(ctx, responses[0])  # the form sent it again, under a new event id
    summaries = ctx.events(TeamFeedbackSummarised)
    assert [s.counted for s in summaries] == [0, 0, 0, 0, 5] and len(store.responses) == 5
    [knew] = [t for t in summaries[-1].questions if t.question.value == "knew-who-was-coming"]
    assert (knew.yes, knew.partly, knew.no) == (4, 0, 1)


async def test_an_answer_without_words_seals_nothing() -> None:
    store = FeedbackStore()
    episode = ready_episode(store)
    privacy = FakePrivacy()
    await handlers.on_feedback_received(FakeContext(store, DEPS, clock=FixedClock(NOW), privacy=privacy), answered(episode, listened_to=Answer.YES))
    assert privacy.kept == {} and [words for *_, words in store.responses.values()] == [None]


async def test_an_answer_for_an_episode_not_heard_of_yet_waits_for_it_and_one_for_another_patient_is_refused() -> None:
    store = FeedbackStore()
    with pytest.raises(NotYetKnown):
        await handlers.on_feedback_received(FakeContext(store, DEPS), answered(domain.Episode(uuid4(), uuid4(), 0, None)))
    episode = ready_episode(store)
    with pytest.raises(InvalidEvent):
        await handlers.on_feedback_received(FakeContext(store, DEPS), answered(replace(episode, patient_id=uuid4())))
    assert store.responses == {}


async def test_an_answer_for_an_episode_with_no_trust_is_kept_but_summarises_no_team() -> None:
    store = FeedbackStore()
    episode = ready_episode(store, trust=None)
    ctx = FakeContext(store, DEPS, clock=FixedClock(NOW), privacy=FakePrivacy())
    await handlers.on_feedback_received(ctx, answered(episode, listened_to=Answer.YES))
    assert ctx.events() == [] and len(store.responses) == 1


def test_the_feedback_topic_is_read_by_the_discharge_service_alone_and_written_by_the_feedback_form_alone() -> None:
    from contracts.access import PRINCIPALS, writers
    from contracts.topics import FEEDBACK_INBOUND

    assert writers(FEEDBACK_INBOUND) == ["feedback-form"]
    assert [p.name for p in PRINCIPALS if FEEDBACK_INBOUND in p.reads] == ["discharge"]
    assert FeedbackReceived in handlers.HANDLERS
