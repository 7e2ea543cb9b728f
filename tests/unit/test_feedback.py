"""The patient's and carer's voice, pure: who is invited and in what words, and a team's totals that
never show one person's answers (the discharge service's `feedback` and the board's)."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts import (
    Answer,
    FeedbackAnswers,
    FeedbackReceived,
    InformationCategory,
    Question,
    Recipient,
    TeamFeedbackSummarised,
    Trust,
)
from services.board import feedback as board_feedback
from services.discharge import feedback
from services.discharge.domain import Episode
from shared.privacy.consent import ConsentState, Recorded

NOW = datetime(2026, 12, 6, 14, 0, tzinfo=UTC)
EPISODE = Episode(uuid4(), uuid4(), visits_completed=9, closed_at=None, trust="belfast")
C = InformationCategory


def answers(**given: Answer) -> FeedbackAnswers:
    return FeedbackAnswers(**given)


def sent(disclosures: list) -> dict[str, str]:  # noqa: ANN001
    return {d.recipient: d.event.text for d in disclosures if d.event is not None}


# --- Who is invited, and in what words -----------------------------------------------------------

def test_at_discharge_the_patient_and_a_carer_with_consent_for_the_arrangements_are_invited_and_others_are_not() -> None:
    state = ConsentState((Recorded("carer:c1", frozenset({C.DISCHARGE_ARRANGEMENTS}), True),))
    invited = feedback.invitations(EPISODE, ["c1", "c2"], state, NOW, midway=False)
    assert set(sent(invited)) == {"patient", "carer:c1"}
    assert {d.recipient: bool(d.decision.permitted) for d in invited} == {"patient": True, "carer:c1": True, "carer:c2": False}
    assert all(d.event.kind == "feedback-invited" for d in invited if d.event is not None)
    assert sent(invited)["patient"].startswith("Your home treatment has now ended.")
    assert sent(invited)["carer:c1"].startswith("Home treatment for the person you care for has now ended.")


def test_a_carer_the_patient_asked_not_to_be_told_is_never_invited_midway_or_at_discharge() -> None:
    state = ConsentState((Recorded("carer:c1", frozenset(C), False, do_not_tell=True),))
    for midway in (True, False):
        assert set(sent(feedback.invitations(EPISODE, ["c1"], state, NOW, midway=midway))) == {"patient"}


def test_midway_a_carer_who_may_have_general_information_is_asked_how_it_is_going() -> None:
    invited = sent(feedback.invitations(EPISODE, ["c1"], ConsentState(), NOW, midway=True))
    assert set(invited) == {"patient", "carer:c1"}, "carers may have general information by default"
    assert "two weeks" in invited["patient"] and "how it is going" in invited["carer:c1"]


def test_the_invitation_promises_only_what_carepath_does_with_the_answers() -> None:
    """Totals only, the name never shown with them, the words not passed on, and care unchanged."""
    text = feedback.invitation_text(Recipient.patient(), midway=False)
    assert "only added up with other people's" in text and "not passed on" in text and "will not change your care" in text
    assert "five questions" in text and len(Question) == 5


def test_a_patient_who_needs_easy_read_is_invited_in_easy_read_and_their_carer_in_the_standard_words() -> None:
    from dataclasses import replace

    state = ConsentState((Recorded("carer:c1", frozenset({C.DISCHARGE_ARRANGEMENTS}), True),))
    invited = {d.recipient: d.event for d in feedback.invitations(replace(EPISODE, easy_read=True), ["c1"], state, NOW, midway=False)}
    assert invited["patient"].easy_read and invited["patient"].text == feedback.easy_invitation_text(False)
    assert not invited["carer:c1"].easy_read and invited["carer:c1"].text == feedback.invitation_text(Recipient.carer("c1"), False)


# --- The team's totals -------------------------------------------------------------------------------

def test_fewer_than_five_responses_are_counted_but_their_answers_are_withheld() -> None:
    summary = feedback.summary("htcr:belfast", Trust.BELFAST, "2026-12", [answers(listened_to=Answer.NO)] * 4, NOW)
    assert (summary.responses, summary.counted, summary.questions) == (4, 0, ())


def test_the_totals_move_in_steps_of_five_so_one_new_answer_never_shows_by_difference() -> None:
    """Six responses count the first five; the sixth's 'no' is not in any total until ten."""
    five_yes = [answers(listened_to=Answer.YES)] * 5
    sixth = feedback.summary("htcr:belfast", Trust.BELFAST, "2026-12", [*five_yes, answers(listened_to=Answer.NO)], NOW)
    fifth = feedback.summary("htcr:belfast", Trust.BELFAST, "2026-12", five_yes, NOW)
    assert (sixth.responses, sixth.counted) == (6, 5)
    assert sixth.questions == fifth.questions
    [listened] = [t for t in sixth.questions if t.question is Question.LISTENED_TO]
    assert (listened.answered, listened.yes, listened.partly, listened.no) == (5, 5, 0, 0)


