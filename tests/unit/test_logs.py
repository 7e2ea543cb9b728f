"""Logs never carry patient identifiers, even if a line tries to."""

import json
import logging

import pytest
import structlog

from shared.runtime.logs import configure_logging, mask_hc_numbers, scrub


def test_a_valid_hc_number_is_masked_in_any_spacing() -> None:
    for text in ("id 9434765919 here", "id 943 476 5919 here", "id 943-476-5919 here"):
        assert mask_hc_numbers(text) == "id [hc-number] here"


def test_numbers_that_are_not_hc_numbers_are_left_alone() -> None:
    """Offsets and counts survive; only numbers passing the check digit are masked."""
    assert mask_hc_numbers("offset 9434765918 and 12345") == "offset 9434765918 and 12345"


def test_identifying_fields_are_redacted() -> None:
    scrubbed = scrub(None, "info", {"event": "x", "patient_name": "Jo Bloggs", "hc_number": "1", "topic": "t"})
    assert scrubbed == {"event": "x", "patient_name": "[redacted]", "hc_number": "[redacted]", "topic": "t"}


@pytest.fixture
def logging_restored_afterwards():
    """The test points logging at pytest's captured standard error, which is closed after it: the
    tests after it (in the same process) log where they did before."""
    structlog_config, root = structlog.get_config(), logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.configure(**structlog_config)
    structlog.contextvars.clear_contextvars()
    root.handlers[:], root.level = handlers, level


def test_library_log_lines_are_json_and_scrubbed(capsys, logging_restored_afterwards) -> None:
    """A line from any library goes through the same JSON renderer and scrubber."""
    configure_logging("test", log_format="json")
    logging.getLogger("some.library").warning("failed for 943 476 5919")
    structlog.get_logger("ours").info("event.processed", event_id="e1")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["event"] == "failed for [hc-number]" and lines[0]["service"] == "test"
    assert lines[1]["event"] == "event.processed" and lines[1]["event_id"] == "e1"
