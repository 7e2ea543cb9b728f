"""`carepath`: the operators' command.

  carepath tail            every event on every carepath topic, decoded, one line each, following
                           (--patient ID, --correlation ID, --type GLOB, --topic T, --since 15m)
  carepath journey ID      one patient's (or correlation's) journey in time order, each step's duration
  carepath lag             each consumer group's lag, partition by partition
  carepath up [--demo]     run the four services, the board and the FHIR gateway (and feed the demo journey), showing the event log
  carepath demo            feed one demo patient journey in, as the Trust's systems would
  carepath directory       the service directory used for signposting (--trust T for one Trust)
  carepath audit PATIENT   who has seen a patient's record: every disclosure and denial
  carepath copies PATIENT RECIPIENT --reason R   what a recipient was given, opened (audited)
  carepath assessment diff PATIENT [V1 V2] --reason R   what changed in a patient's assessment (audited)
  carepath scheduling report [--episode E]   visits per team per week; continuity of an episode
  carepath board rebuild  the board's read model made again from the log (the board stopped), with progress
  carepath board add-user NAME --trust T   a member of staff who may sign in to the board (password asked)
  carepath fidelity --trust T [--week W] [--csv]   a team's fidelity figures for a week
  carepath topics create   create carepath's topics, or give them their settings (make infra does this)
  carepath access grant    every principal's credential and ACLs on this deployment (make infra does this)
  carepath access add NAME --like KIND   onboard one more Trust system with the rights of a kind
  carepath deadletters list|show|redrive   dead letters: find them, look at one, put them back (audited)
  carepath wait-kafka      wait until the broker answers an admin call
  carepath tls DIR --host H   a CA and a broker certificate for a broker reached over TLS (docker-compose.yml)

Every command logs in to Kafka (SASL/SCRAM) as the principal it needs: `tail`, `journey`, `lag` and
`audit` as `operator`, `demo` as each Trust system, `topics`, `access` and `wait-kafka` as `admin`; `--as`
(or CAREPATH_KAFKA_USERNAME) says otherwise. A password comes from CAREPATH_KAFKA_PASSWORD, or
the principal's file in CAREPATH_KAFKA_CREDENTIALS_DIR (.cache/kafka/credentials).
  carepath health          exit 0 while a service's heartbeat is fresh and no partition has stalled
"""

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from uuid import UUID

from datetime import UTC, date, datetime
from pathlib import Path

from contracts import AUDIT, TOPICS, ServiceKind, Topic, Trust
from tools import audit_report, deadletters, reports
from shared.reference.directory import DIRECTORY_FILE, DirectoryError, load_directory
from tools import journey_report, lag, terminal
from tools.eventlog import EventLog, Selection, chosen_topics, moment, one_line
from tools.journey import Journey, Patient, trust_systems
from contracts.access import PRINCIPALS, Kind, readable
from shared.runtime.kafka import KafkaLogin, create_topics, wait_for_kafka
from shared.runtime.settings import KafkaSettings

_EPOCH = datetime.min.replace(tzinfo=UTC)
SERVICES = ("referral", "assessment", "scheduling", "discharge", "board", "gateway")


def main(argv: list[str] | None = None) -> None:
    """Whatever a command prints is made safe for a terminal on its way (`tools.terminal`)."""
    with terminal.guarded():
        _main(argv)


