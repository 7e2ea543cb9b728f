"""Every sentence the scheduling service writes to a patient or a team lead, pure: the care plan,
the named worker, a late or missed visit, a visit nobody is free for, a week below plan, and an
escalation on a closed episode. Each function returns the messages to send, ready to emit.

Where the assessment records a learning disability or a communication need (`easy_read`), each
message to the patient is written in easy read instead: one short sentence to a line, one idea
each, common words, days and times as people say them ("Friday 3 July", "10 in the morning"),
and who is coming by first name and role. Team leads' messages are never easy read."""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from contracts import (
    ContactsBelowPlan,
    EscalationAction,
    EscalationRaised,
    EscalationReason,
    Event,
    NotificationSent,
    Recipient,
    Role,
    VisitScheduled,
)
from services.scheduling.domain import WINDOW, Visit
from services.scheduling.planning import Plan, Revision, Roster
from shared.easy_read import between, clock


def _message(
    recipient: str, patient_id: UUID, episode_id: UUID, kind: str, text: str, now: datetime, easy_read: bool = False
) -> NotificationSent:
    return NotificationSent(
        recipient=recipient, patient_id=patient_id, episode_id=episode_id, kind=kind, text=text, sent_at=now, easy_read=easy_read
    )


def _to_patient(patient_id: UUID, episode_id: UUID, kind: str, standard: str, easy: list[str], easy_read: bool,
                now: datetime) -> NotificationSent:
    """The patient's message: the standard wording, or the easy-read one, a sentence to a line."""
    text = "\n".join(easy) if easy_read else standard
    return _message(Recipient.patient(), patient_id, episode_id, kind, text, now, easy_read)


def _to_team_lead(team: str | None, patient_id: UUID, episode_id: UUID, kind: str, text: str, now: datetime) -> list[NotificationSent]:
    """A team lead is told only where the episode has a team."""
    return [_message(Recipient.team_lead(team), patient_id, episode_id, kind, text, now)] if team else []


def _day(when: datetime) -> str:
    """A local day as people say it: "Friday 3 July"."""
    return f"{when:%A} {when.day} {when:%B}"


def _window(start: datetime) -> str:
    return f"{start:%H:%M} and {(start + WINDOW):%H:%M}"


def _who_is_coming(display_name: str | None, nobody_named: str) -> str:
    """Who is coming to a visit, as the patient is told it: "Niamh from the home treatment team"."""
    return f"{display_name or nobody_named} from the home treatment team"


# --- Easy read: the same facts in shorter sentences ---------------------------------------------

ROLE_WORDS = {
    Role.NURSE: "a nurse",
    Role.SOCIAL_WORKER: "a social worker",
    Role.DOCTOR: "a doctor",
    Role.SUPPORT_WORKER: "a support worker",
    Role.PEER_WORKER: "a peer support worker",
}


def easy_window(start: datetime, tz: ZoneInfo) -> str:
    """A visit's hour as people say it: "between 10 and 11 in the morning"."""
    return between(start.astimezone(tz), (start + WINDOW).astimezone(tz))


def _easy_length(minutes: int) -> str:
    hours, left = divmod(minutes, 60)
    if left:
        return f"{minutes} minutes"
    return "1 hour" if hours == 1 else f"{hours} hours"


def _role(display_name: str, role: Role | None) -> list[str]:
    """What they do, where the rota says: "Niamh is a nurse." """
    return [f"{display_name} is {ROLE_WORDS[role]}."] if role else []


def _easy_who(display_name: str | None, role: Role | None, nobody_named: str, instead: bool = False) -> list[str]:
    """Who is coming, by first name and role: "Niamh will come." "Niamh is a nurse." """
    if display_name is None:
        return [f"{nobody_named} from our team will come{' instead' if instead else ''}."]
    return [f"{display_name} will come{' instead' if instead else ''}.", *_role(display_name, role)]


def _visits_by_day(visits: Iterable[VisitScheduled], tz: ZoneInfo) -> list[str]:
    """One line a day, in order, with each of that day's windows: "Friday 3 July, between 09:00
    and 10:00, and between 17:00 and 18:00." """
    days: dict[str, list[str]] = {}
    for visit in sorted(visits, key=lambda v: v.window_start):
        start = visit.window_start.astimezone(tz)
        days.setdefault(_day(start), []).append(f"between {_window(start)}")
    return [f"- {day}, {', and '.join(windows)}." for day, windows in days.items()]


