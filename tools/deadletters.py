"""Dead letters an operator can act on: list them, show one, and put them back (redrive) on the
topic they came from once whatever made them fail is fixed.

A redriven record is the original, byte for byte (key, value, CloudEvents headers), marked with
`carepath_redrive_id` and `carepath_redrive_of`; the services' inboxes know its event id, so
however often it is redriven its event is handled once. Each redrive is on the audit trail
(`DeadLetterRedriven`: who, why, which) before the record is sent. Dead letters hold raw input
from Trust systems, so only the admin principal may read them, and what is shown of one is its
headers and, when it still decodes, its fields masked for display.
"""

import asyncio
import fnmatch
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from contracts import DEAD_LETTER, TOPICS, DeadLetterRedriven, Envelope
from shared.runtime.codec import Undecodable, decode_record, encode, headers_to_dict
from shared.runtime.kafka import KafkaLogin
from shared.runtime.parking import REDRIVE_ID, REDRIVE_OF
from tools.eventlog import masked
from tools.reports import Reader

_DEAD_LETTER_HEADERS = ("dlq_reason", "dlq_consumer", "dlq_original_topic", "dlq_original_partition", "dlq_original_offset",
                        "dlq_failed_at")
# What `show` prints of a dead letter's headers: carepath's own and the CloudEvents attributes,
# never a header a sender made up.
_SHOWN_HEADERS = ("ce_type", "ce_specversion", "ce_id", "ce_source", "ce_time", "ce_subject", "ce_correlationid", "ce_causationid", "content-type",
                  REDRIVE_ID, REDRIVE_OF, *_DEAD_LETTER_HEADERS)


