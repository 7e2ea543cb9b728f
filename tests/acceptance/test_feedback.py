"""The patient's and carer's voice on the real broker and databases: the invitation after discharge
(and midway through a long episode), answers sent by the Trust's feedback form, and a team's
totals on the board without any person's words anywhere but the inbound topic they came on.

This file runs a deployment of its own, with the board, as it moves the services' clock two weeks on."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest

from contracts import (
    Answer,
    FeedbackAnswers,
    FeedbackReceived,
    NotificationSent,
    Sealed,
    TeamFeedbackSummarised,
)
from shared.privacy import copies
from shared.privacy.keystore import PostgresKeyStore
from shared.runtime.db import connect_options
from tests.acceptance.conftest import a_deployment
from tests.acceptance.deployment import Deployment
from tools.journey import Journey
from tools.trust import TrustSystem

TEAM = "htcr:belfast"


@pytest.fixture(scope="module")
async def deployment(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    async with a_deployment(tmp_path_factory.mktemp("feedback"), board=True) as deployed:
        yield deployed


def invited(deployment: Deployment, episode_id: object) -> list[NotificationSent]:
    return deployment.log.events(NotificationSent, lambda e: e.episode_id == episode_id and e.kind == "feedback-invited")


async def open_words(deployment: Deployment, patient_id: object, feedback_id: object, sealed: Sealed) -> str:
    """The words as the discharge service could read them: with the key in its key store."""
    keys = await PostgresKeyStore.open(deployment.databases["discharge_keys"], min_size=1, max_size=1)
    conn = await asyncpg.connect(deployment.databases["discharge"], **connect_options(deployment.databases["discharge"]))
    try:
        return await copies.open_kept(conn, keys, patient_id, "feedback", str(feedback_id), sealed)
    finally:
        await conn.close()
        await keys.close()


async def test_a_feedback_round_trip_ends_in_a_team_aggregate_without_any_persons_words_in_it(
    deployment: Deployment, journey: Journey
) -> None:
    closed = await journey.run()
    invitation = await deployment.log.wait_for(
        NotificationSent, lambda e: e.episode_id == closed.episode_id and e.kind == "feedback-invited")
    assert invitation.recipient == "patient" and invitation.text.startswith("Your home treatment has now ended.")

    words = {respondent: f"Words-{uuid4().hex[:12]} of {respondent}: nobody said who was coming at night."
             for respondent in ("patient", "carer:fb-1", "carer:fb-2", "carer:fb-3", "carer:fb-4")}
    responses = [
        FeedbackReceived(
            feedback_id=uuid4(), patient_id=closed.patient_id, episode_id=closed.episode_id, respondent=respondent,
            answers=FeedbackAnswers(listened_to=Answer.YES if n else Answer.NO, knew_who_was_coming=Answer.PARTLY,
                                    carer_included=Answer.YES if n < 2 else None),
            free_text=text, received_at=datetime.now(UTC),
        )
        for n, (respondent, text) in enumerate(words.items())
    ]
    async with TrustSystem(deployment.kafka, deployment.prefix, "/trust/belfast/feedback-form") as form:
        for response in responses:
            await form.publish(response, correlation_id=journey.patient.correlation_id)
        await form.publish(responses[0])  # the form sends the first again, as a new event: counted once

    mine = lambda e: e.team == TEAM and e.period == f"{responses[0].received_at.astimezone(UTC):%Y-%m}"  # noqa: E731
    summary = await deployment.log.wait_for(TeamFeedbackSummarised, lambda e: mine(e) and e.counted == 5, timeout_s=60)
    await deployment.settled()

    assert len(invited(deployment, closed.episode_id)) == 1, "no carer is on record: the patient alone is invited"
    summaries = deployment.log.events(TeamFeedbackSummarised, mine)
    assert [s.responses for s in summaries] == [1, 2, 3, 4, 5], "one summary per response, the repeat not counted"
    assert [s.counted for s in summaries] == [0, 0, 0, 0, 5] and all(s.questions == () for s in summaries[:4])
    totals = {t.question.value: t for t in summary.questions}
    assert (totals["listened-to"].yes, totals["listened-to"].no, totals["listened-to"].answered) == (4, 1, 5)
    assert (totals["knew-who-was-coming"].partly, totals["carer-included"].answered, totals["carer-included"].yes) == (5, 2, None)

    # The words: on the inbound topic they came on, and nowhere else carepath writes.
    elsewhere = [logged for logged in deployment.log.seen if not logged.topic.endswith(".feedback.inbound")]
    published = " ".join((logged.event.model_dump_json() if logged.event else "") + str(logged.headers) + (logged.problem or "")
                         for logged in elsewhere)
    inbound = " ".join(logged.event.model_dump_json() for logged in deployment.log.seen
                       if logged.topic.endswith(".feedback.inbound") and logged.event)
    logs = deployment.log_text()
    for text in words.values():
        marker = text.split(" ")[0]
        assert marker in inbound, "the search finds the words where they are"
        assert marker not in published and marker not in logs
    assert not deployment.log.dead_letters()

    # Kept once each, the words sealed: not in the clear in the database, yet the service can open them.
    rows = await deployment.query("discharge", "SELECT * FROM feedback WHERE episode_id = $1 ORDER BY seq", closed.episode_id)
    assert [row["respondent"] for row in rows] == list(words)
    assert not any(text.split(" ")[0] in str(dict(row)) for row in rows for text in words.values())
    first = rows[0]
    sealed = Sealed(key_id=first["words_key"], ciphertext=first["words"])
    assert await open_words(deployment, closed.patient_id, first["feedback_id"], sealed) == words["patient"]

    # The board keeps the team's latest totals for its fidelity page and `carepath fidelity`.
    [kept] = await deployment.query("board", "SELECT state::text AS state FROM board_feedback WHERE team = $1", TEAM)
    on_board = TeamFeedbackSummarised.model_validate_json(kept["state"])
    assert (on_board.responses, on_board.counted) == (5, 5) and on_board.questions == summary.questions


async def test_an_episode_open_two_weeks_is_asked_how_it_is_going_once(deployment: Deployment, journey: Journey) -> None:
    accepted = await journey.refer()
    await journey.assess(accepted)
    await deployment.settled()
    assert invited(deployment, accepted.episode_id) == []
    try:
        deployment.move_clock(timedelta(days=14, hours=1))
        note = await deployment.log.wait_for(
            NotificationSent, lambda e: e.episode_id == accepted.episode_id and e.kind == "feedback-invited", timeout_s=60)
        await asyncio.sleep(3)  # the check runs every half second: several more times
        await deployment.settled(timeout_s=180)
    finally:
        deployment.move_clock(timedelta(0))
    assert len(invited(deployment, accepted.episode_id)) == 1
    assert note.recipient == "patient" and note.text.startswith("You have had home treatment from us for two weeks now.")