def plan_text(plan: Plan, roster: Roster, tz: ZoneInfo) -> str:
    """The plan in words the patient can read: who, how often, and each day of the first visits
    with its window(s). Only what the service does is promised: it tells the patient the day
    before each visit who is coming (`visit_confirmed`), when a visit is more than 15 minutes late
    and when a missed visit is booked again (`visit_late`, `visit_missed`)."""
    agreed = plan.agreed
    key = roster.staff.get(agreed.key_worker or "")
    name = key.display_name if key and key.display_name else None
    if key is None:
        who = "We will tell you who your named worker is soon."
    elif name:
        who = f"Your named worker is {name}. {name} leads your care."
    else:
        who = "Your named worker is a member of the team. They lead your care."
    others, visitor = len(agreed.core_team) - 1, name or "Your named worker"
    if key is None or others < 0:
        team = ""
    elif others == 0:  # the only one with the skills needed on shift that week
        team = f" {visitor} will come to your visits."
    else:
        team = f" {visitor} and {others} {'other' if others == 1 else 'others'} from the team will share your visits."
    lines = _visits_by_day(plan.visits, tz)
    return "\n".join((
        "Your home treatment plan.",
        f"We will come to see you {len(plan.visits)} times at first. "
        f"Each visit is about {agreed.planned_minutes} minutes. "
        + (f"After that, we will come about {agreed.visits_per_week_after} times a week." if agreed.visits_per_week_after else ""),
        who + team,
        "Each visit has a one-hour window. We will come some time in that hour. Your first visits are:",
        *lines,
        "The day before each visit, we will send you its time and who is coming. "
        "If we are more than 15 minutes late, we will tell you. "
        "If we miss a visit, we will book a new one and tell you when it is.",
    ))


def easy_plan_text(plan: Plan, roster: Roster, tz: ZoneInfo) -> list[str]:
    """The plan in easy read, a sentence to a line: the same facts and promises as `plan_text`,
    with each visit on a line of its own."""
    agreed = plan.agreed
    key = roster.staff.get(agreed.key_worker or "")
    name = key.display_name if key else None
    if key is None:
        who = ["We will tell you soon who your named worker is."]
    elif name:
        who = [f"Your named worker is {name}.", *_role(name, key.role), f"{name} will lead your care."]
    else:
        who = ["Your named worker is in our team.", "They will lead your care."]
    others, visitor = len(agreed.core_team) - 1, name or "Your named worker"
    if key is None or others < 0:
        team = []
    elif others == 0:
        team = [f"{visitor} will come to all your visits."]
    else:
        team = [f"{visitor} and {others} other {'person' if others == 1 else 'people'} will share your visits."]
    after = agreed.visits_per_week_after
    return [
        "Your home treatment plan.",
        f"We will visit you at home {len(plan.visits)} times at first.",
        f"Each visit is about {_easy_length(agreed.planned_minutes)}.",
        *([f"After that, we will come about {after} times a week."] if after else []),
        *who,
        *team,
        "We will come some time in the hour we give you.",
        "These are your first visits.",
        *(f"- {_day(visit.window_start.astimezone(tz))}, {easy_window(visit.window_start, tz)}."
          for visit in sorted(plan.visits, key=lambda v: v.window_start)),
        "The day before each visit, we will send you a message.",
        "It will say when we will come, and who is coming.",
        "If we are more than 15 minutes late, we will tell you.",
        "If we miss a visit, we will book a new one.",
        "We will tell you when it is.",
    ]


def plan_agreed(
    plan: Plan, team: str | None, roster: Roster, tz: ZoneInfo, now: datetime, easy_read: bool = False
) -> list[NotificationSent]:
    """The patient hears the plan (in easy read where they need it); the team lead hears of any
    visit nobody is free for."""
    agreed = plan.agreed
    told = _to_patient(agreed.patient_id, agreed.episode_id, "care-plan", plan_text(plan, roster, tz),
                       easy_plan_text(plan, roster, tz), easy_read, now)
    return [told, *unassigned(team, plan.visits, tz, now)]