def test_a_question_fewer_than_five_of_those_counted_answered_shows_only_how_many_answered_it() -> None:
    rows = [answers(listened_to=Answer.YES, carer_included=Answer.NO if n < 2 else None) for n in range(5)]
    summary = feedback.summary("htcr:belfast", Trust.BELFAST, "2026-12", rows, NOW)
    totals = {t.question: t for t in summary.questions}
    assert set(totals) == set(Question)
    assert (totals[Question.CARER_INCLUDED].answered, totals[Question.CARER_INCLUDED].no) == (2, None)
    assert (totals[Question.LISTENED_TO].yes, totals[Question.LISTENED_TO].no) == (5, 0)


def test_the_summary_carries_no_field_for_words_or_people() -> None:
    fields = set(TeamFeedbackSummarised.model_fields)
    assert fields == {"team", "trust", "period", "responses", "counted", "minimum", "questions", "summarised_at"}


def test_an_answer_counts_in_the_month_it_was_received_in_northern_ireland() -> None:
    assert feedback.period_of(datetime(2026, 10, 31, 23, 30, tzinfo=UTC)) == "2026-10"  # still GMT
    assert feedback.period_of(datetime(2026, 7, 31, 23, 30, tzinfo=UTC)) == "2026-08"  # 00:30 BST on 1 August
    assert feedback.team_of("western") == "htcr:western" and feedback.team_of(None) is None


def test_free_text_is_bounded_and_marked_sensitive_and_a_respondent_is_the_patient_or_a_named_carer() -> None:
    schema = FeedbackReceived.model_json_schema()["properties"]
    assert schema["free_text"]["x-sensitive"] is True and {"maxLength": 2000, "type": "string"} in schema["free_text"]["anyOf"]
    base = {"feedback_id": uuid4(), "patient_id": uuid4(), "episode_id": uuid4(), "received_at": NOW}
    for who in ("patient", "carer:mum-1"):
        FeedbackReceived(**base, respondent=who)
    for who in ("the family", "gp", "carer:"):
        with pytest.raises(ValidationError):
            FeedbackReceived(**base, respondent=who)


# --- On the board ------------------------------------------------------------------------------------

def summarised(responses: int, counted: int, at: datetime = NOW) -> TeamFeedbackSummarised:
    rows = [answers(listened_to=Answer.YES, knew_who_was_coming=Answer.PARTLY)] * responses
    made = feedback.summary("htcr:belfast", Trust.BELFAST, "2026-12", rows, at)
    assert made.counted == counted
    return made


def test_the_board_keeps_the_summary_counting_the_most_responses_whatever_order_they_arrive_in() -> None:
    four, six = summarised(4, 0), summarised(6, 5, NOW + timedelta(minutes=1))
    assert board_feedback.latest(None, four) == four
    assert board_feedback.latest(four, six) == six
    assert board_feedback.latest(six, four) == six, "an older summary read again changes nothing"


def test_the_board_says_why_totals_are_withheld_and_shows_counts_once_there_are_enough() -> None:
    withheld = board_feedback.view(summarised(3, 0), "2026-12")
    assert withheld.month == "December 2026" and withheld.rows == ()
    assert withheld.headline.startswith("3 responses in December 2026: fewer than 5, so the totals are withheld")
    shown = board_feedback.view(summarised(7, 5), "2026-12")
    assert "the totals cover the first 5" in shown.headline
    rows = {row.question: row for row in shown.rows}
    assert rows["Felt listened to"].shown == "yes 5, partly 0, no 0 (of 5 who answered it)"
    assert rows["Family or carers included as the patient wished"].shown == "withheld: 0 answered it, fewer than 5"
    nothing = board_feedback.view(None, "2026-11")
    assert nothing.headline == "No feedback from patients or carers received in November 2026 yet."


def test_the_command_prints_the_months_feedback_after_the_figures() -> None:
    lines = board_feedback.text_lines(board_feedback.view(summarised(5, 5), "2026-12"))
    assert lines[0].startswith("What patients and carers said, December 2026: 5 responses")
    assert any("Knew who was coming to each visit, and when" in line and "partly 5" in line for line in lines[1:])
    assert board_feedback.period_of_week(datetime(2026, 11, 30).date()) == "2026-11"
