"""The discharge service's Trust rules: follow-up clocks by risk and Trust, and the notice a patient
is given before home treatment ends."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from contracts import (
    DischargeDecided,
    DischargeRefused,
    EpisodeClosed,
    FollowUpContactRecorded,
    FollowUpSource,
    GateCondition,
    OnwardCare,
    SummaryContent,
)
from services.discharge import domain
from services.discharge.rules import RULES_FILE, TrustRules, load_rules

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)  # a Thursday; Belfast is on UTC in November
PATIENT, EPISODE = uuid4(), uuid4()
RULES = TrustRules(follow_up=timedelta(hours=72), suicide_risk_follow_up=timedelta(hours=48), discharge_notice=timedelta(hours=48))
SEVEN_DAYS = TrustRules(follow_up=timedelta(hours=168), suicide_risk_follow_up=timedelta(hours=48), discharge_notice=timedelta(hours=48))
NO_NOTICE_RULE = TrustRules(follow_up=timedelta(hours=72), suicide_risk_follow_up=timedelta(hours=48), discharge_notice=timedelta(0))


def ready(**fields: object) -> domain.Episode:
    base = dict(
        episode_id=EPISODE, patient_id=PATIENT, visits_completed=6, closed_at=None, trust="belfast",
        patient_told=True, patient_told_at=NOW - timedelta(days=3), planned_for=NOW.date(), onward_to=OnwardCare.CMHT,
        crisis_contacts_given=True, summary=SummaryContent(reason_for_care="Low mood."), crisis_contacts=("Lifeline 0808 808 8000",),
    )
    return domain.Episode(**(base | fields))


def decision(at: datetime = NOW) -> DischargeDecided:
    return DischargeDecided(patient_id=PATIENT, episode_id=EPISODE, decided_by="staff-7", reason="clinical text", decided_at=at)


def clock(hours: float, due_in: float | None) -> domain.FollowUp:
    discharged = NOW - timedelta(hours=hours)
    due = discharged + timedelta(hours=due_in) if due_in is not None else None
    return domain.FollowUp(uuid4(), PATIENT, EPISODE, FollowUpSource.HOME_TREATMENT, "belfast", discharged, due)


# --- The rules file ------------------------------------------------------------------------------

def test_the_packaged_rules_give_72_hours_48_with_a_risk_of_suicide_and_the_example_trust_7_days() -> None:
    rules = load_rules()
    assert rules.of("belfast").follow_up == timedelta(hours=72) and rules.of(None).follow_up == timedelta(hours=72)
    assert rules.of("belfast").suicide_risk_follow_up == timedelta(hours=48)
    assert rules.of("western").follow_up == timedelta(hours=168)
    assert rules.of("western").suicide_risk_follow_up == timedelta(hours=48), "a Trust's own standard never lengthens the suicide-risk clock"


def test_the_packaged_rules_say_which_trust_is_example_data() -> None:
    text = RULES_FILE.read_text()
    assert "EXAMPLE DATA" in text.split("[trust.western]")[1]


@pytest.mark.parametrize(("body", "words"), [
    ("[default]\nfollow_up_hours = 72\nsuicide_risk_follow_up_hours = 48\ndischarge_notice_hours = 48\nfollowup_hours = 72\n", "followup_hours"),
    ("[default]\nfollow_up_hours = 72\nsuicide_risk_follow_up_hours = 48\ndischarge_notice_hours = 48\n[trust.eastern]\n", "eastern"),
    ("[default]\nfollow_up_hours = 72\ndischarge_notice_hours = 48\n", "suicide_risk_follow_up_hours"),
    ("[default]\nfollow_up_hours = 0\nsuicide_risk_follow_up_hours = 48\ndischarge_notice_hours = 48\n", "follow_up_hours"),
    ("[default\nfollow_up_hours = 72\n", "rules.toml rejected"),
])
def test_a_rules_file_with_an_unknown_key_trust_or_missing_value_is_refused_at_start_naming_the_file(
    tmp_path: Path, body: str, words: str
) -> None:
    path = tmp_path / "my-rules.toml"
    path.write_text(body)
    with pytest.raises(ValueError, match="my-rules.toml rejected") as refused:
        load_rules(path)
    assert words in str(refused.value)


# --- The follow-up clock -------------------------------------------------------------------------

def test_a_risk_of_suicide_gives_a_48_hour_clock_and_otherwise_the_trusts_standard() -> None:
    assert domain.follow_up_due(RULES, NOW, suicide_risk_identified=True) == NOW + timedelta(hours=48)
    assert domain.follow_up_due(RULES, NOW, suicide_risk_identified=False) == NOW + timedelta(hours=72)
    assert domain.follow_up_due(SEVEN_DAYS, NOW, suicide_risk_identified=False) == NOW + timedelta(days=7)
    assert domain.follow_up_due(SEVEN_DAYS, NOW, suicide_risk_identified=True) == NOW + timedelta(hours=48)


def test_closing_an_episode_carries_its_clock_in_the_event() -> None:
    risky = domain.complete(ready(suicide_risk_identified=True), decision(), NOW, RULES)
    plain = domain.complete(ready(), decision(), NOW, SEVEN_DAYS)
    assert isinstance(risky, EpisodeClosed) and risky.due_at == NOW + timedelta(hours=48)
    assert isinstance(plain, EpisodeClosed) and plain.due_at == NOW + timedelta(days=7)


def test_a_48_hour_clock_breaches_after_48_hours_saying_so_and_a_7_day_clock_does_not_at_72() -> None:
    risky = clock(hours=50, due_in=48)
    assert domain.follow_up_breach(clock(hours=47, due_in=48), NOW) is None
    breach = domain.follow_up_breach(risky, NOW)
    assert breach is not None and breach.due_at == risky.discharged_at + timedelta(hours=48) and breach.hours_late == 2
    [alert] = domain.follow_up_overdue(risky, breach, NOW)
    assert alert.text.startswith("No follow-up contact within 48 hours of discharge (2 h late).")
    assert domain.follow_up_breach(clock(hours=100, due_in=168), NOW) is None


def test_a_contact_is_in_time_by_its_clocks_own_due_time() -> None:
    contact = FollowUpContactRecorded(patient_id=PATIENT, contact_by="s-3", contact_at=NOW)
    risky, plain = clock(hours=60, due_in=48), clock(hours=60, due_in=72)
    done = domain.follow_ups_completed(contact, [(risky.followup_id, risky.due), (plain.followup_id, plain.due)])
    assert [(c.followup_id, c.within_target) for c in done] == [(risky.followup_id, False), (plain.followup_id, True)]


def test_the_patients_letter_says_when_they_will_be_contacted_by_their_own_clock() -> None:
    for rules, risk, words in ((RULES, True, "within 2 days"), (RULES, False, "within 3 days"), (SEVEN_DAYS, False, "within 7 days")):
        closed = domain.complete(ready(suicide_risk_identified=risk), decision(), NOW, rules)
        assert words in domain.discharged(ready(), closed, (), NOW).text


# --- Notice before home treatment ends -----------------------------------------------------------

def start_of(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), domain.BELFAST)


def test_a_discharge_planned_24_hours_after_the_patient_was_first_told_is_refused_saying_why() -> None:
    told = start_of(NOW.date()) - timedelta(hours=24)
    refused = domain.complete(ready(patient_told_at=told), decision(), NOW, RULES)
    assert isinstance(refused, DischargeRefused) and refused.missing == (GateCondition.NOTICE_GIVEN,)
    assert refused.explanation == (
        "The patient was first told on Wednesday 25 November at 00:00 and home treatment would end on Thursday 26 November "
        "(from midnight): 24 hours' notice, not the 48 hours they must have, unless they ask for it to end sooner."
    )


def test_a_discharge_the_patient_asked_to_be_sooner_is_allowed_with_less_notice() -> None:
    closed = domain.complete(ready(patient_told_at=NOW - timedelta(hours=1), patient_asked_to_end_sooner=True), decision(), NOW, RULES)
    assert isinstance(closed, EpisodeClosed)


def test_a_discharge_planned_48_hours_after_the_patient_was_first_told_is_allowed() -> None:
    told = start_of(NOW.date()) - timedelta(hours=48)
    assert isinstance(domain.complete(ready(patient_told_at=told), decision(), NOW, RULES), EpisodeClosed)
    late = told + timedelta(minutes=1)
    assert isinstance(domain.complete(ready(patient_told_at=late), decision(), NOW, RULES), DischargeRefused)


def test_a_discharge_completed_before_its_planned_day_counts_the_notice_to_when_it_is_completed() -> None:
    """Told on Thursday, planned for Monday, but completed on Thursday: the patient had an hour."""
    episode = ready(patient_told_at=NOW - timedelta(hours=1), planned_for=date(2026, 11, 30))
    refused = domain.complete(episode, decision(), NOW, RULES)
    assert isinstance(refused, DischargeRefused) and refused.missing == (GateCondition.NOTICE_GIVEN,)
    assert "would end now: 1 hour's notice" in refused.explanation
    on_the_day = datetime(2026, 11, 30, 9, tzinfo=UTC)
    assert isinstance(domain.complete(episode, decision(on_the_day), on_the_day, RULES), EpisodeClosed)


def test_the_planned_day_begins_at_midnight_in_belfast_summer_time_too() -> None:
    """In June midnight in Belfast is 23:00 UTC the day before."""
    day, decided = date(2026, 6, 11), datetime(2026, 6, 11, 9, tzinfo=UTC)
    told = datetime(2026, 6, 8, 23, 0, tzinfo=UTC)  # 00:00 BST on 9 June: 48 hours before 00:00 BST on 11 June
    assert isinstance(domain.complete(ready(patient_told_at=told, planned_for=day), decision(decided), decided, RULES), EpisodeClosed)
    later = told + timedelta(minutes=30)
    assert isinstance(domain.complete(ready(patient_told_at=later, planned_for=day), decision(decided), decided, RULES), DischargeRefused)


def test_a_patient_never_told_is_refused_for_both_and_the_words_say_so() -> None:
    refused = domain.complete(ready(patient_told=False, patient_told_at=None), decision(), NOW, RULES)
    assert refused.missing == (GateCondition.PATIENT_TOLD, GateCondition.NOTICE_GIVEN)
    assert refused.explanation == (
        "The patient has not been told: no conversation with them and no acknowledgement from them is recorded. "
        "The patient must be told at least 48 hours before home treatment ends, unless they ask for it to end sooner."
    )


def test_with_no_notice_rule_the_gate_asks_only_that_the_patient_was_told() -> None:
    assert isinstance(domain.complete(ready(patient_told_at=NOW), decision(), NOW, NO_NOTICE_RULE), EpisodeClosed)
    refused = domain.complete(ready(patient_told=False, patient_told_at=None), decision(), NOW, NO_NOTICE_RULE)
    assert refused.missing == (GateCondition.PATIENT_TOLD,)