def named_worker_text(display_name: str | None, core_team_size: int) -> str:
    """The patient's named worker, confirmed after the plan's message said it would be."""
    name = display_name or "a member of the team"
    who = display_name or "Your named worker"
    others = core_team_size - 1
    team = (f" {who} and {others} {'other' if others == 1 else 'others'} from the team will share your visits."
            if others > 0 else "")
    return f"Your named worker for home treatment is {name}. This is the person who leads your care.{team} Your visit times have not changed."


def easy_named_worker_text(display_name: str | None, core_team_size: int, role: Role | None = None) -> list[str]:
    if display_name is None:
        who = ["Your named worker is in our team.", "They will lead your care."]
    else:
        who = [f"Your named worker is {display_name}.", *_role(display_name, role), f"{display_name} will lead your care."]
    others = core_team_size - 1
    team = ([f"{display_name or 'Your named worker'} and {others} other {'person' if others == 1 else 'people'} "
             "will share your visits."] if others > 0 else [])
    return [*who, *team, "Your visit times are the same."]


def named_worker(
    patient_id: UUID, episode_id: UUID, display_name: str | None, core_team_size: int, now: datetime, *,
    role: Role | None = None, easy_read: bool = False,
) -> NotificationSent:
    return _to_patient(patient_id, episode_id, "key-worker", named_worker_text(display_name, core_team_size),
                       easy_named_worker_text(display_name, core_team_size, role), easy_read, now)


def revised(
    team: str | None, revisions: Iterable[Revision], tz: ZoneInfo, now: datetime, confirmed: Iterable[UUID] = (),
    roster: Roster | None = None,
) -> list[Event]:
    """Each revision's events, then the team lead's alert for each visit nobody is free for, and
    the patient's message for each visit already confirmed to them that someone else will make
    (`confirmed`: those visits' ids; `roster`: whose names), in easy read where the plan's is."""
    told, staff = set(confirmed), roster.staff if roster else {}
    events: list[Event] = []
    for revision in revisions:
        events += [*revision.events, *unassigned(team, revision.visits, tz, now)]
        for visit in revision.visits:
            if visit.visit_id in told:
                member = staff.get(visit.staff_id or "")
                events.append(visit_changed(visit, member.display_name if member else None, tz, now,
                                            role=member.role if member else None, easy_read=revision.plan.easy_read))
    return events


def unassigned(team: str | None, visits: Iterable[VisitScheduled], tz: ZoneInfo, now: datetime) -> list[NotificationSent]:
    """For the team lead: each visit booked with nobody free who has the skills needed."""
    alerts = []
    for visit in visits:
        if visit.staff_id is None:
            when = visit.window_start.astimezone(tz)
            text = f"Nobody with the skills needed is free for the visit on {when:%A %d %B} at {when:%H:%M}: please assign someone."
            alerts += _to_team_lead(team, visit.patient_id, visit.episode_id, "visit-unassigned", text, now)
    return alerts


def visit_confirmed(
    visit: Visit, display_name: str | None, tz: ZoneInfo, now: datetime, *, role: Role | None = None, easy_read: bool = False
) -> NotificationSent:
    """For the patient, the day before: the window and who is coming."""
    when = visit.window_start.astimezone(tz)
    text = (
        f"Your visit tomorrow, {_day(when)}, is between {_window(when)}. {_who_is_coming(display_name, 'Someone')} will come. "
        "If this time does not suit you, call the home treatment team."
    )
    easy = [
        "Your visit is tomorrow.",
        f"It is on {_day(when)}.",
        f"We will come {easy_window(visit.window_start, tz)}.",
        *_easy_who(display_name, role, "Someone"),
        "Is this time bad for you?",
        "Please call the home treatment team.",
    ]
    return _to_patient(visit.patient_id, visit.episode_id, "visit-confirmed", text, easy, easy_read, now)


