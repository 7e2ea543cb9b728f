"""What a sender writes cannot act on an operator's terminal: every control character, escape
sequence and bidi override prints as inert text, whichever command prints it."""

import io
import sys
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from contracts import OperatorReadAudited
from tools import cli
from tools.audit_report import report
from tools.eventlog import LoggedEvent, one_line
from tools.terminal import SafeStream, guarded, safe

HOSTILE = {
    "an OSC window title": "key\x1b]0;you have been pwned\x07name",
    "an OSC title ended by ST": "key\x1b]2;pwned\x1b\\name",
    "a CSI clear screen": "before\x1b[2J\x1b[Hafter",
    "a C1 CSI": "before\x9b2Jafter",
    "a bidi override": "invoice\u202egnp.exe",
    "a bidi isolate": "left\u2066right\u2069",
    "a NUL": "nul\x00here",
    "a DEL": "del\x7fhere",
    "a carriage return overwriting the line": "all is well\rALL IS LOST",
    "a backspace": "ok\x08\x08no",
}
# What a terminal acts on: C0 controls, DEL, C1 controls and the bidi controls.
ACTING = {chr(code) for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)]} | set("\u061c\u200e\u200f") | {
    chr(code) for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
}


def inert(text: str, *, newlines: bool = False) -> bool:
    return not (set(text) & (ACTING - ({"\n"} if newlines else set())))


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_string_prints_as_inert_text_that_still_shows_what_it_held(hostile: str) -> None:
    """Every control becomes a visible escape such as \\x1b or \\u202e: nothing is acted on,
    and the operator can still see that something was there."""
    shown = safe(hostile)
    assert inert(shown)
    assert "\\x" in shown or "\\u" in shown
    assert shown.replace("\\", "").isprintable()


def test_a_newline_cannot_start_a_forged_line_of_output() -> None:
    """One line stays one line; a stream of lines keeps its own newlines."""
    forged = "rejected\n2026-11-26T09:30:00+00:00 carepath.referral.events[0]@1 all fine"
    assert "\n" not in safe(forged) and "\\x0a" in safe(forged)
    assert safe("one\ntwo", newlines=True) == "one\ntwo"


def test_ordinary_text_is_left_as_it_is() -> None:
    """Names in other scripts, accents, the mask and punctuation print unchanged."""
    text = "Siobhán Ó Néill • Zoë • Łódź • 東京 • ••• • {\"a\":1}"
    assert safe(text) == text


def test_a_dead_letter_reason_carrying_an_escape_sequence_prints_harmlessly_in_the_tail() -> None:
    """A header name a sender chose, quoted in the reason, reaches the tail as inert text."""
    headers = {"dlq_reason": "header \x1b]0;pwned\x07 is not UTF-8\x1b[2J", "dlq_original_topic": "carepath.referral.inbound",
               "dlq_original_partition": "3", "dlq_original_offset": "7", "dlq_consumer": "carepath-referral\u202e"}
    line = one_line(LoggedEvent("carepath.deadletter", 0, 1, headers, None, None, None))
    assert inert(line) and "DEAD-LETTER" in line and "pwned" in line


def test_an_operators_reason_with_escapes_prints_harmlessly_in_the_audit_report() -> None:
    """A reason typed with an escape sequence and a newline is one inert line of the report."""
    patient = uuid4()
    read = OperatorReadAudited(patient_id=patient, operator="j.smith", reason="INC-1\x1b[2J\nforged line",
                               read="copies delivered to ward:belfast", service="assessment", read_at=datetime.now(UTC))
    lines = report(patient, [read])
    assert len(lines) == 2 and all(inert(line) for line in lines)


def test_whatever_is_written_through_the_guard_is_made_safe() -> None:
    """The guard every command runs under: escapes shown, newlines kept, other calls passed on."""
    raw = io.StringIO()
    guarded_out = SafeStream(raw)
    print("title\x1b]0;pwned\x07", "\x9b2J", file=guarded_out)
    guarded_out.flush()
    assert raw.getvalue() == "title\\x1b]0;pwned\\x07 \\x9b2J\n"


def test_every_carepath_command_prints_through_the_guard(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    """`carepath health` reads a heartbeat file anyone on the host could write: what it prints is inert."""
    beat = tmp_path / "heartbeat"
    beat.write_text('{"service": "referral\\u001b]0;pwned\\u0007", "parked": 0}')
    with pytest.raises(SystemExit):
        cli.main(["health", "--file", str(beat)])
    out = capsys.readouterr().out
    assert "healthy" in out and inert(out, newlines=True)
    assert not isinstance(sys.stdout, SafeStream)  # put back as it was


def test_the_guard_does_not_wrap_twice() -> None:
    """Nested commands (`up` runs `tail` and `demo`) share one guard."""
    with guarded():
        outer = sys.stdout
        with guarded():
            assert sys.stdout is outer
