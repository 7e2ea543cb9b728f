"""The fidelity page shows what patients and carers told the team: the month's totals, or why they
are withheld, never a person's answers (on the fakes of test_board_web)."""

from dataclasses import replace
from datetime import timedelta

from contracts import Answer, FeedbackAnswers, Trust
from services.board import feedback as board_feedback
from services.discharge import feedback
from tests.board_fakes import NOW, WEEK, a_fidelity
from tests.unit.test_board_web import Site

TEAM = "htcr:belfast"


def page_with(tmp_path, responses: int) -> str:  # noqa: ANN001
    site = Site(tmp_path)
    rows = [FeedbackAnswers(listened_to=Answer.YES if n % 3 else Answer.NO, carer_included=Answer.PARTLY if n < 2 else None)
            for n in range(responses)]
    summary = feedback.summary(TEAM, Trust.BELFAST, "2026-12", rows, NOW - timedelta(hours=1))
    site.reader.weeks[(TEAM, WEEK)] = replace(a_fidelity(TEAM, WEEK), feedback=board_feedback.view(summary, "2026-12"))
    response = site.signed_in().get(f"/teams/{TEAM}/fidelity", params={"week": WEEK.isoformat()})
    assert response.status_code == 200
    return response.text


def test_the_fidelity_page_shows_the_months_totals_and_withholds_a_question_too_few_answered(tmp_path) -> None:  # noqa: ANN001
    html = page_with(tmp_path, 6)
    assert "What patients and carers said, December 2026" in html
    assert "6 responses in December 2026; the totals cover the first 5" in html
    assert '<tr class="feedback" data-question="Felt listened to">' in html
    row = html.split('data-question="Felt listened to">', 1)[1].split("</tr>", 1)[0]
    assert [cell.split(">", 1)[1].split("<", 1)[0] for cell in row.split("<td")[1:]] == ["Felt listened to", "3", "0", "2", "5"]
    assert "withheld: 2 answered it, fewer than 5" in html


def test_below_five_responses_the_page_says_how_many_and_shows_no_totals(tmp_path) -> None:  # noqa: ANN001
    html = page_with(tmp_path, 4)
    assert "4 responses in December 2026: fewer than 5, so the totals are withheld" in html
    assert 'class="feedback"' not in html
