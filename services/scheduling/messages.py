"""Every sentence the scheduling service writes to a patient or a team lead, pure: the care plan,
the named worker, a late or missed visit, a visit nobody is free for, a week below plan, and an
escalation on a closed episode. Each function returns the messages to send, ready to emit."""

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
    VisitScheduled,
)
from services.scheduling.domain import WINDOW, Visit
from services.scheduling.planning import Plan, Revision, Roster


def _message(recipient: str, patient_id: UUID, episode_id: UUID, kind: str, text: str, now: datetime) -> NotificationSent:
    return NotificationSent(recipient=recipient, patient_id=patient_id, episode_id=episode_id, kind=kind, text=text, sent_at=now)


def _to_team_lead(team: str | None, patient_id: UUID, episode_id: UUID, kind: str, text: str, now: datetime) -> list[NotificationSent]:
    """A team lead is told only where the episode has a team."""
    return [_message(Recipient.team_lead(team), patient_id, episode_id, kind, text, now)] if team else []


def _day(when: datetime) -> str:
    """A local day as people say it: "Friday 3 July"."""
    return f"{when:%A} {when.day} {when:%B}"


def _window(start: datetime) -> str:
    return f"{start:%H:%M} and {(start + WINDOW):%H:%M}"


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


def plan_agreed(plan: Plan, team: str | None, roster: Roster, tz: ZoneInfo, now: datetime) -> list[NotificationSent]:
    """The patient hears the plan; the team lead hears of any visit nobody is free for."""
    agreed = plan.agreed
    told = _message(Recipient.patient(), agreed.patient_id, agreed.episode_id, "care-plan", plan_text(plan, roster, tz), now)
    return [told, *unassigned(team, plan.visits, tz, now)]


def named_worker_text(display_name: str | None, core_team_size: int) -> str:
    """The patient's named worker, confirmed after the plan's message said it would be."""
    name = display_name or "a member of the team"
    who = display_name or "Your named worker"
    others = core_team_size - 1
    team = (f" {who} and {others} {'other' if others == 1 else 'others'} from the team will share your visits."
            if others > 0 else "")
    return f"Your named worker for home treatment is {name}. This is the person who leads your care.{team} Your visit times have not changed."


def named_worker(patient_id: UUID, episode_id: UUID, display_name: str | None, core_team_size: int, now: datetime) -> NotificationSent:
    text = named_worker_text(display_name, core_team_size)
    return _message(Recipient.patient(), patient_id, episode_id, "key-worker", text, now)


def revised(
    team: str | None, revisions: Iterable[Revision], tz: ZoneInfo, now: datetime, confirmed: Iterable[UUID] = (),
    roster: Roster | None = None,
) -> list[Event]:
    """Each revision's events, then the team lead's alert for each visit nobody is free for, and
    the patient's message for each visit already confirmed to them that someone else will make
    (`confirmed`: those visits' ids; `roster`: whose names)."""
    told, staff = set(confirmed), roster.staff if roster else {}
    events: list[Event] = []
    for revision in revisions:
        events += [*revision.events, *unassigned(team, revision.visits, tz, now)]
        for visit in revision.visits:
            if visit.visit_id in told:
                member = staff.get(visit.staff_id or "")
                events.append(visit_changed(visit, member.display_name if member else None, tz, now))
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


def visit_confirmed(visit: Visit, display_name: str | None, tz: ZoneInfo, now: datetime) -> NotificationSent:
    """For the patient, the day before: the window and who is coming."""
    when = visit.window_start.astimezone(tz)
    who = f"{display_name} from the home treatment team" if display_name else "Someone from the home treatment team"
    text = (
        f"Your visit tomorrow, {_day(when)}, is between {_window(when)}. {who} will come. "
        "If this time does not suit you, call the home treatment team."
    )
    return _message(Recipient.patient(), visit.patient_id, visit.episode_id, "visit-confirmed", text, now)


def visit_changed(visit: VisitScheduled, display_name: str | None, tz: ZoneInfo, now: datetime) -> NotificationSent:
    """For the patient told who is coming to a visit, when someone else will come instead."""
    when = visit.window_start.astimezone(tz)
    who = f"{display_name} from the home treatment team" if display_name else "Someone else from the home treatment team"
    text = (
        f"A change to your visit on {_day(when)}, between {_window(when)}: {who} will come instead. "
        "The time has not changed."
    )
    return _message(Recipient.patient(), visit.patient_id, visit.episode_id, "visit-changed", text, now)


def visit_late(visit: Visit, tz: ZoneInfo, now: datetime) -> NotificationSent:
    """For the patient, 15 minutes into the window with nobody there."""
    text = (
        f"Your visit due between {visit.window_start.astimezone(tz):%H:%M} and "
        f"{visit.window_end.astimezone(tz):%H:%M} is running late. We are sorry. We are on our way, "
        "or we will call you to change the time."
    )
    return _message(Recipient.patient(), visit.patient_id, visit.episode_id, "visit-late", text, now)


def visit_missed(visit: Visit, team: str | None, replacement: VisitScheduled, tz: ZoneInfo, now: datetime) -> list[NotificationSent]:
    """The patient hears of the missed visit and the new one; the team lead hears who missed it."""
    when = replacement.window_start.astimezone(tz)
    due_by = visit.window_end.astimezone(tz)
    to_patient = (
        f"We are sorry. We did not come for your visit due by {due_by:%H:%M on %A}. "
        f"We have booked a new visit on {_day(when)} between {_window(when)}. "
        "If you need us before then, call the home treatment team."
    )
    to_lead = (
        f"Missed visit (window closed {due_by:%H:%M %d %b}, staff "
        f"{visit.staff_id or 'unassigned'}). Replacement booked for {when:%H:%M %d %b}."
    )
    return [
        _message(Recipient.patient(), visit.patient_id, visit.episode_id, "visit-missed", to_patient, now),
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