@dataclass(frozen=True)
class DeadLetter:
    """One record on the dead-letter topic: where it sits there, and what it says of itself."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]

    @property
    def id(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def reason(self) -> str:
        return self.headers.get("dlq_reason", "(no reason recorded)")

    @property
    def consumer(self) -> str:
        return self.headers.get("dlq_consumer", "?")

    @property
    def original_topic(self) -> str:
        return self.headers.get("dlq_original_topic", "")

    @property
    def failed_at(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.headers["dlq_failed_at"])
        except (KeyError, ValueError):
            return None

    @property
    def event_type(self) -> str | None:
        return self.headers.get("ce_type")

    def age(self, now: datetime) -> timedelta | None:
        return now - self.failed_at if self.failed_at else None


def from_record(record: ConsumerRecord) -> DeadLetter:
    return DeadLetter(record.partition, record.offset, record.key, record.value, headers_to_dict(record.headers))


@dataclass(frozen=True)
class Filter:
    """Which dead letters: the reason (a glob: `rejected:*`), the topic they came from (its name,
    prefix or not), the consumer that gave up, since when they failed, and whose they are (the
    Kafka key: a pseudonymous patient id, or a member of staff's id for the rota)."""

    reason: str | None = None
    key: str | None = None
    topic: str | None = None
    consumer: str | None = None
    since: datetime | None = None
    ids: tuple[str, ...] = ()

    def __call__(self, letter: DeadLetter) -> bool:
        return (
            (not self.ids or letter.id in self.ids)
            and (self.key is None or letter.key == self.key.encode())
            and (self.reason is None or fnmatch.fnmatchcase(letter.reason, self.reason))
            and (self.topic is None or letter.original_topic in (self.topic,) or letter.original_topic.endswith(f".{self.topic}"))
            and (self.consumer is None or letter.consumer == self.consumer or letter.consumer.endswith(f"-{self.consumer}"))
            and (self.since is None or (letter.failed_at is not None and letter.failed_at >= self.since))
        )


def one_line(letter: DeadLetter, now: datetime) -> str:
    failed = letter.failed_at.isoformat(timespec="seconds") if letter.failed_at else "?"
    age = letter.age(now)
    return (f"{letter.id:>9} {failed} ({_ago(age)}) from {letter.original_topic or '?'} by {letter.consumer}: "
            f"{letter.event_type or '(no type)'}: {letter.reason}")


def _ago(age: timedelta | None) -> str:
    if age is None:
        return "age unknown"
    seconds = int(age.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"


def described(letter: DeadLetter) -> list[str]:
    """A dead letter for the operator: carepath's headers, and the event masked if it decodes
    (else how big it is: raw input from a sender is not shown)."""
    lines = [f"dead letter {letter.id}"]
    lines += [f"  {name}: {letter.headers[name]}" for name in _SHOWN_HEADERS if name in letter.headers]
    others = sorted(set(letter.headers) - set(_SHOWN_HEADERS))
    if others:
        lines.append(f"  other headers: {len(others)} (not shown)")
    try:
        _, event = decode_record([(n, v.encode()) for n, v in _original_headers(letter.headers).items()], letter.key, letter.value)
    except Undecodable as error:
        lines.append(f"  value: {len(letter.value or b'')} bytes, not shown (as it stands it does not decode: {error.reason})")
    else:
        lines.append(f"  value (masked): {json.dumps(masked(event), ensure_ascii=False)}")
    return lines


def _original_headers(headers: dict[str, str]) -> dict[str, str]:
    """The record's headers as its sender wrote them: without the dead letter's and a redrive's."""
    return {name: value for name, value in headers.items() if name not in _DEAD_LETTER_HEADERS and name not in (REDRIVE_ID, REDRIVE_OF)}


def destination(letter: DeadLetter, prefix: str) -> str:
    """The topic the dead letter goes back to: the one it came from, if it is one of this
    deployment's topics (never the dead-letter topic itself, never a name from elsewhere)."""
    allowed = {topic.full_name(prefix) for topic in TOPICS if topic is not DEAD_LETTER}
    if letter.original_topic not in allowed:
        raise ValueError(f"dead letter {letter.id} came from no topic of this deployment ({letter.original_topic or 'none recorded'})")
    return letter.original_topic


def redriven_headers(letter: DeadLetter, redrive_id: UUID) -> list[tuple[str, bytes]]:
    marked = _original_headers(letter.headers) | {REDRIVE_ID: str(redrive_id), REDRIVE_OF: letter.id}
    return [(name, value.encode()) for name, value in marked.items()]


def audit_of(letter: DeadLetter, operator: Reader, redrive_id: UUID, to_topic: str, now: datetime) -> DeadLetterRedriven:
    envelope = _envelope_of(letter)
    return DeadLetterRedriven(
        redrive_id=redrive_id,
        patient_id=_uuid(envelope.subject) if envelope else _uuid(letter.headers.get("ce_subject")),
        operator=operator.operator,
        login=(operator.login or "")[:64] or None,
        reason=operator.reason,
        dead_letter=letter.id,
        to_topic=to_topic,
        event_type=envelope.type if envelope else None,
        event_id=envelope.id if envelope else None,
        failed_with=letter.reason[:300],
        redriven_at=now,
    )


def _envelope_of(letter: DeadLetter) -> Envelope | None:
    try:
        envelope, _ = decode_record([(n, v.encode()) for n, v in _original_headers(letter.headers).items()], letter.key, letter.value)
    except Undecodable:
        return None
    return envelope


def _uuid(text: str | None) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


# ---------------------------------------------------------------- on the broker

async def read(login: KafkaLogin, prefix: str, keep: Filter = Filter()) -> list[DeadLetter]:
    """Every dead letter on the topic now, oldest position first, that the filter keeps."""
    topic = DEAD_LETTER.full_name(prefix)
    consumer = AIOKafkaConsumer(**login.options(), group_id=None, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, number) for number in sorted(consumer.partitions_for_topic(topic) or range(DEAD_LETTER.partitions))]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        letters: list[DeadLetter] = []
        async with asyncio.timeout(60):
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                for tp, records in (await consumer.getmany(*partitions, timeout_ms=500)).items():
                    letters += [from_record(record) for record in records if record.offset < ends[tp]]
        return [letter for letter in sorted(letters, key=lambda letter: (letter.partition, letter.offset)) if keep(letter)]
    finally:
        await consumer.stop()


async def redrive(login: KafkaLogin, prefix: str, letters: Sequence[DeadLetter], operator: Reader, *,
                  rate_per_s: float = 10, now: datetime | None = None) -> list[DeadLetterRedriven]:
    """Puts each dead letter back where it came from, at most `rate_per_s` a second, each audited
    (and the audit acknowledged by the broker) before it is sent; returns the audit records."""
    producer = AIOKafkaProducer(**login.options(), enable_idempotence=True, acks="all")
    await producer.start()
    done: list[DeadLetterRedriven] = []
    try:
        for letter in letters:
            started = time.monotonic()
            to_topic = destination(letter, prefix)
            redrive_id = uuid4()
            audited = audit_of(letter, operator, redrive_id, to_topic, now or datetime.now(UTC))
            original = _envelope_of(letter)  # the journey it belongs to, so `carepath journey` shows the redrive
            record = encode(audited, Envelope(id=uuid4(), source="/carepath/operator", type=audited.cloudevents_type(),
                                              time=audited.redriven_at, subject=audited.key,
                                              correlationid=original.correlationid if original else redrive_id))
            await producer.send_and_wait(audited.topic.full_name(prefix), record.value, key=record.key, headers=list(_encoded(record.headers)))
            await producer.send_and_wait(to_topic, letter.value, key=letter.key, headers=redriven_headers(letter, redrive_id))
            done.append(audited)
            await asyncio.sleep(max(0.0, 1 / rate_per_s - (time.monotonic() - started)))
    finally:
        await producer.stop()
    return done


def _encoded(headers: dict[str, str]) -> Iterable[tuple[str, bytes]]:
    return ((name, value.encode()) for name, value in headers.items())


# ---------------------------------------------------------------- the command

def add_arguments(commands) -> None:  # noqa: ANN001 - argparse's subparsers action has no public type
    """`carepath deadletters list|show|redrive`: its options, beside the others in `carepath --help`."""
    parser = commands.add_parser("deadletters", help="list, show and redrive dead letters (as the admin principal)")
    parser.add_argument("action", choices=["list", "show", "redrive"])
    parser.add_argument("ids", nargs="*", help="show/redrive: dead letters by PARTITION:OFFSET, as `list` prints them")
    parser.add_argument("--failed-with", dest="failed_with", help="only those whose reason matches this glob, e.g. 'rejected:*'")
    parser.add_argument("--from-topic", dest="from_topic", help="only those from this topic, e.g. referral.inbound")
    parser.add_argument("--consumer", help="only those this consumer group gave up on, e.g. referral")
    parser.add_argument("--patient", help="only those of this patient (the pseudonymous id: the record's key)")
    parser.add_argument("--since", help="only those that failed since: an ISO time, or a duration ago (30m, 2h, 7d)")
    parser.add_argument("--all", action="store_true", help="redrive: every dead letter the filters keep (else name them)")
    parser.add_argument("--rate", type=float, default=10, help="redrive: at most this many a second (default 10)")
    parser.add_argument("--reason", help="redrive: why (required; audited with who you are: CAREPATH_OPERATOR)")


def since(text: str | None, now: datetime) -> datetime | None:
    """An ISO time (UTC when it has no offset), or a duration back from now: 90s, 30m, 2h, 7d."""
    if not text:
        return None
    units = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}
    if text[-1:] in units and text[:-1].isdigit():
        return now - timedelta(seconds=int(text[:-1]) * units[text[-1]])
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"--since: not an ISO time or a duration like 30m, 2h, 7d: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def command(login: KafkaLogin, prefix: str, args, operator: Reader | None, say) -> int:  # noqa: ANN001
    """Runs one `carepath deadletters` action; `say` prints one line (made safe for a terminal)."""
    now = datetime.now(UTC)
    keep = Filter(reason=args.failed_with, key=args.patient, topic=args.from_topic, consumer=args.consumer, since=since(args.since, now), ids=tuple(args.ids))
    if args.action == "redrive" and not (args.ids or args.all):
        raise SystemExit("redrive: name the dead letters (PARTITION:OFFSET), or --all with filters")
    letters = await read(login, prefix, keep)
    if args.action == "list":
        for letter in letters:
            say(one_line(letter, now))
        oldest = max((letter.age(now) for letter in letters if letter.failed_at), default=None)
        say(f"{len(letters)} dead letter(s)" + (f", the oldest failed {_ago(oldest)}" if oldest else ""))
        return 0
    missing = sorted(set(args.ids) - {letter.id for letter in letters})
    if missing:
        say(f"no such dead letter (or not kept by the filters): {', '.join(missing)}")
        return 1
    if args.action == "show":
        for letter in letters:
            for line in described(letter):
                say(line)
        return 0
    if operator is None:
        raise SystemExit("redrive needs why (--reason, at least 3 characters) and who you are (CAREPATH_OPERATOR)")
    audited = await redrive(login, prefix, letters, operator, rate_per_s=args.rate)
    for entry in audited:
        say(f"redriven {entry.dead_letter} to {entry.to_topic} (redrive {entry.redrive_id}, audited)")
    say(f"{len(audited)} dead letter(s) redriven")
    return 0