def _main(argv: list[str] | None = None) -> None:
    # Long (about 60 lines) because it is the command's table: each subcommand and its options,
    # read top to bottom as `carepath --help` prints them, then one dispatch.
    settings = KafkaSettings()
    parser = argparse.ArgumentParser(prog="carepath", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", default=settings.kafka_bootstrap, help="Kafka bootstrap servers")
    parser.add_argument("--prefix", default=settings.topic_prefix, help="topic prefix of this deployment")
    parser.add_argument("--as", dest="principal", default=None, help="the Kafka principal to log in as (default: the command's)")
    commands = parser.add_subparsers(dest="command", required=True)

    tail = commands.add_parser("tail", help="print every event, decoded, one line each")
    tail.add_argument("--latest", action="store_true", help="only events published from now on")
    tail.add_argument("--once", action="store_true", help="print what is there now, then exit")
    tail.add_argument("--patient", help="only this patient's events (the pseudonymous id: ce_subject, the key)")
    tail.add_argument("--correlation", help="only this journey's events (ce_correlationid)")
    tail.add_argument("--type", dest="event_type", metavar="GLOB", help="only event types matching, e.g. 'carepath.referral.*'")
    tail.add_argument("--topic", action="append", metavar="TOPIC", choices=[topic.name for topic in TOPICS],
                      help="only this topic, e.g. referral.events (repeat; default: every topic the login may read)")
    tail.add_argument("--since", help="from this moment: an ISO time (UTC without an offset), or a duration ago: 15m, 2h, 7d")
    journey_ = commands.add_parser("journey", help="one patient's (or correlation's) journey in time order, each step's duration")
    journey_.add_argument("id", help="a pseudonymous patient id or a correlation id")
    journey_.add_argument("--since", help="only what happened since: an ISO time, or a duration ago: 15m, 2h, 7d")
    commands.add_parser("lag", help="each consumer group's lag per partition: its committed offset against the end")

    up = commands.add_parser("up", help="run the four services, the board and the FHIR gateway, and show the event log")
    up.add_argument("--demo", action="store_true", help="feed one demo patient journey in")
    up.add_argument("--logs", default=".cache/logs", help="directory for the services' own logs")

    commands.add_parser("demo", help="feed one demo patient journey in")
    audit = commands.add_parser("audit", help='"who has seen my record": every disclosure and denial for one patient')
    audit.add_argument("patient_id", type=UUID, help="pseudonymous patient id")
    copies_ = commands.add_parser("copies", help="what a recipient was delivered about a patient, opened as the recipient reads it")
    copies_.add_argument("patient_id", type=UUID, help="pseudonymous patient id")
    copies_.add_argument("recipient", help="e.g. ward:belfast, gp, carer:partner-1")
    copies_.add_argument("--assessment-database-url", default=None, help="default: the assessment service's setting")
    copies_.add_argument("--discharge-database-url", default=None, help="default: the discharge service's setting")
    copies_.add_argument("--assessment-keystore-url", default=None, help="default: the assessment service's setting")
    copies_.add_argument("--discharge-keystore-url", default=None, help="default: the discharge service's setting")
    copies_.add_argument("--reason", required=True, help="why you are reading it (audited with who you are: CAREPATH_OPERATOR)")
    directory = commands.add_parser("directory", help="show the service directory used for signposting")
    directory.add_argument("--trust", choices=[trust.value for trust in Trust], help="only this Trust's entries")
    directory.add_argument("--file", type=Path, default=DIRECTORY_FILE, help="directory file to check and show")
    assessment = commands.add_parser("assessment", help="a patient's assessment (reads the assessment database)")
    assessment.add_argument("action", choices=["diff"])
    assessment.add_argument("patient_id", type=UUID, help="pseudonymous patient id")
    assessment.add_argument("from_version", type=int, nargs="?", help="default: the one before the latest")
    assessment.add_argument("to_version", type=int, nargs="?", help="default: the latest")
    assessment.add_argument("--database-url", default=None, help="default: the assessment service's setting")
    assessment.add_argument("--reason", required=True, help="why you are reading it (audited with who you are: CAREPATH_OPERATOR)")
    scheduling = commands.add_parser("scheduling", help="visit reports (reads the scheduling database)")
    scheduling.add_argument("action", choices=["report"])
    scheduling.add_argument("--episode", type=UUID, help="continuity of one episode")
    scheduling.add_argument("--database-url", default=None, help="default: the scheduling service's setting")
    board_ = commands.add_parser("board", help="the team's board: rebuild its read model from the log; add a user who may sign in")
    board_.add_argument("action", choices=["rebuild", "add-user"])
    board_.add_argument("username", nargs="?", help="add-user: their sign-in name")
    board_.add_argument("--trust", choices=[trust.value for trust in Trust], help="add-user: the Trust whose teams they see")
    board_.add_argument("--users-file", default=None, help="add-user: default: the board's setting (CAREPATH_USERS_FILE)")
    fidelity = commands.add_parser("fidelity", help="a team's fidelity figures for a week (reads the board's database)")
    fidelity.add_argument("--trust", required=True, choices=[trust.value for trust in Trust])
    fidelity.add_argument("--week", help="any day of the week, YYYY-MM-DD (default: this week)")
    fidelity.add_argument("--csv", action="store_true", help="the figures as CSV, as the fidelity page exports them")
    topics = commands.add_parser("topics", help="manage topics")
    topics.add_argument("action", choices=["create"])
    access = commands.add_parser("access", help="Kafka principals and their ACLs (as the admin principal)")
    access.add_argument("action", choices=["grant", "add"])
    access.add_argument("name", nargs="?", help="add: the new principal, e.g. gp-system-emis-belfast")
    access.add_argument("--like", choices=[known.name for known in PRINCIPALS if known.kind is Kind.TRUST_SYSTEM],
                        help="add: the kind of Trust system whose rights it gets")
    health = commands.add_parser(
        "health", help="exit 0 if a service's heartbeat is fresh and no partition has stalled (Docker health check)"
    )
    health.add_argument("--file", default="/tmp/carepath.heartbeat")
    health.add_argument("--max-age", type=float, default=30, help="seconds")
    wait = commands.add_parser("wait-kafka", help="wait until Kafka answers")
    wait.add_argument("--timeout", type=float, default=60)
    deadletters.add_arguments(commands)
    commands.add_parser("routes", help="the route map: every event, who publishes it, which handlers take it (Markdown)")
    tls = commands.add_parser("tls", help="a CA and a broker certificate, as PEM files (docker-compose.yml's broker)")
    tls.add_argument("directory", type=Path)
    tls.add_argument("--host", action="append", required=True, help="a name or address the broker is reached by (repeat)")

    args = parser.parse_args(argv)
    if args.command in ("tail", "journey"):
        if getattr(args, "latest", False) and args.since:
            parser.error("tail: --latest or --since, not both")
        try:
            args.since = moment(args.since, datetime.now(UTC)) if args.since else None
        except ValueError as error:
            parser.error(f"--since: {error}")
    if args.command == "access" and args.action == "add" and not (args.name and args.like):
        parser.error("access add needs a NAME and --like KIND")
    args.settings = settings.model_copy(update={"kafka_bootstrap": args.bootstrap})
    # Library chatter (aiokafka retrying a connection) is not for the operator's screen.
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    if args.command == "health":
        sys.exit(_health(Path(args.file), args.max_age))
    if args.command == "directory":
        sys.exit(_show_directory(args.file, Trust(args.trust) if args.trust else None))
    if args.command == "tls":
        from tools import tls as tls_material

        made = tls_material.create(args.directory, args.host)
        sys.exit(print(f"tls: made {', '.join(map(str, made))}" if made else f"tls: {args.directory} already holds ca.pem and broker.pem"))
    if args.command == "board" and args.action == "add-user":
        if not (args.username and args.trust):
            parser.error("board add-user needs a USERNAME and --trust T")
        sys.exit(_add_board_user(args.username, Trust(args.trust), args.users_file))
    if args.command == "fidelity":
        try:
            week = date.fromisoformat(args.week) if args.week else None
        except ValueError:
            parser.error("--week: a day as YYYY-MM-DD")
        sys.exit(asyncio.run(_fidelity(Trust(args.trust), week, args.csv)))
    if args.command == "board":
        sys.exit(asyncio.run(_rebuild_board()))
    if args.command == "routes":
        from tools import routes  # imports every service: only this command needs them

        sys.exit(routes.main())
    try:
        asyncio.run(_run(args))
    except KeyboardInterrupt:
        pass


def _show_directory(path: Path, trust: Trust | None) -> int:
    try:
        directory = load_directory(path)
    except DirectoryError as error:
        print(error, file=sys.stderr)
        return 1
    for shown in [trust] if trust else list(Trust):
        print(f"{shown.value} Trust")
        for entry in sorted(directory.for_trust(shown), key=lambda entry: list(ServiceKind).index(entry.kind)):
            hours = "24/7" if entry.open_24_7 else entry.hours
            phone = f", {entry.phone}" if entry.phone else ""
            print(f"  [{entry.kind.value}] {entry.name} ({hours}{phone})")
            print(f"      for: {entry.eligibility}")
            print(f"      how: {entry.how_to_access}")
        print()
    if any(entry.example for entry in directory.entries):
        print("Entries marked as examples have not been checked with the Trusts.")
    return 0


def _add_board_user(username: str, trust: Trust, users_file: str | None) -> int:
    """The password is asked for twice on the terminal (never an argument: it would be in the
    shell's history), or read from standard input when that is not a terminal."""
    from services.board.settings import Settings as BoardSettings
    from services.board.signin import add_user

    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {username}: ")
        if getpass.getpass("again: ") != password:
            print("the two passwords differ: nothing changed", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 12:
        print("a board password needs at least 12 characters: nothing changed", file=sys.stderr)
        return 1
    path = Path(users_file or BoardSettings().users_file)
    try:
        add_user(path, username, trust, password)
    except ValueError as error:
        print(f"board add-user: {error}: nothing changed", file=sys.stderr)
        return 1
    print(f"board: {username} may sign in to {trust.value}'s teams ({path})")
    return 0


async def _fidelity(trust: Trust, week: date | None, as_csv: bool) -> int:
    from services.board.feedback import text_lines
    from services.board.fidelity import LONDON, text_report
    from services.board.reader import Reader
    from services.board.settings import Settings as BoardSettings
    from services.board.web import fidelity_csv, monday_of
    from shared.runtime.clock import SystemClock
    from shared.runtime.db import create_pool

    day = week or datetime.now(UTC).astimezone(LONDON).date()
    pool = await create_pool(BoardSettings().database_url, min_size=1, max_size=1)
    try:
        figures = await Reader(pool, SystemClock()).fidelity(f"htcr:{trust.value}", monday_of(day))
    finally:
        await pool.close()
    if as_csv:
        print(fidelity_csv(figures), end="")
    else:
        feedback = "\n" + "\n".join(text_lines(figures.feedback)) + "\n" if figures.feedback else ""
        print(text_report(figures) + feedback)
    return 0


async def _rebuild_board() -> int:
    from services.board.settings import Settings as BoardSettings
    from tools.board import StillRunning, rebuild

    configure_logging_quietly()
    try:
        total, seconds = await rebuild(BoardSettings())
    except StillRunning as error:
        print(f"board rebuild: {error}", file=sys.stderr)
        return 1
    print(f"board rebuild: {total:,} events in {seconds:.1f} s ({total / seconds if seconds else 0:,.0f} events/s)")
    return 0


def configure_logging_quietly() -> None:
    """The rebuild's consumers log as a service does; only warnings are for the operator's screen."""
    from shared.runtime.logs import configure_logging

    configure_logging("board", "console", level=logging.WARNING)


def _health(path: Path, max_age_s: float) -> int:
    """Prints what is wrong, if anything: no fresh heartbeat, a partition with lag that has not
    moved (the topic and partition named), events set aside unpublished or parked too long."""
    try:
        age = time.time() - path.stat().st_mtime
        status = json.loads(path.read_text() or "{}")
    except (FileNotFoundError, json.JSONDecodeError):
        print(f"unhealthy: no heartbeat at {path}")
        return 1
    if age > max_age_s:
        print(f"unhealthy: last heartbeat {age:.0f}s ago (database or broker not answering?)")
        return 1
    for stall in status.get("stalled", []):
        print(f"unhealthy: {stall['consumer']} has not advanced on {stall['topic']} partition {stall['partition']} "
              f"for {stall['stalled_s']}s with {stall['lag']} record(s) waiting")
    if status.get("set_aside"):
        print(f"warning: {status['set_aside']} event(s) could not be published and were set aside (see the outbox)")
    if status.get("parked_too_long"):
        print(f"warning: {status['parked_too_long']} event(s) parked for over a day, still waiting for what they need")
    if status.get("stalled"):
        return 1
    print(f"healthy: {status.get('service', 'service')}, {status.get('parked', 0)} event(s) parked")
    return 0


_PRINCIPAL = {"tail": "operator", "audit": "operator", "up": "operator", "demo": "operator",
              "journey": "operator", "lag": "operator",
              "topics": "admin", "access": "admin", "wait-kafka": "admin", "deadletters": "admin"}


def _login(args: argparse.Namespace) -> KafkaLogin:
    settings = args.settings if args.principal is None else args.settings.model_copy(update={"kafka_username": args.principal})
    return settings.kafka_login(_PRINCIPAL[args.command])


async def _run(args: argparse.Namespace) -> None:
    login = _login(args) if args.command in _PRINCIPAL else None
    if args.command == "tail":
        await _tail(login, args.prefix, from_beginning=not args.latest, once=args.once, since=args.since,
                    topics=_chosen(login, args.topic), keep=Selection(args.patient, args.correlation, args.event_type))
    elif args.command == "journey":
        print("\n".join(await journey_report.journey(login, args.prefix, args.id, since=args.since)))
    elif args.command == "lag":
        lags, hidden = await lag.partition_lags(login, args.prefix, lag.subscriptions(args.prefix))
        print("\n".join(lag.report(lags, hidden, prefix=args.prefix, principal=login.principal)))
    elif args.command == "audit":
        await _audit(login, args.prefix, args.patient_id)
    elif args.command == "copies":
        urls = {"assessment": (args.assessment_database_url, args.assessment_keystore_url),
                "discharge": (args.discharge_database_url, args.discharge_keystore_url)}
        await reports.copies_delivered(args.patient_id, args.recipient, urls, _reader(args.reason))
    elif args.command == "demo":
        await _demo(login, args.prefix)
    elif args.command == "up":
        await _up(login, args.prefix, demo=args.demo, logs=Path(args.logs))
    elif args.command == "assessment":
        await reports.assessment_diff(args.patient_id, args.from_version, args.to_version, args.database_url, _reader(args.reason))
    elif args.command == "scheduling":
        await reports.scheduling_report(args.episode, args.database_url)
    elif args.command == "topics":
        created = await create_topics(login, args.prefix, args.settings.kafka_replication_factor)
        print(f"topics: created {', '.join(created)}" if created else "topics: all present, with carepath's settings")
    elif args.command == "access":
        await _access(login, args)
    elif args.command == "deadletters":
        reader = _reader(args.reason or "") if args.action == "redrive" else None
        sys.exit(await deadletters.command(login, args.prefix, args, reader, print))
    elif args.command == "wait-kafka":
        await wait_for_kafka(login, args.timeout)
        print(f"Kafka answers at {args.bootstrap}")


def _reader(reason: str) -> reports.Reader:
    """Who reads clinical content (or redrives a dead letter): CAREPATH_OPERATOR, else the login name; and why."""
    operator = os.environ.get("CAREPATH_OPERATOR") or getpass.getuser()
    if not re.fullmatch(r"[A-Za-z0-9._@-]{1,64}", operator or "") or len(reason.strip()) < 3:
        raise SystemExit("this needs who you are (CAREPATH_OPERATOR: letters, digits, . _ @ -) "
                         "and why (--reason, at least 3 characters)")
    return reports.Reader(operator, reason.strip()[:200], getpass.getuser())


async def _access(login: KafkaLogin, args: argparse.Namespace) -> None:
    from tools import access  # librdkafka's admin client: only these commands need it

    credentials = args.settings.kafka_credentials_dir
    if args.action == "grant":
        made, granted = await access.provision(login, args.prefix, credentials)
        print(f"access: {granted} ACLs on {args.prefix}.*" + (f"; new credentials for {', '.join(made)} in {credentials}" if made else ""))
    else:
        path = await asyncio.to_thread(access.add_system, login, args.prefix, args.name, args.like, credentials)
        print(f"access: {args.name} may do what {args.like} does on {args.prefix}.*; its password is in {path}")


def _chosen(login: KafkaLogin, names: list[str] | None) -> tuple[Topic, ...]:
    try:
        return chosen_topics(login.principal, names)
    except ValueError as error:
        raise SystemExit(f"tail: {error}") from None


async def _tail(login: KafkaLogin, prefix: str, *, from_beginning: bool, once: bool, topics: tuple[Topic, ...] | None = None,
                keep: Selection = Selection(), since: datetime | None = None) -> None:
    """Every topic the principal may read (or those of them asked for): as the operator, carepath's
    own events and the audit trail, not what Trust systems send nor the dead letters; of them, the
    events `keep` keeps, from `since` (each partition sought to it, nothing before it read)."""
    async with EventLog(login, prefix, from_beginning=from_beginning, topics=topics or readable(login.principal), since=since) as log:
        if once:
            await log.caught_up()
            for logged in sorted(filter(keep, log.seen), key=lambda logged: logged.envelope.time if logged.envelope else _EPOCH):
                print(one_line(logged), flush=True)
            return
        async for logged in log.follow():
            if keep(logged):
                print(one_line(logged), flush=True)


async def _audit(login: KafkaLogin, prefix: str, patient_id: UUID) -> None:
    """Every disclosure, denial, consent change and break-glass alert about one patient."""
    async with EventLog(login, prefix, topics=(AUDIT,)) as log:
        await log.caught_up()
        lines = audit_report.report(patient_id, (logged.event for logged in log.seen if logged.event is not None))
    print("\n".join(lines))


async def _demo(login: KafkaLogin, prefix: str) -> None:
    patient = Patient()
    gp, clinician, staff_app = trust_systems(login, prefix)
    async with EventLog(login, prefix, from_beginning=False, topics=readable(login.principal)) as log, gp, clinician, staff_app:
        journey = Journey(log, gp, clinician, staff_app, patient, timeout_s=60)
        started = time.monotonic()
        _say(f"demo: GP refers a patient (referral {patient.referral_id})")
        accepted = await journey.refer()
        _say(f"demo: referral accepted; patient {accepted.patient_id}; clinician submits the assessment")
        visit = await journey.assess(accepted)
        _say(f"demo: first visit planned {visit.window_start:%a %d %b %H:%M}; staff app records it done")
        await journey.visit(visit)
        _say("demo: discharge planned with the patient (told, CMHT follow-on, crisis contacts); clinician completes it")
        closed = await journey.discharge(accepted)
        _say(f"demo: episode {closed.episode_id} closed by the discharge service, {time.monotonic() - started:.1f}s after the demo started")


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _say(f"demo: failed: {task.exception()!r}")


def _say(text: str) -> None:
    terminal.bold(text)


async def _up(login: KafkaLogin, prefix: str, *, demo: bool, logs: Path) -> None:
    logs.mkdir(parents=True, exist_ok=True)
    # Each service logs in as itself: not as whoever runs this command.
    env = {name: value for name, value in os.environ.items() if name not in {"CAREPATH_KAFKA_USERNAME", "CAREPATH_KAFKA_PASSWORD"}}
    env |= {"CAREPATH_KAFKA_BOOTSTRAP": login.bootstrap, "CAREPATH_TOPIC_PREFIX": prefix}
    env.setdefault("CAREPATH_ENV", "development")  # make infra's database password and the default keys
    # The board's pages over plain http on this machine: its session cookie may not be HTTPS-only,
    # and it is signed with a secret made here once and kept, so a restart keeps people signed in.
    env.setdefault("CAREPATH_COOKIE_HTTPS_ONLY", "false")
    if not env.get("CAREPATH_SESSION_SECRET"):
        import secrets

        secret_file = Path(".cache/board/session-secret")
        if not secret_file.exists():
            secret_file.parent.mkdir(parents=True, exist_ok=True)
            with os.fdopen(os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
                out.write(secrets.token_urlsafe(48))
        env["CAREPATH_SESSION_SECRET"] = secret_file.read_text().strip()
    if not env.get("CAREPATH_CALLERS_FILE"):  # the FHIR gateway's calling systems, each with a token of its own
        from services.gateway.callers import development_callers

        env["CAREPATH_CALLERS_FILE"] = str(development_callers(Path(".cache/gateway")))
    children = []
    for name in SERVICES:
        with open(logs / f"{name}.log", "ab") as out:
            own = env | {"CAREPATH_HEARTBEAT_FILE": str(logs / f"{name}.heartbeat")}  # one each: `carepath health --file`
            children.append(
                subprocess.Popen([sys.executable, "-m", f"services.{name}"], env=own, stdout=out, stderr=subprocess.STDOUT)
            )
    _say(f"up: started {', '.join(SERVICES)} (their logs: {logs}/); Ctrl-C stops them")
    users = env.get("CAREPATH_USERS_FILE", ".cache/board/users.json")
    _say(f"up: the board: http://127.0.0.1:{env.get('CAREPATH_WEB_PORT', '8400')}/ (sign in as a user added with "
         f"`carepath board add-user NAME --trust belfast`, kept in {users})")
    _say(f"up: the FHIR gateway: http://127.0.0.1:{env.get('CAREPATH_FHIR_PORT', '8410')}/fhir/ServiceRequest (bearer tokens "
         f"in .cache/gateway/tokens/)")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # A development run shows everything as it flows, what the Trust systems send too: as the admin.
    watching = login.as_principal("admin") if env["CAREPATH_ENV"] == "development" else login
    tasks = [asyncio.create_task(_tail(watching, prefix, from_beginning=False, once=False))]
    if demo:
        tasks.append(asyncio.create_task(_demo(login, prefix)))
        tasks[-1].add_done_callback(_report_failure)
    try:
        while not stop.is_set():
            if any(child.poll() is not None for child in children):
                _say("up: a service exited; see its log")
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        _say("up: services stopped")


if __name__ == "__main__":
    main()
