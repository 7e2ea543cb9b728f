"""Every message carepath sends to a patient or a carer reads at about age 11, measured.

The measure is textstat 0.7.3's: Flesch reading ease at least 70 ("fairly easy" and above) and
Flesch-Kincaid grade at most 6 (a US sixth grade, a reading age of about 11 to 12). Each message
is produced by the real pure function that writes it, for inputs that take every branch, and
scored whole, names and phone numbers included, as the person reads it.

No unexplained abbreviation or jargon either: a word in capitals is refused unless allowed below,
and some service words are refused outright. "GP" is allowed: in Northern Ireland, as in the rest
of the UK, it is the everyday word for a family doctor, the one the NHS's own patient leaflets and
the Trusts' directory ("Your GP practice") use unexplained; spelling it out would read worse. The
names of services, staff and crisis lines a message quotes come from reference data or from the
clinician, not from these functions, so they are scored for reading but not checked for jargon.

Every kind of notification the code can send is either covered here or listed as going to staff
only; a new kind fails until it is one or the other.

Easy read, for a patient whose assessment records a learning disability or a communication need,
is held to more: Flesch reading ease at least 80 ("easy"), Flesch-Kincaid grade at most 4 (a
reading age of about 9), and no sentence longer than 12 words. Every kind a patient is sent has
an easy-read wording, marked as easy read for the Trust's messaging system to lay out with pictures;
carers' messages stay standard, as the need is the patient's.
"""

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import uuid4
from zoneinfo import ZoneInfo

import textstat

from contracts import (
    CarePlanAgreed,
    DischargeMeetingArranged,
    DischargeProposed,
    EpisodeClosed,
    InformationCategory,
    NotificationSent,
    OnwardCare,
    Recipient,
    Role,
    ServiceKind,
    Trust,
    VisitScheduled,
)
from services.discharge import domain as discharge
from services.discharge import feedback
from services.discharge.handlers import SIGNPOST_KINDS
from services.scheduling import domain as scheduling
from services.scheduling import messages
from services.scheduling.planning import Plan, Roster, Staff
from shared.privacy.consent import ConsentState, Recorded
from shared.reference.directory import load_directory

MIN_READING_EASE = 70.0
MAX_GRADE = 6.0
EASY_READ_MIN_EASE = 80.0
EASY_READ_MAX_GRADE = 4.0
EASY_READ_LONGEST_SENTENCE = 12  # words
ALLOWED_CAPITALS = {"GP"}
JARGON = ("follow-on", "follow on care", "onward", "signpost", "episode", "core team", "contacts", "key worker", "discharged")

SERVICES = Path(__file__).resolve().parents[2] / "services"
TZ = ZoneInfo("Europe/Belfast")
NOW = datetime(2026, 7, 2, 14, 0, tzinfo=UTC)  # a Thursday in summer: Belfast is an hour ahead
TEAM = "htcr:belfast"

# Kinds sent only to staff (team leads, the community mental health team): not held to this.
STAFF_ONLY = {"visit-unassigned", "contacts-below-plan", "escalation", "break-glass", "follow-up-overdue"}


@dataclass(frozen=True)
class Case:
    """One message as sent, what it was made from, and the words in it the code did not write."""

    case: str
    note: NotificationSent
    quoted: tuple[str, ...] = ()

    @property
    def written(self) -> str:
        text = self.note.text
        for words in self.quoted:
            text = text.replace(words, " ")
        return text


def _to_people(notes: list[NotificationSent]) -> list[NotificationSent]:
    return [note for note in notes if Recipient(note.recipient).is_patient or Recipient(note.recipient).is_carer]


def _visit_at(day: date, hour: int, staff_id: str | None = "s-1", patient=None, episode=None) -> VisitScheduled:  # noqa: ANN001
    start = datetime(day.year, day.month, day.day, hour, tzinfo=TZ).astimezone(UTC)
    return VisitScheduled(
        visit_id=uuid4(), patient_id=patient or uuid4(), episode_id=episode or uuid4(), staff_id=staff_id,
        window_start=start, window_end=start + scheduling.WINDOW, planned_minutes=60,
    )


