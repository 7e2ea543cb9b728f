"""What an operator is shown of dead letters, and what a redrive sends back: no broker needed."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts import ReferralSubmitted
from shared.runtime.codec import encode
from tests.factories import envelope_for, referral
from tools import deadletters
from tools.reports import Reader

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
ON_CALL = Reader("j.smith", "INC-1: the GP system fixed its referral", "jsmith")


def dead_letter(*, reason: str = "rejected: no such team", topic: str = "carepath.referral.inbound", offset: int = 7,
                failed_at: datetime = NOW - timedelta(minutes=5), value: bytes | None = None,
                extra: dict[str, str] | None = None) -> deadletters.DeadLetter:
    event = referral(referral_id="GP-9")
    record = encode(event, envelope_for(event))
    headers = record.headers | (extra or {}) | {
        "dlq_reason": reason, "dlq_consumer": "carepath-referral", "dlq_original_topic": topic,
        "dlq_original_partition": "3", "dlq_original_offset": "41", "dlq_failed_at": failed_at.isoformat(),
    }
    return deadletters.DeadLetter(2, offset, record.key, record.value if value is None else value, headers)


def test_a_filter_keeps_dead_letters_by_reason_glob_topic_consumer_age_and_id() -> None:
    letter = dead_letter()
    assert deadletters.Filter(reason="rejected:*", topic="referral.inbound", consumer="referral")(letter)
    assert deadletters.Filter(since=NOW - timedelta(hours=1), ids=("2:7",))(letter)
    assert not deadletters.Filter(reason="handler failed*")(letter)
    assert not deadletters.Filter(topic="consent.inbound")(letter)
    assert not deadletters.Filter(since=NOW - timedelta(minutes=1))(letter)
    assert not deadletters.Filter(ids=("2:8",))(letter)


def test_a_redriven_record_carries_the_original_headers_and_the_redrive_mark_but_not_the_dead_letters_or_an_earlier_redrives() -> None:
    letter = dead_letter(extra={deadletters.REDRIVE_ID: "forged", deadletters.REDRIVE_OF: "0:0"})
    redrive_id = uuid4()
    headers = dict((name, value.decode()) for name, value in deadletters.redriven_headers(letter, redrive_id))
    assert not [name for name in headers if name.startswith("dlq_")]
    assert headers[deadletters.REDRIVE_ID] == str(redrive_id) and headers[deadletters.REDRIVE_OF] == "2:7"
    assert headers["ce_id"] == letter.headers["ce_id"], "the same event id, so the inbox handles it once"


def test_a_dead_letter_goes_back_only_to_a_topic_of_this_deployment_and_never_to_the_dead_letter_topic() -> None:
    assert deadletters.destination(dead_letter(), "carepath") == "carepath.referral.inbound"
    for topic in ("other.referral.inbound", "carepath.deadletter", "", "carepath.referral.inbound.x"):
        with pytest.raises(ValueError, match="came from no topic of this deployment"):
            deadletters.destination(dead_letter(topic=topic), "carepath")


def test_showing_a_dead_letter_masks_the_event_and_never_prints_raw_input_or_a_senders_own_headers() -> None:
    shown = "\n".join(deadletters.described(dead_letter(extra={"x-trust-note": "Jane Doe 943 476 5919"})))
    assert "other headers: 1 (not shown)" in shown and "Jane Doe" not in shown
    assert "value (masked)" in shown and "referral_id" in shown
    raw = "\n".join(deadletters.described(dead_letter(value=b'{"name": "Jane Doe", "hc_number": "9434765919"')))
    assert "bytes, not shown" in raw and "Jane Doe" not in raw and "9434765919" not in raw


def test_the_audit_of_a_redrive_says_who_why_which_and_names_the_patient_only_by_a_pseudonymous_id() -> None:
    letter = dead_letter()
    redrive_id = uuid4()
    audited = deadletters.audit_of(letter, ON_CALL, redrive_id, "carepath.referral.inbound", NOW)
    assert (audited.operator, audited.reason, audited.login, audited.dead_letter) == ("j.smith", ON_CALL.reason, "jsmith", "2:7")
    assert audited.event_type == ReferralSubmitted.cloudevents_type() and audited.event_id == UUID(letter.headers["ce_id"])
    assert audited.patient_id is None, "a new referral's subject is the referrer's id, not a patient id"
    assert audited.key == str(redrive_id)
    undecodable = deadletters.audit_of(dead_letter(value=b"not json"), ON_CALL, redrive_id, "carepath.referral.inbound", NOW)
    assert undecodable.event_type is None and undecodable.event_id is None


def test_since_takes_an_iso_time_or_a_duration_back_from_now_and_refuses_anything_else() -> None:
    assert deadletters.since("30m", NOW) == NOW - timedelta(minutes=30)
    assert deadletters.since("7d", NOW) == NOW - timedelta(days=7)
    assert deadletters.since("2026-12-06T08:00:00", NOW) == datetime(2026, 12, 6, 8, tzinfo=UTC)
    assert deadletters.since(None, NOW) is None
    with pytest.raises(SystemExit, match="--since"):
        deadletters.since("yesterday", NOW)


def test_a_listed_dead_letter_says_where_it_is_when_it_failed_how_long_ago_and_why() -> None:
    line = deadletters.one_line(dead_letter(), NOW)
    assert line.strip().startswith("2:7") and "(5m ago)" in line and "carepath.referral.inbound" in line and "no such team" in line