def visit_changed(
    visit: VisitScheduled, display_name: str | None, tz: ZoneInfo, now: datetime, *, role: Role | None = None,
    easy_read: bool = False,
) -> NotificationSent:
    """For the patient told who is coming to a visit, when someone else will come instead."""
    when = visit.window_start.astimezone(tz)
    text = (
        f"A change to your visit on {_day(when)}, between {_window(when)}: "
        f"{_who_is_coming(display_name, 'Someone else')} will come instead. The time has not changed."
    )
    easy = [
        "There is a change to your visit.",
        f"The visit is on {_day(when)}.",
        f"It is {easy_window(visit.window_start, tz)}.",
        *_easy_who(display_name, role, "Someone else", instead=True),
        "The time is the same.",
    ]
    return _to_patient(visit.patient_id, visit.episode_id, "visit-changed", text, easy, easy_read, now)


def visit_late(visit: Visit, tz: ZoneInfo, now: datetime, *, easy_read: bool = False) -> NotificationSent:
    """For the patient, 15 minutes into the window with nobody there."""
    text = (
        f"Your visit due between {visit.window_start.astimezone(tz):%H:%M} and "
        f"{visit.window_end.astimezone(tz):%H:%M} is running late. We are sorry. We are on our way, "
        "or we will call you to change the time."
    )
    easy = [
        "We are late for your visit.",
        "We are sorry.",
        f"It was due to start at {clock(visit.window_start.astimezone(tz))}.",
        "We are on our way.",
        "Or we will call you to change the time.",
    ]
    return _to_patient(visit.patient_id, visit.episode_id, "visit-late", text, easy, easy_read, now)


def visit_missed(
    visit: Visit, team: str | None, replacement: VisitScheduled, tz: ZoneInfo, now: datetime, *, easy_read: bool = False
) -> list[NotificationSent]:
    """The patient hears of the missed visit and the new one; the team lead hears who missed it."""
    when = replacement.window_start.astimezone(tz)
    due_by = visit.window_end.astimezone(tz)
    to_patient = (
        f"We are sorry. We did not come for your visit due by {due_by:%H:%M on %A}. "
        f"We have booked a new visit on {_day(when)} between {_window(when)}. "
        "If you need us before then, call the home treatment team."
    )
    easy = [
        "We are sorry.",
        f"We did not come to your visit on {_day(due_by)}.",
        "We have booked a new visit for you.",
        f"It is on {_day(when)}.",
        f"We will come {easy_window(replacement.window_start, tz)}.",
        "Do you need us before then?",
        "Please call the home treatment team.",
    ]
    to_lead = (
        f"Missed visit (window closed {due_by:%H:%M %d %b}, staff "
        f"{visit.staff_id or 'unassigned'}). Replacement booked for {when:%H:%M %d %b}."
    )
    return [
        _to_patient(visit.patient_id, visit.episode_id, "visit-missed", to_patient, easy, easy_read, now),
        *_to_team_lead(team, visit.patient_id, visit.episode_id, "visit-missed", to_lead, now),
    ]


def below_plan(team: str | None, below: ContactsBelowPlan, now: datetime) -> list[NotificationSent]:
    """For the team lead, at the end of a week of the plan with fewer contacts than promised."""
    text = f"Week {below.week} of home treatment: {below.completed} contacts against {below.planned} planned."
    return _to_team_lead(team, below.patient_id, below.episode_id, "contacts-below-plan", text, now)


_REASON_WORDS = {
    EscalationReason.RISK_INCREASED: "rising risk",
    EscalationReason.CARER_AT_BREAKING_POINT: "a carer at breaking point",
}


def escalation_after_closure_text(raised: EscalationRaised) -> str:
    """For the team lead: an escalation nobody else will act on, as the episode is closed."""
    what = " and ".join(_REASON_WORDS[reason] for reason in raised.reasons)
    asks = " It asks for an admission to be considered." if raised.action is EscalationAction.ADMISSION_REQUEST else ""
    return (
        f"A visit outcome recorded after this home-treatment episode was closed reports {what}.{asks} "
        "No visit was booked, as the episode is closed: please decide whether the patient needs care again."
    )


def escalation_after_closure(team: str | None, raised: EscalationRaised | None, now: datetime) -> list[NotificationSent]:
    if raised is None:
        return []  # the episode is open: the escalation is acted on
    text = escalation_after_closure_text(raised)
    return _to_team_lead(team, raised.patient_id, raised.episode_id, "escalation", text, now)