def _plan(key_worker: str | None, core_team: tuple[str, ...], hours_by_day: list[tuple[int, ...]]) -> Plan:
    patient, episode = uuid4(), uuid4()
    first = date(2026, 7, 3)
    visits = tuple(
        _visit_at(first + timedelta(days=n), hour, core_team[0] if core_team else None, patient, episode)
        for n, hours in enumerate(hours_by_day) for hour in hours
    )
    agreed = CarePlanAgreed(
        patient_id=patient, episode_id=episode, key_worker=key_worker, core_team=core_team,
        visits_first_week=len(visits), visits_per_week_after=5, planned_minutes=60, required_skills=(), agreed_at=NOW,
    )
    return Plan(agreed, visits)


ONE_A_DAY = [(10,), (14,), (9,), (16,), (11,), (13,), (15,)]
TWICE_ON_THE_FIRST_THREE_DAYS = [(9, 17), (10, 18), (11, 16), (14,), (10,), (13,), (15,)]
ROSTER = Roster({
    "s-1": Staff("s-1", frozenset(), display_name="Niamh", role=Role.NURSE),
    "s-2": Staff("s-2", frozenset(), display_name="Ciaran", role=Role.PEER_WORKER),
    "s-3": Staff("s-3", frozenset(), role=Role.SOCIAL_WORKER),
}, {})


def scheduling_cases(easy_read: bool = False) -> Iterator[Case]:
    """Each message scheduling writes to a patient, in the standard wording or (`easy_read`) in easy read."""
    easy = {"easy_read": easy_read}
    for case, plan in (
        ("named worker and a team of 3", _plan("s-1", ("s-1", "s-2", "s-3"), ONE_A_DAY)),
        ("named worker on their own", _plan("s-1", ("s-1",), ONE_A_DAY)),
        ("named worker with no name on the rota", _plan("s-3", ("s-3", "s-2"), ONE_A_DAY)),
        ("nobody with the skills on the rota yet", _plan(None, (), ONE_A_DAY)),
        ("two visits a day on the first three days", _plan("s-2", ("s-2", "s-1"), TWICE_ON_THE_FIRST_THREE_DAYS)),
    ):
        for note in _to_people(messages.plan_agreed(plan, TEAM, ROSTER, TZ, NOW, easy_read)):
            yield Case(f"care plan, {case}", note, ("Niamh", "Ciaran"))
    patient, episode = uuid4(), uuid4()
    for name, role in (("Niamh", Role.NURSE), (None, None)):
        for size in (1, 3):
            yield Case(f"named worker {name or 'without a name'}, team of {size}",
                       messages.named_worker(patient, episode, name, size, NOW, role=role, **easy), ("Niamh",))
    tomorrow = scheduling.Visit(uuid4(), patient, episode, None, "s-1", NOW + timedelta(days=1), NOW + timedelta(days=1, hours=1))
    for name, role in (("Niamh", Role.NURSE), (None, None)):
        yield Case(f"visit confirmed the day before, {name or 'nobody named'}",
                   messages.visit_confirmed(tomorrow, name, TZ, NOW, role=role, **easy), ("Niamh",))
        yield Case(f"confirmed visit made by someone else, {name or 'nobody named'}",
                   messages.visit_changed(_visit_at(date(2026, 7, 3), 10, "s-2", patient, episode), name, TZ, NOW, role=role, **easy),
                   ("Niamh",))
    late = scheduling.Visit(uuid4(), patient, episode, None, "s-1", NOW - timedelta(minutes=15), NOW + timedelta(minutes=45))
    yield Case("visit running late", messages.visit_late(late, TZ, NOW, **easy))
    missed = scheduling.Visit(uuid4(), patient, episode, None, "s-1", NOW - timedelta(hours=2), NOW - timedelta(hours=1))
    for case, replacement in (("new visit tomorrow", _visit_at(date(2026, 7, 3), 10, "s-2", patient, episode)),
                              ("new visit later today", _visit_at(date(2026, 7, 2), 18, None, patient, episode))):
        for note in _to_people(messages.visit_missed(missed, TEAM, replacement, TZ, NOW, **easy)):
            yield Case(f"visit missed, {case}", note)


