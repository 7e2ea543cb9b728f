"""After the soak has settled: which journeys did not reach their end state, and which effects
happened twice, read from the event log and from each service's database.

An effect counts as happening twice when two *different* events (two CloudEvents ids) record
it, or two rows hold it. The same event id read twice off the log is the outbox republishing
after a crash: at-least-once by design, dropped by the readers' inboxes, so it is reported
(`republished`) but is not a duplicate effect."""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from contracts import (
    AssessmentCompleted,
    CarePlanAgreed,
    EpisodeClosed,
    NotificationSent,
    ReferralAccepted,
    ReferralAcknowledged,
    VisitCompleted,
    VisitScheduled,
)
from tests.bench.harness import ToolDeployment
from tests.bench.watch import WatchedLog
from tests.soak.journeys import Driven

# What the soak reads off the log, and the field each is filed under.
WATCHED = {
    ReferralAcknowledged: "referral_id",
    ReferralAccepted: "referral_id",
    AssessmentCompleted: "episode_id",
    CarePlanAgreed: "episode_id",
    VisitScheduled: "episode_id",
    VisitCompleted: "visit_id",
    EpisodeClosed: "episode_id",
    NotificationSent: None,
}
PATIENT_LETTERS = ("care-plan", "discharge-planned", "discharged")  # each sent to the patient once per episode


@dataclass
class Account:
    lost: dict[str, list[str]] = field(default_factory=dict)  # referral id -> what is missing
    duplicated: Counter[str] = field(default_factory=Counter)  # effect -> how many keys had it more than once
    republished: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)  # reason -> count


async def account(deployment: ToolDeployment, journeys: list[Driven]) -> Account:
    log: WatchedLog = deployment.log  # type: ignore[assignment]
    result = Account()
    referral_ids = {j.patient.referral_id for j in journeys if j.reached != "not sent"}
    accepted = {e.referral_id: e for e in log.events(ReferralAccepted) if e.referral_id in referral_ids}
    episodes = {e.episode_id for e in accepted.values()}
    patients = [e.patient_id for e in accepted.values()]

    closed = {
        service: await _closed(deployment, service, list(episodes)) for service in ("referral", "scheduling", "discharge")
    }
    closed_on_log = {e.episode_id for e in log.events(EpisodeClosed)}
    for driven in journeys:
        if driven.reached == "not sent":
            continue
        referral_id = driven.patient.referral_id
        if referral_id not in accepted:
            result.lost[referral_id] = [f"no referral.accepted (driver: {driven.problem or driven.reached})"]
            continue
        episode = accepted[referral_id].episode_id
        missing = ["episode.closed on the log"] if episode not in closed_on_log else []
        missing += [f"episode closed in the {service} database" for service, done in closed.items() if episode not in done]
        if missing:
            result.lost[referral_id] = missing + [f"driver stopped at the {driven.reached} step" + (f": {driven.problem}" if driven.problem else "")]

    def twice(effect: str, keys: Iterable[Any], allowed: Callable[[Any], int] = lambda _: 1) -> None:
        counts = Counter(keys)
        over = sum(1 for key, n in counts.items() if n > allowed(key))
        if over:
            result.duplicated[effect] += over

    def distinct(kind: type, key: Callable[[Any], Any], keep: Callable[[Any], bool]) -> list[Any]:
        """The key of each distinct event (by CloudEvents id) of a kind."""
        ids = {}
        for logged in log.logged(kind):
            if keep(logged.event):
                ids[logged.envelope.id] = key(logged.event)
        return list(ids.values())

    ours = lambda e: getattr(e, "episode_id", None) in episodes  # noqa: E731
    twice("referral.acknowledged for one referral", distinct(ReferralAcknowledged, lambda e: e.referral_id, lambda e: e.referral_id in referral_ids))
    twice("referral.accepted for one referral", distinct(ReferralAccepted, lambda e: e.referral_id, lambda e: e.referral_id in referral_ids))
    twice("assessment.completed for one episode", distinct(AssessmentCompleted, lambda e: e.episode_id, ours))
    twice("care-plan.agreed for one episode", distinct(CarePlanAgreed, lambda e: e.episode_id, ours))
    planned = {e.episode_id: e.visits_first_week for e in log.events(CarePlanAgreed) if ours(e)}
    twice("visit.scheduled beyond the plan's first week", distinct(VisitScheduled, lambda e: e.episode_id, ours), lambda k: planned.get(k, 7))
    twice("visit.completed for one visit", distinct(VisitCompleted, lambda e: e.visit_id, ours))
    twice("episode.closed for one episode", distinct(EpisodeClosed, lambda e: e.episode_id, ours))
    twice(
        "patient told the same thing twice (notification)",
        distinct(NotificationSent, lambda e: (e.episode_id, e.kind), lambda e: ours(e) and e.recipient == "patient" and e.kind in PATIENT_LETTERS),
    )
    for effect, service, sql, arg in (
        ("two open-or-closed episodes for one new patient (referral db)", "referral",
         "SELECT patient_id FROM episodes WHERE patient_id = ANY($1) GROUP BY patient_id HAVING count(*) > 1", patients),
        ("two assessments for one episode (assessment db)", "assessment",
         "SELECT episode_id FROM assessments WHERE episode_id = ANY($1) GROUP BY episode_id HAVING count(*) > 1", list(episodes)),
        ("more visits than planned (scheduling db)", "scheduling",
         "SELECT v.episode_id FROM visits v JOIN episodes e USING (episode_id) WHERE v.episode_id = ANY($1) "
         "AND v.replaces_visit_id IS NULL GROUP BY v.episode_id, e.visits_first_week HAVING count(*) > coalesce(e.visits_first_week, 7)",
         list(episodes)),
        ("a visit counted twice (discharge db)", "discharge",
         "SELECT episode_id FROM episodes WHERE episode_id = ANY($1) AND visits_completed > 1", list(episodes)),
        ("two follow-up clocks for one discharge (discharge db)", "discharge",
         "SELECT episode_id FROM followups WHERE episode_id = ANY($1) GROUP BY episode_id HAVING count(*) > 1", list(episodes)),
    ):
        rows = await deployment.query(service, sql, arg)
        if rows:
            result.duplicated[effect] += len(rows)

    ids: Counter = Counter(logged.envelope.id for logged in log.seen if logged.envelope is not None)
    result.republished = sum(n - 1 for n in ids.values() if n > 1)
    reasons: defaultdict[str, int] = defaultdict(int)
    for logged in log.dead_letters():
        reasons[f"{logged.headers.get('dlq_consumer', '?')}: {logged.headers.get('dlq_reason', '?')}"] += 1
    result.dead_letters = Counter(reasons)
    return result


async def _closed(deployment: ToolDeployment, service: str, episodes: list) -> set:
    rows = await deployment.query(service, "SELECT episode_id FROM episodes WHERE episode_id = ANY($1) AND closed_at IS NOT NULL", episodes)
    return {row["episode_id"] for row in rows}
