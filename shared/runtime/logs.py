"""structlog, configured once for every service: JSON when not on a terminal, with the
service name, and the event id and correlation id bound per message.

No patient identifiers or clinical text may appear in a log line. Code never logs payloads;
as a second line of defence the `scrub` processor drops fields with identifying names and
masks anything shaped like a valid H&C number, in our lines and in libraries' lines alike.
"""

import logging
import re
import sys
from typing import Any

import structlog

from shared.reference import hc_number

SENSITIVE_KEYS = frozenset(
    {"hc_number", "patient_name", "name", "phone", "address", "date_of_birth", "outcome_reason", "reason_text"}
)
_HC_LIKE = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")


def mask_hc_numbers(text: str) -> str:
    def mask(match: re.Match[str]) -> str:
        return "[hc-number]" if hc_number.is_valid("".join(match.groups())) else match.group(0)

    return _HC_LIKE.sub(mask, text)


def scrub(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key in SENSITIVE_KEYS & event_dict.keys():
        event_dict[key] = "[redacted]"
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = mask_hc_numbers(value)
    return event_dict


def configure_logging(service: str, log_format: str = "auto", level: int = logging.INFO) -> None:
    """carepath's own lines go straight from structlog to standard error (a line below `level`
    costs nothing: a service logs a line per event at debug); libraries' lines come through the
    standard library's logging, rendered and scrubbed the same way."""
    as_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        scrub,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared_processors, renderer],
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared_processors],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # FastStream gives its own logger a coloured stdout handler at import; route it through ours.
    faststream = logging.getLogger("faststream")
    faststream.handlers.clear()
    faststream.propagate = True
    # aiokafka is chatty at INFO about every rebalance step; warnings still come through.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
