"""The "who has seen my record" report for one patient, from the audit trail: every disclosure
and denial, every consent change, every break-glass alert, operator read and redrive, oldest first. Pure: events in, lines out."""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from contracts import BreakGlassAlerted, ConsentChangeAudited, DeadLetterRedriven, DisclosureAudited, Event, OperatorReadAudited
from tools.terminal import safe

Audited = DisclosureAudited | ConsentChangeAudited | BreakGlassAlerted | OperatorReadAudited | DeadLetterRedriven


def report(patient_id: UUID, events: Iterable[Event]) -> list[str]:
    entries = sorted((e for e in events if isinstance(e, Audited) and e.patient_id == patient_id), key=_when)
    counts = [
        f"{sum(isinstance(e, DisclosureAudited) for e in entries)} decision(s)",
        f"{sum(isinstance(e, ConsentChangeAudited) for e in entries)} consent change(s)",
        f"{sum(isinstance(e, BreakGlassAlerted) for e in entries)} break-glass alert(s)",
        f"{sum(isinstance(e, OperatorReadAudited) for e in entries)} operator read(s)",
        f"{sum(isinstance(e, DeadLetterRedriven) for e in entries)} redrive(s)",
    ]
    # Safe for a terminal, a line each: an operator's reason is their own words, which may hold anything.
    return [safe(line) for line in (f"who has seen the record of patient {patient_id}: {', '.join(counts)}", *map(_line, entries))]


def _when(entry: Audited) -> datetime:
    if isinstance(entry, DisclosureAudited):
        return entry.decided_at
    if isinstance(entry, ConsentChangeAudited):
        return entry.changed_at
    if isinstance(entry, OperatorReadAudited):
        return entry.read_at
    if isinstance(entry, DeadLetterRedriven):
        return entry.redriven_at
    return entry.alerted_at


def _line(entry: Audited) -> str:
    if isinstance(entry, OperatorReadAudited):
        return (f"  {_when(entry):%Y-%m-%d %H:%M:%S} {'operator ' + entry.operator:<22} OPERATOR READ  {entry.read} "
                f"from {entry.service}'s database  because: {entry.reason}")
    if isinstance(entry, DeadLetterRedriven):
        return (f"  {_when(entry):%Y-%m-%d %H:%M:%S} {'operator ' + entry.operator:<22} REDRIVEN  {entry.event_type or 'a record'} "
                f"(dead letter {entry.dead_letter}: {entry.failed_with}) to {entry.to_topic}  because: {entry.reason}")
    at = f"  {_when(entry):%Y-%m-%d %H:%M:%S} {entry.recipient:<22}"
    if isinstance(entry, DisclosureAudited):
        outcome = "DISCLOSED" if entry.permitted else "DENIED"
        override = " BREAK-GLASS" if entry.override else ""
        return (
            f"{at} {outcome}{override}  sent: {', '.join(entry.disclosed) or '-'}  withheld: {', '.join(entry.denied) or '-'}  "
            f"purpose: {entry.purpose}  consent v{entry.consent_version}  via {entry.via} ({entry.reason})"
        )
    if isinstance(entry, ConsentChangeAudited) and entry.change == "copies-erased":
        return f"{at} COPIES ERASED  copy keys destroyed: {entry.keys_destroyed}"
    if isinstance(entry, ConsentChangeAudited):
        decision = "permit" if entry.permit else "deny"
        return (
            f"{at} CONSENT {entry.change.upper()}  {decision}: {', '.join(entry.categories)}  now consent v{entry.consent_version}  "
            f"copy keys destroyed: {entry.keys_destroyed}"
        )
    return (
        f"{at} BREAK-GLASS ALERT  by {entry.staff_id}  opened: {', '.join(entry.categories)}  "
        f"until {entry.expires_at:%Y-%m-%d %H:%M:%S}"
    )
