"""What patients and carers told a team, pure: the latest totals of its month (counts only, as the
discharge service publishes them: never a person's answers or words), and the words they are
shown in on the fidelity page and by `carepath fidelity`."""

from datetime import date

from contracts import Question, QuestionTotals, TeamFeedbackSummarised
from services.board.view import FeedbackRow, TeamFeedback

QUESTION_WORDS = {
    Question.LISTENED_TO: "Felt listened to",
    Question.INVOLVED_IN_DECISIONS: "Involved in decisions about their care",
    Question.KNEW_WHO_WAS_COMING: "Knew who was coming to each visit, and when",
    Question.TOLD_BEFORE_DISCHARGE: "Told in good time before home treatment ended",
    Question.CARER_INCLUDED: "Family or carers included as the patient wished",
}


def period_of_week(week_monday: date) -> str:
    """The month whose feedback a week's fidelity page shows: the month the week starts in."""
    return f"{week_monday:%Y-%m}"


def latest(kept: TeamFeedbackSummarised | None, summary: TeamFeedbackSummarised) -> TeamFeedbackSummarised:
    """The summary counting the most responses: one redelivered, or read again in a rebuild, changes nothing."""
    if kept is not None and (kept.responses, kept.counted, kept.summarised_at) >= (summary.responses, summary.counted, summary.summarised_at):
        return kept
    return summary


def month_words(period: str) -> str:
    return f"{date.fromisoformat(period + '-01'):%B %Y}"


def headline(summary: TeamFeedbackSummarised | None, period: str) -> str:
    """One sentence: how many answered, and what the totals cover."""
    if summary is None or summary.responses == 0:
        return f"No feedback from patients or carers received in {month_words(period)} yet."
    responses = "1 response" if summary.responses == 1 else f"{summary.responses} responses"
    if summary.counted == 0:
        return (f"{responses} in {month_words(summary.period)}: fewer than {summary.minimum}, so the totals are withheld "
                "until no one person's answers could be picked out.")
    return (f"{responses} in {month_words(summary.period)}; the totals cover the first {summary.counted} "
            f"(counted in steps of {summary.minimum}, so that no one person's answers can be picked out).")


def answer_words(totals: QuestionTotals, minimum: int) -> str:
    """A question's totals: yes, partly, no out of those who answered it, or why they are withheld."""
    if totals.yes is None or totals.partly is None or totals.no is None:
        return f"withheld: {totals.answered} answered it, fewer than {minimum}"
    return f"yes {totals.yes}, partly {totals.partly}, no {totals.no} (of {totals.answered} who answered it)"


def view(summary: TeamFeedbackSummarised | None, period: str) -> TeamFeedback:
    """The month's feedback as the fidelity page and the command show it."""
    rows = tuple(
        FeedbackRow(question=QUESTION_WORDS[t.question], shown=answer_words(t, summary.minimum), answered=t.answered,
                    yes=t.yes, partly=t.partly, no=t.no)
        for t in (summary.questions if summary is not None else ())
    )
    return TeamFeedback(period=period, month=month_words(period), headline=headline(summary, period), rows=rows)


def text_lines(feedback: TeamFeedback) -> list[str]:
    """What `carepath fidelity` prints after the figures."""
    lines = [f"What patients and carers said, {feedback.month}: {feedback.headline}"]
    width = max((len(row.question) for row in feedback.rows), default=0)
    return lines + [f"  {row.question:<{width}}  {row.shown}" for row in feedback.rows]