CRISIS_CONTACTS = ("Home treatment duty line 028 9649 6001", "Lifeline 0808 808 8000")


def discharge_cases(easy_read: bool = False) -> Iterator[Case]:
    """Each message discharge writes to a patient or a carer, for a patient who needs easy read (`easy_read`) or not."""
    patient, episode_id = uuid4(), uuid4()
    episode = discharge.Episode(episode_id, patient, visits_completed=9, closed_at=None, trust=Trust.BELFAST.value, easy_read=easy_read)
    for more_time in (False, True):
        proposal = DischargeProposed(
            patient_id=patient, episode_id=episode_id, proposed_by="s-1", planned_for=date(2026, 12, 10),
            reason="clinical text", patient_wants_more_time=more_time, proposed_at=NOW,
        )
        yield Case(f"discharge planned{', more time asked for' if more_time else ''}", discharge.discharge_planned(episode, proposal, NOW))
    meeting = DischargeMeetingArranged(patient_id=patient, episode_id=episode_id, meeting_at=NOW + timedelta(days=2), arranged_by="s-1")
    carers = ConsentState((Recorded("carer:c1", frozenset({InformationCategory.DISCHARGE_ARRANGEMENTS}), True),))
    for invitation in discharge.invitations(episode, ["c1"], carers, discharge.meeting_text(meeting), NOW,
                                            easy_text=discharge.easy_meeting_text(meeting)):
        if invitation.event is not None:
            yield Case(f"discharge meeting, to {invitation.recipient}", invitation.event)
    signposts = load_directory().signposts(Trust.BELFAST, SIGNPOST_KINDS)
    assert {s.kind for s in signposts} >= {ServiceKind.CRISIS_LINE, ServiceKind.VOLUNTARY_ORGANISATION}
    named = tuple(s.name for s in signposts) + CRISIS_CONTACTS
    for onward in (*OnwardCare, None):
        for more_time, contacts, listed, follow_up in (
            (False, CRISIS_CONTACTS, signposts, timedelta(hours=72)),
            (True, (), (), timedelta(hours=48)),  # a risk of suicide identified: the Trust's shorter clock
            (False, (), signposts, None),  # a closure from before the clock was carried: 72 hours
        ):
            told = discharge.Episode(
                episode_id, patient, 9, None, trust=Trust.BELFAST.value, onward_to=onward,
                patient_wants_more_time=more_time, crisis_contacts=contacts, easy_read=easy_read,
            )
            closed = EpisodeClosed(patient_id=patient, episode_id=episode_id, visits_completed=9, closed_at=NOW,
                                   follow_up_due_by=NOW + follow_up if follow_up else None)
            yield Case(f"discharged, onward {onward}, more time {more_time}, {len(contacts)} crisis contacts, "
                       f"{len(listed)} services, follow-up clock {follow_up or 'not carried'}", discharge.discharged(told, closed, listed, NOW), named)
    for midway in (False, True):
        for invitation in feedback.invitations(episode, ["c1"], carers, NOW, midway=midway):
            if invitation.event is not None:
                yield Case(f"feedback invited {'midway' if midway else 'at the end'}, to {invitation.recipient}", invitation.event)


def cases() -> list[Case]:
    return [*scheduling_cases(), *discharge_cases(), *easy_read_cases()]


def standard_cases() -> list[Case]:
    return [*scheduling_cases(), *discharge_cases()]


def easy_read_cases() -> list[Case]:
    """The same messages for a patient who needs easy read (carers' among them, which stay standard)."""
    return [*scheduling_cases(easy_read=True), *discharge_cases(easy_read=True)]


