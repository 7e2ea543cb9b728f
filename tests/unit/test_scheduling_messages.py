"""What the scheduling service tells patients and team leads, in the Trusts' local time."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from contracts import ContactsBelowPlan, VisitScheduled
from services.scheduling import domain, messages, planning

TZ = ZoneInfo("Europe/Belfast")
NOW = datetime(2026, 7, 2, 14, 0, tzinfo=UTC)  # a Thursday in summer: Belfast is an hour ahead
TEAM = "htcr:belfast"


def visit(start: datetime, staff_id: str | None = "s-1") -> domain.Visit:
    return domain.Visit(uuid4(), uuid4(), uuid4(), None, staff_id, start, start + domain.WINDOW)


def scheduled(of: domain.Visit, start: datetime, staff_id: str | None = "s-2") -> VisitScheduled:
    return VisitScheduled(
        visit_id=uuid4(), patient_id=of.patient_id, episode_id=of.episode_id, staff_id=staff_id,
        window_start=start, window_end=start + domain.WINDOW, planned_minutes=60,
    )


def test_a_late_visit_tells_the_patient_its_window_in_local_time() -> None:
    told = messages.visit_late(visit(NOW - timedelta(minutes=15)), TZ, NOW)
    assert told.recipient == "patient" and told.kind == "visit-late"
    assert "between 14:45 and 15:45 is running late" in told.text  # 13:45 UTC is 14:45 in Belfast


def test_a_missed_visit_tells_the_patient_the_new_visit_and_the_team_lead_who_missed_it() -> None:
    missed = visit(NOW - timedelta(hours=2))
    replacement = scheduled(missed, datetime(2026, 7, 3, 9, tzinfo=UTC))
    to_patient, to_lead = messages.visit_missed(missed, TEAM, replacement, TZ, NOW)
    assert to_patient.recipient == "patient" and to_lead.recipient == "team-lead:htcr:belfast"
    assert "new visit on Friday 3 July between 10:00 and 11:00" in to_patient.text
    assert "staff s-1" in to_lead.text and "Replacement booked for 10:00 03 Jul" in to_lead.text


def test_a_missed_visit_nobody_was_assigned_to_says_so_and_without_a_team_only_the_patient_is_told() -> None:
    missed = visit(NOW - timedelta(hours=2), staff_id=None)
    replacement = scheduled(missed, NOW + timedelta(hours=20))
    assert "staff unassigned" in messages.visit_missed(missed, TEAM, replacement, TZ, NOW)[1].text
    assert [note.recipient for note in messages.visit_missed(missed, None, replacement, TZ, NOW)] == ["patient"]


def test_only_visits_with_nobody_free_alert_the_team_lead() -> None:
    of = visit(NOW)
    booked, nobody = scheduled(of, NOW + timedelta(days=1)), scheduled(of, NOW + timedelta(days=2), staff_id=None)
    alerts = messages.unassigned(TEAM, [booked, nobody], TZ, NOW)
    assert [alert.kind for alert in alerts] == ["visit-unassigned"]
    assert "the visit on Saturday 04 July at 15:00: please assign someone" in alerts[0].text


def test_a_week_below_plan_gives_the_team_lead_the_counts() -> None:
    below = ContactsBelowPlan(patient_id=uuid4(), episode_id=uuid4(), week=2, planned=5, completed=3, detected_at=NOW)
    (alert,) = messages.below_plan(TEAM, below, NOW)
    assert alert.text == "Week 2 of home treatment: 3 contacts against 5 planned."


def test_a_weeks_contacts_are_counted_from_local_midnight_to_local_midnight() -> None:
    start, end = domain.week_of(date(2026, 7, 1), TZ, week=2)
    assert start == datetime(2026, 7, 7, 23, tzinfo=UTC) and end - start == timedelta(days=7)


def test_a_rota_revision_announces_its_visits_and_alerts_the_team_lead_only_for_those_nobody_is_free_for() -> None:
    of = visit(NOW + timedelta(days=1))
    moved, nobody = scheduled(of, NOW + timedelta(days=1)), scheduled(of, NOW + timedelta(days=2), staff_id=None)
    plan = domain.Episode(of.episode_id, of.patient_id, TEAM)
    revision = planning.Revision(plan, "s-2", ("s-2",), (moved, nobody), None)
    events = messages.revised(TEAM, [revision], TZ, NOW)
    assert events[:2] == [moved, nobody]
    assert [(e.kind, e.recipient) for e in events[2:]] == [("visit-unassigned", "team-lead:htcr:belfast")]
    assert messages.revised(TEAM, [], TZ, NOW) == []


def test_an_escalation_on_an_open_episode_sends_no_after_closure_alert() -> None:
    assert messages.escalation_after_closure(TEAM, None, NOW) == []
