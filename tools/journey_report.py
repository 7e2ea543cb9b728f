"""`carepath journey ID`: one patient's journey (or one correlation's) across every topic the
login may read, in the order things happened, with how long each step took since the one
before and since the first, and the dead letters on the way when the login may read them.
`report` is pure: logged events in, lines out. (`tools.journey` is the demo journey that the
Trust systems' side feeds in.)"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from contracts import DEAD_LETTER
from contracts.access import readable
from shared.runtime.kafka import KafkaLogin
from tools.eventlog import EventLog, LoggedEvent
from tools.terminal import safe


def belongs(logged: LoggedEvent, wanted: str) -> bool:
    """Of the journey `wanted` names: the patient's (its ce_subject) or the correlation's. By
    correlation it includes the referral as it was sent, keyed by the referral id."""
    wanted = wanted.lower()
    return (logged.subject or "").lower() == wanted or (logged.correlation or "").lower() == wanted


def happened_at(logged: LoggedEvent) -> datetime:
    """An event's own time; a dead letter's, when it was dead-lettered; else the record's."""
    if logged.envelope is not None:
        return logged.envelope.time
    if logged.dead_letter:
        try:
            return datetime.fromisoformat(logged.headers["dlq_failed_at"])
        except (KeyError, ValueError):
            pass
    return datetime.fromtimestamp((logged.timestamp_ms or 0) / 1000, UTC)


def took(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours:02d}h"
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def report(wanted: str, logged: Iterable[LoggedEvent], *, prefix: str, dead_letters_readable: bool,
           principal: str | None = None) -> list[str]:
    steps = sorted((step for step in logged if belongs(step, wanted)), key=lambda step: (happened_at(step), step.offset))
    dead = sum(step.dead_letter for step in steps)
    if not steps:
        lines = [f"journey {wanted}: nothing on the topics {principal or 'this login'} may read has it as its patient "
                 "or correlation id"]
    else:
        first = happened_at(steps[0])
        span = took(happened_at(steps[-1]) - first)
        lines = [f"journey {wanted}: {len(steps)} step(s) over {span}, {dead} dead letter(s)",
                 f"  {'when (UTC)':<23}  {'step took':>9}  {'since first':>11}  what"]
        previous = first
        for step in steps:
            at = happened_at(step)
            lines.append(f"  {at.astimezone(UTC):%Y-%m-%d %H:%M:%S}.{at.microsecond // 1000:03d}  {'+' + took(at - previous):>9}  "
                         f"{took(at - first):>11}  {_what(step, prefix)}")
            previous = at
    if not dead_letters_readable:
        lines.append(f"dead letters: not shown, {principal or 'this login'} may not read {DEAD_LETTER.full_name(prefix)} "
                     "(it holds raw input); `carepath --as admin journey` includes them")
    return [safe(line) for line in lines]


def _what(step: LoggedEvent, prefix: str) -> str:
    topic = step.topic.removeprefix(f"{prefix}.")
    where = f"{topic}[{step.partition}]@{step.offset}"
    if step.dead_letter:
        origin = step.headers.get("dlq_original_topic", "?").removeprefix(f"{prefix}.")
        return (f"DEAD LETTER {step.type or '(no type)'} from {origin}[{step.headers.get('dlq_original_partition', '?')}]"
                f"@{step.headers.get('dlq_original_offset', '?')}, refused by {step.headers.get('dlq_consumer', '?')}: "
                f"{step.headers.get('dlq_reason', '?')}")
    if step.envelope is None:
        return f"UNDECODABLE {where}: {step.problem}"
    return f"{step.envelope.type}  by {step.envelope.source}  on {where}"


async def journey(login: KafkaLogin, prefix: str, wanted: str, *, since: datetime | None = None, timeout_s: float = 30) -> list[str]:
    """Reads every topic the login may read, up to now, and reports the journey `wanted` names."""
    topics = readable(login.principal)
    async with EventLog(login, prefix, topics=topics, since=since) as log:
        await log.caught_up(timeout_s)
        seen = [logged for logged in log.seen if belongs(logged, wanted)]
    return report(wanted, seen, prefix=prefix, dead_letters_readable=DEAD_LETTER in topics, principal=login.principal)