def sentences(text: str) -> list[str]:
    """A message's sentences: each line, split after a full stop or question mark."""
    return [s for line in text.splitlines() for s in re.split(r"(?<=[.?!])\s+", line.strip()) if s]


def words(sentence: str) -> list[str]:
    return [word for word in sentence.split() if word != "-"]


def kinds_in_the_code() -> set[str]:
    """Every `kind` a NotificationSent is given as a literal, directly or through a module's own
    helper that takes a `kind` parameter."""
    kinds = set()
    for path in SERVICES.rglob("*.py"):
        tree = ast.parse(path.read_text())
        helpers = {
            node.name: [a.arg for a in node.args.args].index("kind")
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and "kind" in [a.arg for a in node.args.args]
        }
        for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
            name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)
            given = [k.value for k in call.keywords if k.arg == "kind"]
            if name in helpers and len(call.args) > helpers[name]:
                given.append(call.args[helpers[name]])
            if name == "NotificationSent" or name in helpers:
                kinds |= {g.value for g in given if isinstance(g, ast.Constant) and isinstance(g.value, str)}
    return kinds


def _capitals(text: str) -> set[str]:
    return {word for word in re.findall(r"\b[A-Z][A-Z&]+\b", text) if word not in ALLOWED_CAPITALS}


def test_every_kind_of_message_to_patients_and_carers_is_measured_here() -> None:
    """A kind of notification the code can send is either measured here or sent only to staff."""
    covered = {case.note.kind for case in cases()}
    found = kinds_in_the_code()
    assert found, "no notification kinds found in services/: the scan is broken"
    assert found - covered - STAFF_ONLY == set(), f"kinds sent by the code but neither measured here nor staff-only: {found - covered - STAFF_ONLY}"
    assert covered & STAFF_ONLY == set(), f"kinds listed as staff-only reach patients or carers: {covered & STAFF_ONLY}"
    assert STAFF_ONLY <= found, f"staff-only kinds no longer in the code: {STAFF_ONLY - found}"


def test_every_message_to_a_patient_or_carer_reads_at_about_age_eleven() -> None:
    """Each message scores a Flesch reading ease of at least 70 and a Flesch-Kincaid grade of at most 6."""
    hard = []
    for case in cases():
        ease, grade = textstat.flesch_reading_ease(case.note.text), textstat.flesch_kincaid_grade(case.note.text)
        if ease < MIN_READING_EASE or grade > MAX_GRADE:
            long_words = sorted({w for w in re.findall(r"[A-Za-z'-]+", case.note.text) if textstat.syllable_count(w) >= 3})
            hard.append(f"{case.note.kind} ({case.case}): ease {ease}, grade {grade}; long words: {', '.join(long_words)}")
    assert not hard, "\n".join(hard)


def test_no_message_to_a_patient_or_carer_uses_an_unexplained_abbreviation_or_service_jargon() -> None:
    """No capitalised abbreviation but GP, and none of the service's own words for things."""
    found = []
    for case in cases():
        words = _capitals(case.written) | {j for j in JARGON if j in case.written.lower()}
        if words:
            found.append(f"{case.note.kind} ({case.case}): {', '.join(sorted(words))}")
    assert not found, "\n".join(found)


def _plan_message(plan: Plan) -> str:
    [told] = _to_people(messages.plan_agreed(plan, TEAM, ROSTER, TZ, NOW))
    return told.text


def test_the_care_plan_lists_each_day_of_the_first_visits_once_with_all_its_windows() -> None:
    """Two visits on a day are one line with both windows; every visit of the plan is listed."""
    text = _plan_message(_plan("s-2", ("s-2", "s-1"), TWICE_ON_THE_FIRST_THREE_DAYS))
    assert "- Friday 3 July, between 09:00 and 10:00, and between 17:00 and 18:00." in text
    assert "- Monday 6 July, between 14:00 and 15:00." in text and "- Thursday 9 July, between 15:00 and 16:00." in text
    assert text.count("\n- ") == 7 and "10 times" in text


