"""Each Trust's hours and the first days of a plan: visits in the Trust's visiting hours, a visit
asked for at any hour the team is open (round the clock for a 24/7 team), the same-day first
visit of someone stepping down from a ward, and two visits a day on the first three days for
those the assessment says need them."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from contracts import AssessmentCompleted, Pathway, Trust, VisitRequested, VisitScheduled
from services.scheduling import domain, messages, planning
from services.scheduling.domain import DAYTIME, ServiceHours
from services.scheduling.handlers import Dependencies
from services.scheduling.planning import Roster, Staff
from services.scheduling.rules import load_rules

TZ = ZoneInfo("Europe/Belfast")
ROUND_THE_CLOCK = ServiceHours(visiting=(9, 20), open=(0, 24))


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC)


THURSDAY = date(2026, 11, 26)


def team(*ids: str) -> Roster:
    """Staff on shift round the clock for ten days from the Wednesday before."""
    start = local(THURSDAY - timedelta(days=1), 0)
    return Roster.build([Staff(i, frozenset()) for i in ids], [(i, start, start + timedelta(days=10)) for i in ids])


def assessment(at: datetime, **fields) -> AssessmentCompleted:
    return AssessmentCompleted(assessment_id=uuid4(), patient_id=uuid4(), episode_id=uuid4(), outcome=Pathway.HOME_TREATMENT,
                               assessed_at=at, trust=Trust.NORTHERN, **fields)


def local_starts(plan: planning.Plan) -> list[datetime]:
    return [visit.window_start.astimezone(TZ) for visit in plan.visits]


# The hours -------------------------------------------------------------------------------------------


def test_the_first_waves_hours_are_windows_from_nine_to_the_last_ending_at_eight() -> None:
    starts = [at.astimezone(TZ).hour for at in DAYTIME.slots(THURSDAY, TZ, local(THURSDAY, 0))]
    assert starts == list(range(9, 20))


def test_a_round_the_clock_team_is_open_every_hour_of_the_day_but_plans_visits_in_its_visiting_hours() -> None:
    assert len(ROUND_THE_CLOCK.slots(THURSDAY, TZ, local(THURSDAY, 0), planned=False)) == 24
    assert [at.astimezone(TZ).hour for at in ROUND_THE_CLOCK.slots(THURSDAY, TZ, local(THURSDAY, 0))] == list(range(9, 20))


def test_the_days_the_clocks_change_have_the_hours_they_really_have() -> None:
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    assert len(ROUND_THE_CLOCK.slots(spring, TZ, local(spring, 0), planned=False)) == 23
    assert len(ROUND_THE_CLOCK.slots(autumn, TZ, local(autumn, 0), planned=False)) == 25
    assert len(DAYTIME.slots(spring, TZ, local(spring, 0))) == len(DAYTIME.slots(autumn, TZ, local(autumn, 0))) == 11


def test_a_team_that_does_not_visit_at_weekends_plans_its_seven_visits_on_its_own_days() -> None:
    weekdays = ServiceHours(days=frozenset(range(5)))
    plan = planning.plan_home_treatment(assessment(local(THURSDAY, 14)), team("a"), TZ, local(THURSDAY, 14), hours=weekdays)
    days = [at.date() for at in local_starts(plan)]
    assert len(days) == 7 and all(day.weekday() < 5 for day in days)
    assert days[0] == date(2026, 11, 27) and days[1] == date(2026, 11, 30)  # Friday, then Monday


# A visit asked for ------------------------------------------------------------------------------------


def episode(team_name: str = "htcr:northern") -> domain.Episode:
    return domain.Episode(episode_id=uuid4(), patient_id=uuid4(), team=team_name)


def request_for(plan: domain.Episode, day: date) -> VisitRequested:
    return VisitRequested(request_id=uuid4(), patient_id=plan.patient_id, episode_id=plan.episode_id, day=day, requested_by="staff-0042")


def test_a_round_the_clock_team_asked_at_half_past_one_in_the_morning_books_the_two_oclock_window() -> None:
    now, open_episode = local(THURSDAY, 1, 30), episode()
    day = domain.visit_request_day(open_episode, request_for(open_episode, THURSDAY), TZ, now, ROUND_THE_CLOCK)
    start, staff_id = planning.assign(team("a"), day, TZ, now, (), (), ROUND_THE_CLOCK, planned=False)
    assert (day, start.astimezone(TZ).hour, staff_id) == (THURSDAY, 2, "a")


def test_a_daytime_team_asked_after_its_last_window_refuses_the_day_and_says_why() -> None:
    open_episode = episode("htcr:western")
    with pytest.raises(Exception, match="no visit window left in the team's hours"):
        domain.visit_request_day(open_episode, request_for(open_episode, THURSDAY), TZ, local(THURSDAY, 21), DAYTIME)


# The first days of a plan ------------------------------------------------------------------------------


def test_someone_stepping_down_from_a_ward_at_eleven_is_seen_at_home_that_day() -> None:
    now = local(THURSDAY, 11, 10)
    plan = planning.plan_home_treatment(assessment(now, step_down=True), team("a"), TZ, now, hours=DAYTIME)
    first = local_starts(plan)[0]
    assert (first.date(), first.hour) == (THURSDAY, 12)
    assert plan.first_day(TZ) == THURSDAY and len(plan.visits) == 7


def test_a_step_down_after_the_visiting_hours_is_seen_that_evening_by_a_team_still_open_else_tomorrow() -> None:
    now = local(THURSDAY, 20, 30)
    extended = ServiceHours(visiting=(9, 20), open=(8, 22))
    evening = planning.plan_home_treatment(assessment(now, step_down=True), team("a"), TZ, now, hours=extended)
    assert local_starts(evening)[0] == local(THURSDAY, 21).astimezone(TZ)
    tomorrow = planning.plan_home_treatment(assessment(now, step_down=True), team("a"), TZ, now, hours=DAYTIME)
    assert local_starts(tomorrow)[0] == local(THURSDAY + timedelta(days=1), 9).astimezone(TZ)


def test_someone_not_stepping_down_is_first_seen_the_next_day_arranged_the_day_before() -> None:
    now = local(THURSDAY, 11)
    plan = planning.plan_home_treatment(assessment(now), team("a"), TZ, now, hours=DAYTIME)
    assert local_starts(plan)[0].date() == THURSDAY + timedelta(days=1)


def test_a_plan_asking_for_two_visits_a_day_has_two_on_each_of_the_first_three_days_six_hours_apart() -> None:
    now = local(THURSDAY, 14)
    plan = planning.plan_home_treatment(assessment(now, visits_a_day_at_first=2), team("a", "b", "c"), TZ, now, hours=DAYTIME)
    per_day = Counter(at.date() for at in local_starts(plan))
    days = sorted(per_day)
    assert [per_day[day] for day in days] == [2, 2, 2, 1, 1, 1, 1]
    for day in days[:3]:
        first, second = sorted(at for at in local_starts(plan) if at.date() == day)
        assert second - first >= timedelta(hours=6)
    assert plan.agreed.visits_first_week == len(plan.visits) == 10


def test_a_second_visit_the_days_hours_cannot_hold_is_not_booked() -> None:
    now = local(THURSDAY, 17)  # a step-down seen at 18:00: no window six hours later before 20:00
    plan = planning.plan_home_treatment(assessment(now, step_down=True, visits_a_day_at_first=2), team("a"), TZ, now, hours=DAYTIME)
    per_day = Counter(at.date() for at in local_starts(plan))
    assert per_day[THURSDAY] == 1 and per_day[THURSDAY + timedelta(days=1)] == 2


# The rules file -----------------------------------------------------------------------------------------


def test_the_rules_file_gives_every_trust_its_hours_and_the_example_round_the_clock_trust_is_open_all_day() -> None:
    rules = load_rules()
    assert set(rules) == set(Trust)
    assert rules[Trust.NORTHERN].open == (0, 24) and rules[Trust.WESTERN] == DAYTIME
    deps = Dependencies(tz=TZ, missed_grace=timedelta(minutes=30), hours=rules)
    assert deps.hours_of("htcr:northern") == rules[Trust.NORTHERN]
    assert deps.hours_of(None) == deps.hours_of("htcr:atlantis") == DAYTIME


@pytest.mark.parametrize("body, says", [
    ('[default]\nvisiting = "9-20"\n', "HH:00-HH:00"),
    ('[default]\nvisiting = "20:00-09:00"\n', "the first before the second"),
    ('[trust.belfast]\nvisiting = "07:00-20:00"\nopen = "08:00-20:00"\n', "within the open hours"),
    ('[trust.belfast]\ndays = ["mon", "funday"]\n', "days must be some of"),
    ('[trust.belfast]\nopening = "24/7"\n', "Extra inputs are not permitted"),
    ('[trust.atlantis]\n', "atlantis"),
])
def test_a_rules_file_that_makes_no_sense_is_refused_at_start_naming_the_file_and_the_problem(tmp_path: Path, body: str, says: str) -> None:
    path = tmp_path / "trust_rules.toml"
    path.write_text(body)
    with pytest.raises(ValueError, match="trust_rules.toml rejected") as refused:
        load_rules(path)
    assert says in str(refused.value)


# The day before ------------------------------------------------------------------------------------------


def test_from_midday_tomorrows_visits_are_the_ones_to_confirm_and_before_midday_none() -> None:
    assert domain.confirmation_window(TZ, local(THURSDAY, 11, 59)) is None
    start, end = domain.confirmation_window(TZ, local(THURSDAY, 12))
    assert (start, end) == (local(THURSDAY + timedelta(days=1), 0), local(THURSDAY + timedelta(days=2), 0))
    spring_eve = date(2026, 3, 28)  # the night the clocks go forward: tomorrow has 23 hours
    start, end = domain.confirmation_window(TZ, local(spring_eve, 18))
    assert end - start == timedelta(hours=23)


def test_the_confirmation_tells_the_patient_the_window_and_who_is_coming() -> None:
    visit = domain.Visit(uuid4(), uuid4(), uuid4(), None, "s-1", local(THURSDAY, 10), local(THURSDAY, 11))
    told = messages.visit_confirmed(visit, "Niamh", TZ, local(THURSDAY - timedelta(days=1), 12))
    assert (told.recipient, told.kind) == ("patient", "visit-confirmed")
    assert "Thursday 26 November, is between 10:00 and 11:00" in told.text and "Niamh from the home treatment team" in told.text
    assert "Someone from the home treatment team" in messages.visit_confirmed(visit, None, TZ, local(THURSDAY, 12)).text


def test_a_confirmed_visit_someone_else_will_make_is_told_to_the_patient_at_once_and_an_unconfirmed_one_is_not() -> None:
    members = team("a", "b")
    members.staff["b"] = Staff("b", frozenset(), display_name="Brid")
    episode_id, patient_id = uuid4(), uuid4()
    moved = [VisitScheduled(visit_id=uuid4(), patient_id=patient_id, episode_id=episode_id, window_start=local(THURSDAY, hour),
                            window_end=local(THURSDAY, hour + 1), planned_minutes=60, staff_id="b") for hour in (10, 15)]
    plan = domain.Episode(episode_id=episode_id, patient_id=patient_id, team="htcr:northern")
    revision = planning.Revision(plan, "b", ("b",), tuple(moved), None)
    events = messages.revised("htcr:northern", [revision], TZ, local(THURSDAY - timedelta(days=1), 13), [moved[0].visit_id], members)
    told = [e for e in events if getattr(e, "kind", None) == "visit-changed"]
    assert len(told) == 1 and told[0].recipient == "patient"
    assert "between 10:00 and 11:00: Brid from the home treatment team will come instead" in told[0].text
