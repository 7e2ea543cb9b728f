"""`carepath journey ID`: one patient's or one correlation's steps in the order they happened, how
long each took, and the dead letters on the way, or plainly that the login could not read them."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from contracts import Envelope
from tools.eventlog import LoggedEvent
from tools.journey_report import report, took

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
PATIENT, JOURNEY = uuid4(), uuid4()


def step(event_type: str, after: timedelta, *, subject=PATIENT, correlation=JOURNEY, topic="referral.events") -> LoggedEvent:
    envelope = Envelope(id=uuid4(), source="/carepath/referral", type=event_type, time=START + after, subject=str(subject),
                        correlationid=correlation)
    return LoggedEvent(f"carepath.{topic}", 2, 7, {}, envelope, None, None)


def dead_letter(after: timedelta, reason: str) -> LoggedEvent:
    headers = {"ce_type": "carepath.assessment.submitted.v1", "ce_subject": str(PATIENT), "ce_correlationid": str(JOURNEY),
               "dlq_reason": reason, "dlq_consumer": "carepath-assessment", "dlq_original_topic": "carepath.assessment.inbound",
               "dlq_original_partition": "2", "dlq_original_offset": "41", "dlq_failed_at": (START + after).isoformat()}
    return LoggedEvent("carepath.deadletter", 0, 3, headers, None, None, None)


JOURNEY_STEPS = [
    step("carepath.visit.scheduled.v1", timedelta(hours=2, minutes=3), topic="scheduling.events"),
    step("carepath.referral.accepted.v1", timedelta(0)),
    step("carepath.assessment.completed.v1", timedelta(minutes=95), topic="assessment.events"),
    step("carepath.referral.accepted.v1", timedelta(seconds=1), subject=uuid4(), correlation=uuid4()),  # someone else's
]


def test_a_patients_steps_are_listed_in_time_order_with_each_steps_duration_and_the_total() -> None:
    """Out of order on the topics, in order in the report: since the step before, and since the first."""
    lines = report(str(PATIENT), JOURNEY_STEPS, prefix="carepath", dead_letters_readable=True)
    assert lines[0] == f"journey {PATIENT}: 3 step(s) over 2h03m, 0 dead letter(s)"
    steps = lines[2:]
    assert [line.split()[4] for line in steps] == [
        "carepath.referral.accepted.v1", "carepath.assessment.completed.v1", "carepath.visit.scheduled.v1"]
    assert steps[0].split()[2:4] == ["+0ms", "0ms"]
    assert steps[1].split()[2:4] == ["+1h35m", "1h35m"]
    assert steps[2].split()[2:4] == ["+28m00s", "2h03m"]
    assert "on assessment.events[2]@7" in steps[1]


def test_the_same_journey_is_found_by_its_correlation_id() -> None:
    """A correlation id finds the same steps as the patient's id, in any letter case."""
    by_patient = report(str(PATIENT), JOURNEY_STEPS, prefix="carepath", dead_letters_readable=True)
    by_correlation = report(str(JOURNEY).upper(), JOURNEY_STEPS, prefix="carepath", dead_letters_readable=True)
    assert by_patient[1:] == by_correlation[1:]


def test_a_dead_letter_on_the_way_is_a_step_with_its_reason_made_safe_to_print() -> None:
    """When the login reads dead letters, one refused on the way shows where it came from, who
    refused it and why (and a reason cannot act on the terminal)."""
    lines = report(str(PATIENT), [*JOURNEY_STEPS, dead_letter(timedelta(minutes=30), "rejected: \x1b[2Jno episode")],
                   prefix="carepath", dead_letters_readable=True)
    assert lines[0].endswith("1 dead letter(s)")
    [dead] = [line for line in lines if "DEAD LETTER" in line]
    assert "carepath.assessment.submitted.v1 from assessment.inbound[2]@41, refused by carepath-assessment" in dead
    assert "\x1b" not in dead and "no episode" in dead
    assert lines.index(dead) == 3  # between the acceptance and the assessment


def test_a_login_that_may_not_read_dead_letters_is_told_so_plainly() -> None:
    """The operator's journey says dead letters were not readable, and how to see them."""
    lines = report(str(PATIENT), JOURNEY_STEPS, prefix="test-1", dead_letters_readable=False, principal="operator")
    assert lines[-1] == ("dead letters: not shown, operator may not read test-1.deadletter (it holds raw input); "
                         "`carepath --as admin journey` includes them")


def test_an_id_nothing_has_says_so() -> None:
    """No step found is an answer too, naming whose view it was."""
    assert report(str(uuid4()), JOURNEY_STEPS, prefix="carepath", dead_letters_readable=True, principal="operator")[0].endswith(
        "nothing on the topics operator may read has it as its patient or correlation id")


def test_durations_read_at_a_glance() -> None:
    """Milliseconds, seconds, minutes, hours and days, two units at most."""
    assert [took(timedelta(seconds=s)) for s in (0.412, 12.34, 125, 7_380, 190_000)] == ["412ms", "12.3s", "2m05s", "2h03m",
                                                                                          "2d04h"]