def test_the_care_plan_names_one_visitor_plainly_and_promises_only_the_messages_the_service_sends() -> None:
    """A team of one is the named worker; the messages promised are the ones sent: the day before
    each visit (`visit_confirmed`), a visit late, a visit missed and booked again."""
    alone = _plan_message(_plan("s-1", ("s-1",), ONE_A_DAY))
    assert "Niamh will come to your visits." in alone and "team of" not in alone
    assert "Niamh and 2 others from the team will share your visits." in _plan_message(_plan("s-1", ("s-1", "s-2", "s-3"), ONE_A_DAY))
    assert "The day before each visit, we will send you its time and who is coming." in alone
    assert "more than 15 minutes late, we will tell you" in alone and "If we miss a visit, we will book a new one" in alone


def test_every_kind_a_patient_is_sent_has_an_easy_read_wording_marked_as_easy_read() -> None:
    """For a patient who needs easy read, every kind of message to them is in easy read and says so; none else is marked."""
    to_patients = {case.note.kind for case in standard_cases() if Recipient(case.note.recipient).is_patient}
    easy = [case.note for case in easy_read_cases() if Recipient(case.note.recipient).is_patient]
    assert {note.kind for note in easy} == to_patients and all(note.easy_read for note in easy)
    assert not any(case.note.easy_read for case in standard_cases())


def test_a_carers_message_stays_standard_when_the_patient_needs_easy_read() -> None:
    """The easy-read need is the patient's: the carer is invited in the standard words."""
    standard = {case.case: case.note.text for case in standard_cases() if Recipient(case.note.recipient).is_carer}
    easy = {case.case: case.note for case in easy_read_cases() if Recipient(case.note.recipient).is_carer}
    assert easy and set(easy) == set(standard)
    assert all(not note.easy_read and note.text == standard[case] for case, note in easy.items())


def test_every_easy_read_message_reads_at_about_age_nine_in_sentences_of_twelve_words_or_fewer() -> None:
    """Each easy-read message scores a reading ease of at least 80 and a grade of at most 4, and no sentence has more than 12 words."""
    hard = []
    for case in easy_read_cases():
        if not case.note.easy_read:
            continue
        text = case.note.text
        ease, grade = textstat.flesch_reading_ease(text), textstat.flesch_kincaid_grade(text)
        longest = max(sentences(case.written), key=lambda s: len(words(s)))
        if ease < EASY_READ_MIN_EASE or grade > EASY_READ_MAX_GRADE or len(words(longest)) > EASY_READ_LONGEST_SENTENCE:
            hard.append(f"{case.note.kind} ({case.case}): ease {ease}, grade {grade}, longest sentence {len(words(longest))} words: {longest}")
    assert not hard, "\n".join(hard)


def test_easy_read_says_days_and_times_plainly_and_who_is_coming_by_name_and_role() -> None:
    """No 24-hour clock in easy read: "between 10 and 11 in the morning", and "Niamh is a nurse."."""
    easy = [case.note for case in easy_read_cases() if case.note.easy_read]
    assert not [note.text for note in easy if re.search(r"\b\d{1,2}:\d{2}\b", note.text)]
    [confirmed] = [n for n in easy if n.kind == "visit-confirmed" and "Niamh" in n.text]
    assert confirmed.text.splitlines() == [
        "Your visit is tomorrow.", "It is on Friday 3 July.", "We will come between 3 and 4 in the afternoon.",
        "Niamh will come.", "Niamh is a nurse.", "Is this time bad for you?", "Please call the home treatment team.",
    ]
    [plan] = [n for n in easy if n.kind == "care-plan" and "two visits" not in n.text and "Ciaran and 1 other" in n.text]
    assert "- Friday 3 July, between 9 and 10 in the morning." in plan.text.splitlines()
    assert "- Friday 3 July, between 5 and 6 in the evening." in plan.text.splitlines()
    assert "Ciaran is a peer support worker." in plan.text
