"""The patient's and carer's voice, pure: who is invited to give feedback and in what words, and a
team's totals, which never show one person's answers.

Invited: when home treatment ends, the patient and each carer whose consent covers the discharge
arrangements (the invitation tells them care has ended); midway through an episode open two
weeks, once, the patient and each carer who may be given general information. A deny of that
information, or a `do_not_tell`, leaves the carer out, as for every message.

The totals are a team's for a month (Europe/Belfast). Nothing is counted while fewer than
`MINIMUM` people have answered, and then only in steps of `MINIMUM` responses, in the order they
arrived: the first 5, then the first 10, and so on. A summary published each time an answer
arrives would otherwise show, by its difference from the one before, what that one person said.
A question fewer than `MINIMUM` of those counted answered has its count of answers and no more.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from contracts import (
    Answer,
    FeedbackAnswers,
    InformationCategory,
    NotificationSent,
    Question,
    QuestionTotals,
    Recipient,
    TeamFeedbackSummarised,
    TeamKind,
    Trust,
)
from services.discharge.domain import Episode
from shared.privacy import consent
from shared.privacy.disclosure import Disclosure

BELFAST = ZoneInfo("Europe/Belfast")
MIDWAY_AFTER = timedelta(days=14)  # an episode open this long is asked how it is going, once
MINIMUM = 5  # the fewest responses ever counted, and the step the counts move in
HOLDER = "feedback"  # whose key, in the key store, seals a person's own words (copies.seal_kept)

_AFTER = (
    "We will send you a short form. It has five questions, and space to tell us more if you want to. "
    "It takes about five minutes. You do not have to fill it in, and it will not change your care. "
    "Your name is not shown with your answers. The team sees them only added up with other people's. "
    "What you write in your own words is kept safe and is not passed on."
)


def team_of(trust: str | None) -> str | None:
    """The team an episode's feedback is about: its Trust's home treatment team."""
    return Recipient.team(TeamKind.HTCR, Trust(trust)) if trust else None


def period_of(at: datetime) -> str:
    """The month an answer counts in: when it was received, in Northern Ireland."""
    return f"{at.astimezone(BELFAST):%Y-%m}"


def invitation_text(recipient: Recipient, midway: bool) -> str:
    """The invitation, in plain words: why we ask, what the form is, and what happens to the answers."""
    if recipient.is_carer:
        opening = ("The person you care for has had home treatment from us for two weeks now. We would like to hear how it is going for you."
                   if midway else "Home treatment for the person you care for has now ended. We would like to hear how it went for you.")
    else:
        opening = ("You have had home treatment from us for two weeks now. We would like to hear how it is going for you."
                   if midway else "Your home treatment has now ended. We would like to hear how it went for you.")
    return f"{opening} {_AFTER}"


def easy_invitation_text(midway: bool) -> str:
    """The patient's invitation in easy read, a sentence to a line."""
    return "\n".join((
        "You have had home treatment from us for 2 weeks." if midway else "Your home treatment has ended.",
        "We would like to know how it is going for you." if midway else "We would like to know how it went for you.",
        "We will send you a short form.",
        "It has 5 questions.",
        "You can also tell us more in your own words.",
        "You do not have to fill it in.",
        "It will not change your care.",
        "We will not put your name with your answers.",
        "What you write is kept safe.",
    ))


def invitations(episode: Episode, carers: Iterable[str], state: consent.ConsentState, now: datetime, *, midway: bool) -> list[Disclosure]:
    """The patient, and each carer whose consent allows it, is invited (the patient in easy read
    where they need it); every decision is kept for the audit."""
    needed = InformationCategory.CARER_GENERAL_INFORMATION if midway else InformationCategory.DISCHARGE_ARRANGEMENTS
    disclosures = []
    for recipient in [Recipient.patient(), *(Recipient.carer(carer) for carer in carers)]:
        purpose = recipient.purpose
        decision = consent.decide(state, recipient, purpose, {needed}, now)
        easy = episode.easy_read and recipient.is_patient
        note = NotificationSent(
            recipient=recipient, patient_id=episode.patient_id, episode_id=episode.episode_id, kind="feedback-invited",
            text=easy_invitation_text(midway) if easy else invitation_text(recipient, midway), sent_at=now, easy_read=easy,
        ) if decision.permitted else None
        disclosures.append(Disclosure(recipient, purpose, decision, decision.permitted, note))
    return disclosures


def summary(team: str, trust: Trust, period: str, answers: Sequence[FeedbackAnswers], now: datetime) -> TeamFeedbackSummarised:
    """The team's totals for the month from every response so far, oldest first; never a word of theirs."""
    counted = len(answers) // MINIMUM * MINIMUM
    return TeamFeedbackSummarised(
        team=team, trust=trust, period=period, responses=len(answers), counted=counted, minimum=MINIMUM,
        questions=tuple(_totals(question, answers[:counted]) for question in Question) if counted else (),
        summarised_at=now,
    )


def _totals(question: Question, answers: Sequence[FeedbackAnswers]) -> QuestionTotals:
    given = [answer for answer in (each.of(question) for each in answers) if answer is not None]
    if len(given) < MINIMUM:
        return QuestionTotals(question=question, answered=len(given))
    return QuestionTotals(question=question, answered=len(given), yes=given.count(Answer.YES), partly=given.count(Answer.PARTLY),
                          no=given.count(Answer.NO))
