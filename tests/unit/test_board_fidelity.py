"""The fidelity figures, pure: each equals a count made straight from the events of a fed set of
journeys; the same whatever order the events arrive in and however often; weeks are local weeks
(Europe/London); an empty week, a clock still running and a figure the events cannot measure
each say so instead of giving a number."""

import itertools
import random
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter

from contracts import (
    AssessmentCompleted,
    AssessmentStarted,
    CarePlanAgreed,
    CarerInformationShared,
    DischargeSummaryIssued,
    EpisodeClosed,
    EpisodeReviewDue,
    InformationCategory,
    NotificationSent,
    Pathway,
    Purpose,
    ReferralAccepted,
    ReferralSource,
    Sealed,
    Trust,
    Urgency,
    VisitCompleted,
    VisitMissed,
    VisitRunningLate,
    VisitScheduled,
)
from services.board.fidelity import (
    FIDELITY_FACTS,
    NOT_MEASURABLE,
    EpisodeRecord,
    fidelity,
    fold_episode,
    text_report,
    week_bounds,
    week_of,
)

WEEK = date(2026, 6, 1)  # a Monday in summer time
# The week as instants, written out: Monday 00:00 BST is Sunday 23:00 UTC.
START = datetime(2026, 5, 31, 23, 0, tzinfo=UTC)
END = datetime(2026, 6, 7, 23, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 12, 12, 0, tzinfo=UTC)  # every clock of that week has run out
TEAM = "htcr:belfast"
LONDON = ZoneInfo("Europe/London")
STAFF = tuple(f"staff-{n:04d}" for n in range(1, 9))



# --- Events, as carepath's services publish them -----------------------------------------------

def _id(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def _sealed(rng: random.Random) -> Sealed:
    return Sealed(key_id=_id(rng), ciphertext="A" * 40)


def accepted(episode: UUID, patient: UUID, at: datetime, urgency: Urgency = Urgency.VERY_URGENT,
             trust: Trust = Trust.BELFAST, source: ReferralSource = ReferralSource.GP) -> ReferralAccepted:
    hours = 24 if urgency is Urgency.URGENT else 4
    return ReferralAccepted(referral_id=f"GP-{str(episode)[:8]}", patient_id=patient, episode_id=episode, trust=trust,
                            source=source, urgency=urgency, accepted_at=at, assess_by=at + timedelta(hours=hours))


def started(episode: UUID, patient: UUID, at: datetime) -> AssessmentStarted:
    return AssessmentStarted(patient_id=patient, episode_id=episode, started_at=at)


def assessed(episode: UUID, patient: UUID, at: datetime, outcome: Pathway, in_person: bool, assessment: UUID,
             step_down: bool = False) -> AssessmentCompleted:
    return AssessmentCompleted(assessment_id=assessment, patient_id=patient, episode_id=episode, outcome=outcome, assessed_at=at,
                               htcr_assessed_in_person=in_person, trust=Trust.BELFAST, step_down=step_down)


def plan(episode: UUID, patient: UUID, at: datetime, key_worker: str | None, core: tuple[str, ...] = ()) -> CarePlanAgreed:
    return CarePlanAgreed(patient_id=patient, episode_id=episode, key_worker=key_worker, core_team=core or (key_worker or STAFF[0],),
                          visits_first_week=7, visits_per_week_after=5, planned_minutes=60, required_skills=(), agreed_at=at)


def scheduled(episode: UUID, patient: UUID, visit: UUID, start: datetime, staff: str | None) -> VisitScheduled:
    return VisitScheduled(visit_id=visit, patient_id=patient, episode_id=episode, window_start=start,
                          window_end=start + timedelta(hours=1), planned_minutes=60, staff_id=staff)


def seen(episode: UUID, patient: UUID, visit: UUID, at: datetime, cut_short: bool = False) -> VisitCompleted:
    return VisitCompleted(visit_id=visit, patient_id=patient, episode_id=episode, actual_minutes=20 if cut_short else 55,
                          completed_at=at, cut_short=cut_short)


def late(episode: UUID, patient: UUID, visit: UUID, start: datetime) -> VisitRunningLate:
    return VisitRunningLate(visit_id=visit, patient_id=patient, episode_id=episode, window_start=start,
                            detected_at=start + timedelta(minutes=15))


def missed(episode: UUID, patient: UUID, visit: UUID, start: datetime, staff: str | None) -> VisitMissed:
    return VisitMissed(visit_id=visit, patient_id=patient, episode_id=episode, staff_id=staff, window_end=start + timedelta(hours=1),
                       detected_at=start + timedelta(hours=1, minutes=30))


def closed(episode: UUID, patient: UUID, at: datetime) -> EpisodeClosed:
    return EpisodeClosed(patient_id=patient, episode_id=episode, visits_completed=0, closed_at=at)


def review_due(episode: UUID, patient: UUID, opened: datetime, at: datetime) -> EpisodeReviewDue:
    return EpisodeReviewDue(patient_id=patient, episode_id=episode, opened_at=opened, detected_at=at)


def summary(episode: UUID, patient: UUID, recipient: str, at: datetime, rng: random.Random) -> DischargeSummaryIssued:
    return DischargeSummaryIssued(recipient=recipient, patient_id=patient, purpose=Purpose.DIRECT_CARE,
                                  categories=(InformationCategory.DISCHARGE_ARRANGEMENTS,), consent_version=1, sealed=_sealed(rng),
                                  episode_id=episode, issued_at=at, due_by=at + timedelta(days=3))


def carer_information(episode: UUID, patient: UUID, carer: str, at: datetime, rng: random.Random) -> CarerInformationShared:
    return CarerInformationShared(recipient=f"carer:{carer}", patient_id=patient, purpose=Purpose.CARER_SUPPORT,
                                  categories=(InformationCategory.CARER_GENERAL_INFORMATION,), consent_version=1,
                                  sealed=_sealed(rng), episode_id=episode, shared_at=at)


def message(episode: UUID, patient: UUID, recipient: str, at: datetime) -> NotificationSent:
    return NotificationSent(recipient=recipient, patient_id=patient, episode_id=episode, kind="discharge-meeting",
                            text="A meeting to plan the end of home treatment is arranged.", sent_at=at)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LONDON)


# --- A fed set of journeys -------------------------------------------------------------------------

def journeys(seed: int = 15) -> tuple[list, dict[UUID, list[datetime]]]:
    """About a hundred journeys around the week: referrals of each urgency, assessed on time or
    late or never, admissions with and without HTCR in person, home treatment with re-plans,
    visits seen, cut short, late and missed, discharges with and without the GP told, carers
    and follow-up contacts; a few in another Trust; some long enough to reach six weeks."""
    rng = random.Random(seed)
    events: list = []
    contacts: dict[UUID, list[datetime]] = {}
    for n in range(100):
        patient, episode = _id(rng), _id(rng)
        trust = Trust.NORTHERN if n % 11 == 0 else Trust.BELFAST
        if n < 20:  # long episodes, to reach six weeks in the week
            accepted_at = datetime(2026, 4, 17, tzinfo=UTC) + timedelta(minutes=rng.randrange(9 * 24 * 60))
        else:
            accepted_at = datetime(2026, 5, 18, tzinfo=UTC) + timedelta(minutes=rng.randrange(21 * 24 * 60))
        urgency = rng.choice([Urgency.EMERGENCY, Urgency.VERY_URGENT, Urgency.URGENT])
        events.append(accepted(episode, patient, accepted_at, urgency, trust))
        if rng.random() < 0.1:
            continue  # never assessed
        # Mostly well inside 4 hours, some later; now and then exactly on the hour the target falls.
        delay = rng.choice([rng.randrange(30, 235), rng.randrange(30, 235), rng.randrange(245, 30 * 60), 4 * 60])
        started_at = accepted_at + timedelta(minutes=delay)
        events.append(started(episode, patient, started_at))
        outcome = Pathway.HOME_TREATMENT if n < 20 else rng.choices(
            [Pathway.HOME_TREATMENT, Pathway.INPATIENT_ADMISSION, Pathway.CMHT], weights=[6, 3, 1])[0]
        assessed_at = started_at + timedelta(hours=1)
        in_person = outcome is not Pathway.INPATIENT_ADMISSION or rng.random() < 0.7
        events.append(assessed(episode, patient, assessed_at, outcome, in_person, _id(rng)))
        if outcome is not Pathway.HOME_TREATMENT:
            continue
        agreed_at = assessed_at + timedelta(hours=2)
        key_worker = rng.choice(STAFF)
        core = (key_worker, *rng.sample([s for s in STAFF if s != key_worker], 2))
        events.append(plan(episode, patient, agreed_at, key_worker, core))
        if rng.random() < 0.25:  # the key worker changes on day 3
            events.append(plan(episode, patient, agreed_at + timedelta(days=3), core[1], core))
        closed_at = None if n < 12 or rng.random() < 0.15 else agreed_at + timedelta(days=rng.randrange(3, 16), hours=rng.randrange(24))
        if closed_at is not None and closed_at > NOW:
            closed_at = None
        first_day = agreed_at.astimezone(LONDON).date() + timedelta(days=1)
        for day in range(rng.randrange(4, 10)):
            start = local(first_day + timedelta(days=day), 9 + rng.randrange(10))
            if closed_at is not None and start >= closed_at:
                break
            visit = _id(rng)
            staff = None if rng.random() < 0.05 else rng.choice([key_worker, key_worker, *core[1:]])
            events.append(scheduled(episode, patient, visit, start, staff))
            if start + timedelta(hours=2) > NOW:
                continue  # not happened yet
            roll = rng.random()
            if roll < 0.12:
                events += [late(episode, patient, visit, start), missed(episode, patient, visit, start, staff)]
            elif roll < 0.25:
                events += [late(episode, patient, visit, start), seen(episode, patient, visit, start + timedelta(minutes=70))]
            else:
                events.append(seen(episode, patient, visit, start + timedelta(minutes=50), cut_short=rng.random() < 0.2))
        mark = assessed_at + timedelta(weeks=6)
        if mark <= NOW and (closed_at is None or closed_at >= mark) and rng.random() < 0.75:
            events.append(review_due(episode, patient, assessed_at, mark + timedelta(minutes=5)))
        if rng.random() < 0.4:
            events.append(carer_information(episode, patient, f"carer-{n}", agreed_at, rng))
        if closed_at is None:
            continue
        events.append(closed(episode, patient, closed_at))
        events.append(message(episode, patient, "patient", closed_at))  # not a carer: changes nothing
        gp = rng.random()
        if gp < 0.7:
            events.append(summary(episode, patient, "gp", closed_at, rng))
        elif gp < 0.85:
            events.append(summary(episode, patient, "gp", closed_at + timedelta(days=4), rng))
        if rng.random() < 0.3:
            events.append(message(episode, patient, f"carer:partner-{n}", closed_at))
        follow = rng.random()
        if follow < 0.6:
            contacts[patient] = [closed_at + timedelta(hours=rng.randrange(1, 72))]
        elif follow < 0.8:
            contacts[patient] = [closed_at + timedelta(hours=80)]
        elif follow < 0.9:
            contacts[patient] = []
        # else: nothing known of the patient's follow-up
    return events, contacts


def step_down_journeys(seed: int = 21) -> list:
    """Patients coming home from a ward through the week and either side of it, each assessed for
    home treatment: seen that day, seen the next day, a visit that day missed, never visited."""
    rng = random.Random(seed)
    events: list = []
    for n in range(24):
        patient, episode = _id(rng), _id(rng)
        day = date(2026, 5, 29) + timedelta(days=n % 12)  # Friday before the week to the Tuesday after
        assessed_at = local(day, 10 + n % 8)
        events += [accepted(episode, patient, assessed_at - timedelta(hours=3), Urgency.URGENT, source=ReferralSource.INPATIENT_WARD),
                   started(episode, patient, assessed_at - timedelta(hours=1)),
                   assessed(episode, patient, assessed_at, Pathway.HOME_TREATMENT, True, _id(rng), step_down=True),
                   plan(episode, patient, assessed_at, STAFF[n % 8])]
        first = {0: 2, 1: 26, 2: 2, 3: None}[n % 4]  # hours after the assessment, or never
        if first is None:
            continue
        visit, start = _id(rng), assessed_at + timedelta(hours=first)
        events.append(scheduled(episode, patient, visit, start, STAFF[n % 8]))
        events.append(missed(episode, patient, visit, start, STAFF[n % 8]) if n % 4 == 2 else seen(episode, patient, visit, start + timedelta(minutes=50)))
    return events


def records_of(events) -> list[EpisodeRecord]:
    records: dict[UUID, EpisodeRecord] = {}
    for event in events:
        records[event.episode_id] = fold_episode(records.get(event.episode_id, EpisodeRecord(event.episode_id)), event)
    return list(records.values())


EVENTS, CONTACTS = journeys()
EVENTS += step_down_journeys()
FIDELITY = fidelity(records_of(EVENTS), Trust.BELFAST, TEAM, WEEK, NOW, follow_up_contacts=CONTACTS)


def figure(key: str, of=None):
    [only] = [f for f in (of or FIDELITY).figures if f.key == key]
    return only


# --- Counted straight from the events ---------------------------------------------------------------

def of_type(kind) -> list:
    return [event for event in EVENTS if isinstance(event, kind)]


BELFAST = {a.episode_id for a in of_type(ReferralAccepted) if a.trust is Trust.BELFAST}


def in_week(at: datetime | None) -> bool:
    return at is not None and START <= at < END


def closed_in_week() -> dict[UUID, EpisodeClosed]:
    return {c.episode_id: c for c in of_type(EpisodeClosed) if c.episode_id in BELFAST and in_week(c.closed_at)}


def staff_of(visit: UUID) -> str | None:
    return [s.staff_id for s in of_type(VisitScheduled) if s.visit_id == visit][-1]


def assert_share(key: str, met: set[UUID], short: set[UUID]) -> None:
    got = figure(key)
    assert len(met | short) >= 3, "the fed set must give this figure something to count"
    assert got.value == pytest.approx(len(met) / len(met | short))
    assert (set(got.episodes), set(got.short)) == (met | short, short)
    assert got.counted.startswith(f"{len(met)} of {len(met | short)} ")


@pytest.mark.parametrize(("key", "urgencies", "hours"), [
    ("assessed-within-4h", {Urgency.EMERGENCY, Urgency.VERY_URGENT}, 4),
    ("assessed-within-24h", {Urgency.URGENT}, 24),
])
def test_the_share_assessed_in_time_is_that_of_the_weeks_referrals_whose_first_start_came_within_the_target(key, urgencies, hours) -> None:
    """The share of the week's accepted referrals of an urgency whose assessment started within its hours."""
    met, short = set(), set()
    for referral in of_type(ReferralAccepted):
        if referral.trust is Trust.BELFAST and referral.urgency in urgencies and in_week(referral.accepted_at):
            starts = [s.started_at for s in of_type(AssessmentStarted) if s.episode_id == referral.episode_id]
            (met if starts and min(starts) <= referral.accepted_at + timedelta(hours=hours) else short).add(referral.episode_id)
    assert_share(key, met, short)


def test_gatekeeping_is_the_share_of_the_weeks_admission_decisions_made_after_htcr_saw_the_patient() -> None:
    """The share of the week's admission decisions in which HTCR assessed the patient in person."""
    met, short = set(), set()
    for assessment in of_type(AssessmentCompleted):
        if assessment.episode_id in BELFAST and assessment.outcome is Pathway.INPATIENT_ADMISSION and in_week(assessment.assessed_at):
            (met if assessment.htcr_assessed_in_person else short).add(assessment.episode_id)
    assert_share("admissions-assessed-in-person", met, short - met)


def completed_visits_of_closed() -> dict[UUID, list[VisitCompleted]]:
    ended = closed_in_week()
    by_episode: dict[UUID, list[VisitCompleted]] = {}
    for visit in of_type(VisitCompleted):
        if visit.episode_id in ended and staff_of(visit.visit_id) is not None:
            by_episode.setdefault(visit.episode_id, []).append(visit)
    return by_episode


def test_staff_per_episode_is_the_mean_of_distinct_visitors_over_the_weeks_closed_episodes() -> None:
    """The mean number of different staff who made each closed episode's completed visits."""
    visitors = {episode: {staff_of(v.visit_id) for v in visits} for episode, visits in completed_visits_of_closed().items()}
    got = figure("staff-per-episode")
    assert len(visitors) >= 3
    assert got.value == pytest.approx(sum(map(len, visitors.values())) / len(visitors))
    assert set(got.episodes) == set(visitors) and got.short == () and not got.is_share


def test_the_key_workers_share_counts_each_visit_for_the_key_worker_named_when_it_was_made() -> None:
    """The share of closed episodes' completed visits made by the key worker of the latest plan agreed before each."""
    plans = of_type(CarePlanAgreed)
    mine = total = 0
    short = set()
    for episode, visits in completed_visits_of_closed().items():
        theirs = 0
        for visit in visits:
            before = sorted((p for p in plans if p.episode_id == episode and p.agreed_at <= visit.completed_at), key=lambda p: p.agreed_at)
            theirs += staff_of(visit.visit_id) == before[-1].key_worker
        mine, total = mine + theirs, total + len(visits)
        if theirs * 2 < len(visits):
            short.add(episode)
    got = figure("key-worker-share")
    assert got.value == pytest.approx(mine / total)
    assert set(got.episodes) == set(completed_visits_of_closed()) and set(got.short) == short
    assert got.counted.startswith(f"{mine} of {total} completed visits")


def test_contacts_in_week_one_are_the_completed_visits_of_each_first_week_ending_this_week() -> None:
    """The mean completed visits from the plan's agreement to the end of the seventh day after, for first weeks ending this week."""
    closures = {c.episode_id: c.closed_at for c in of_type(EpisodeClosed)}
    counts = {}
    for episode in BELFAST:
        agreed = [p.agreed_at for p in of_type(CarePlanAgreed) if p.episode_id == episode]
        if not agreed:
            continue
        first = min(agreed)
        ends = datetime.combine(first.astimezone(LONDON).date() + timedelta(days=8), time(0), LONDON)
        if START < ends <= END and ends <= NOW and not (episode in closures and closures[episode] < ends):
            counts[episode] = sum(1 for v in of_type(VisitCompleted) if v.episode_id == episode and first <= v.completed_at < ends)
    got = figure("contacts-in-week-one")
    assert len(counts) >= 3
    assert got.value == pytest.approx(sum(counts.values()) / len(counts))
    assert set(got.short) == {e for e, n in counts.items() if n < 7} and set(got.episodes) == set(counts)


@pytest.mark.parametrize(("key", "only_seen", "happened"), [
    ("visits-cut-short", True, lambda v, done, miss, late_: v in done and done[v].cut_short),
    ("visits-running-late", False, lambda v, done, miss, late_: v in late_),
    ("visits-missed", False, lambda v, done, miss, late_: v in miss),
])
def test_visit_shares_are_of_the_visits_whose_window_opened_this_week_and_whose_outcome_is_known(key, only_seen, happened) -> None:
    """A share of the week's seen-or-missed visits (of the seen ones, for cut short), listing the episodes with one."""
    done = {v.visit_id: v for v in of_type(VisitCompleted)}
    miss = {v.visit_id for v in of_type(VisitMissed)}
    late_ = {v.visit_id for v in of_type(VisitRunningLate)}
    counted = [(s.episode_id, s.visit_id) for s in of_type(VisitScheduled)
               if s.episode_id in BELFAST and in_week(s.window_start) and (s.visit_id in done or (not only_seen and s.visit_id in miss))]
    hits = [(e, v) for e, v in counted if happened(v, done, miss, late_)]
    got = figure(key)
    assert len(counted) >= 10 and hits
    assert got.value == pytest.approx(len(hits) / len(counted))
    assert set(got.episodes) == {e for e, _ in counted} and set(got.short) == {e for e, _ in hits}


def test_follow_up_is_the_share_of_the_weeks_discharges_whose_patient_was_contacted_within_72_hours() -> None:
    """A discharge of the week counts as followed up when a contact with its patient came within 72 hours after it."""
    met, short = set(), set()
    unknown = 0
    for episode, close in closed_in_week().items():
        if close.patient_id not in CONTACTS:
            unknown += 1
            continue
        within = [c for c in CONTACTS[close.patient_id] if close.closed_at <= c <= close.closed_at + timedelta(hours=72)]
        (met if within else short).add(episode)
    assert_share("followed-up-within-72h", met, short)
    assert unknown and figure("followed-up-within-72h").counted.endswith(f"{unknown} with no follow-up facts for the patient")


def test_gp_informed_is_the_share_of_the_weeks_discharges_with_a_summary_to_the_gp_within_3_days() -> None:
    """A discharge of the week counts when a summary addressed to the GP was issued within 3 days of it."""
    met, short = set(), set()
    for episode, close in closed_in_week().items():
        issued = [s.issued_at for s in of_type(DischargeSummaryIssued) if s.episode_id == episode and s.recipient == "gp"]
        (met if issued and min(issued) <= close.closed_at + timedelta(days=3) else short).add(episode)
    assert_share("gp-informed-within-3-days", met, short)


def test_carers_given_information_is_the_share_of_the_weeks_discharges_where_a_carer_was_sent_something() -> None:
    """A closed episode counts when any copy or message of it was addressed to a carer."""
    to_carers = {e.episode_id for e in EVENTS if isinstance(e, CarerInformationShared | DischargeSummaryIssued | NotificationSent)
                 and e.recipient.startswith("carer:")}
    ended = set(closed_in_week())
    assert_share("carers-given-information", ended & to_carers, ended - to_carers)


def test_the_review_share_is_of_episodes_reaching_six_weeks_of_home_treatment_this_week_still_open() -> None:
    """An episode whose six weeks since its home-treatment assessment end this week, still open then, counts when its review was raised."""
    closures = {c.episode_id: c.closed_at for c in of_type(EpisodeClosed)}
    raised = {r.episode_id for r in of_type(EpisodeReviewDue)}
    met, short = set(), set()
    for assessment in of_type(AssessmentCompleted):
        mark = assessment.assessed_at + timedelta(weeks=6)
        if (assessment.episode_id in BELFAST and assessment.outcome is Pathway.HOME_TREATMENT and in_week(mark) and mark <= NOW
                and not (assessment.episode_id in closures and closures[assessment.episode_id] < mark)):
            (met if assessment.episode_id in raised else short).add(assessment.episode_id)
    assert_share("review-raised-at-6-weeks", met, short)


def test_step_downs_seen_same_day_is_the_share_of_the_weeks_step_downs_seen_at_home_on_the_day_of_their_assessment() -> None:
    """A step-down (the ward referred them) assessed for home treatment this week counts when a visit that local day was completed."""
    wards = {a.episode_id for a in of_type(ReferralAccepted) if a.source is ReferralSource.INPATIENT_WARD and a.trust is Trust.BELFAST}
    done = {v.visit_id for v in of_type(VisitCompleted)}
    met, short = set(), set()
    for assessment in of_type(AssessmentCompleted):
        if assessment.episode_id in wards and assessment.outcome is Pathway.HOME_TREATMENT and in_week(assessment.assessed_at):
            day = assessment.assessed_at.astimezone(LONDON).date()
            same_day = [s for s in of_type(VisitScheduled) if s.episode_id == assessment.episode_id
                        and s.window_start.astimezone(LONDON).date() == day and s.visit_id in done]
            (met if same_day else short).add(assessment.episode_id)
    assert_share("step-downs-seen-same-day", met, short)
    assert figure("step-downs-seen-same-day").counted.startswith(f"{len(met)} of {len(met | short)} step-downs")


def step_down(day: date, hour: int, *, ward: bool = True, seen_after: timedelta | None = None, missed_after: timedelta | None = None,
              seed: int = 0) -> list:
    """One patient assessed for home treatment at `hour` local time on `day`, a step-down from a
    ward or not, with a first visit completed (or missed) so long after."""
    rng = random.Random(seed)
    patient, episode, visit = _id(rng), _id(rng), _id(rng)
    at = local(day, hour)
    source = ReferralSource.INPATIENT_WARD if ward else ReferralSource.GP
    events = [accepted(episode, patient, at - timedelta(hours=2), Urgency.URGENT, source=source),
              assessed(episode, patient, at, Pathway.HOME_TREATMENT, True, _id(rng), step_down=ward)]
    if (after := seen_after or missed_after) is not None:
        events.append(scheduled(episode, patient, visit, at + after, "staff-0001"))
        events.append(seen(episode, patient, visit, at + after + timedelta(minutes=50)) if seen_after else
                      missed(episode, patient, visit, at + after, "staff-0001"))
    return events


def same_day(events: list, now: datetime = NOW):
    return figure("step-downs-seen-same-day", fidelity(records_of(events), Trust.BELFAST, TEAM, WEEK, now))


def test_a_step_down_seen_the_same_day_counts_and_one_seen_the_next_day_or_never_is_short() -> None:
    """Seen that afternoon meets it; seen the next morning, or a visit that day missed, or never visited, does not."""
    tuesday = date(2026, 6, 2)
    that_day = step_down(tuesday, 11, seen_after=timedelta(hours=3), seed=1)
    next_day = step_down(tuesday, 18, seen_after=timedelta(hours=15), seed=2)
    missed_it = step_down(tuesday, 12, missed_after=timedelta(hours=2), seed=3)
    never = step_down(tuesday, 12, seed=4)
    got = same_day([*that_day, *next_day, *missed_it, *never])
    assert (got.value, got.counted) == (0.25, "1 of 4 step-downs; 1 not seen had a visit planned that day")
    assert set(got.short) == {next_day[0].episode_id, missed_it[0].episode_id, never[0].episode_id}


def test_a_patient_not_stepping_down_is_not_counted_however_soon_they_are_seen() -> None:
    """A GP's referral seen the same day is no step-down."""
    got = same_day(step_down(date(2026, 6, 2), 11, ward=False, seen_after=timedelta(hours=2), seed=5))
    assert (got.value, got.counted) == (None, "no step-downs")


def test_a_step_down_is_counted_by_the_local_day_and_week_of_its_assessment() -> None:
    """At 23:30 UTC on a summer Sunday it is Monday in London: a visit at 01:00 Monday local is the same day, in the next week."""
    sunday_night_utc = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)  # Monday 00:30 BST, the first hour of WEEK
    rng = random.Random(6)
    patient, episode, visit = _id(rng), _id(rng), _id(rng)
    events = [accepted(episode, patient, sunday_night_utc - timedelta(hours=2), source=ReferralSource.INPATIENT_WARD),
              assessed(episode, patient, sunday_night_utc, Pathway.HOME_TREATMENT, True, _id(rng), step_down=True),
              scheduled(episode, patient, visit, local(date(2026, 6, 1), 1), "staff-0001"),
              seen(episode, patient, visit, local(date(2026, 6, 1), 1, 50))]
    assert same_day(events).value == 1
    assert figure("step-downs-seen-same-day", fidelity(records_of(events), Trust.BELFAST, TEAM, date(2026, 5, 25), NOW)).value is None


def test_a_step_down_not_yet_seen_on_its_day_is_waiting_not_short() -> None:
    """Assessed this morning with nobody there yet, the day is not over: it is said to be waiting."""
    events = step_down(date(2026, 6, 3), 9, seed=7)
    got = same_day(events, now=local(date(2026, 6, 3), 15))
    assert (got.value, got.counted) == (None, "no step-downs; 1 more still to be seen today")
    assert same_day(events, now=local(date(2026, 6, 4), 3)).value == 0


def test_what_the_events_cannot_measure_is_shown_without_a_number_and_says_why() -> None:
    """The referrer's answer time, carers identified or offered an assessment, and a review held have no value, only the reason."""
    unmeasured = {f.key for f in FIDELITY.figures if f.value is None}
    assert unmeasured == {"referrer-answered-within-30min", "carers-identified", "carers-offered-assessment", "reviewed-at-6-weeks"}
    for key in unmeasured:
        assert figure(key).shown.startswith(NOT_MEASURABLE) and figure(key).episodes == () and figure(key).counted == ""


def test_follow_up_is_not_measured_when_no_follow_up_contacts_are_given() -> None:
    """Follow-up contacts name no episode: without the patients' contacts the figure says it was not measured."""
    without = fidelity(records_of(EVENTS), Trust.BELFAST, TEAM, WEEK, NOW)
    got = figure("followed-up-within-72h", without)
    assert got.value is None and got.shown.startswith(NOT_MEASURABLE)


# --- Order, repetition, storage -----------------------------------------------------------------------

def a_journey() -> list:
    rng = random.Random(3)
    patient, episode, visit = _id(rng), _id(rng), _id(rng)
    at = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
    return [
        accepted(episode, patient, at, Urgency.EMERGENCY),
        started(episode, patient, at + timedelta(hours=3)),
        assessed(episode, patient, at + timedelta(hours=4), Pathway.HOME_TREATMENT, True, _id(rng)),
        plan(episode, patient, at + timedelta(hours=5), "staff-0001"),
        scheduled(episode, patient, visit, at + timedelta(days=1), "staff-0001"),
        seen(episode, patient, visit, at + timedelta(days=1, minutes=50)),
        closed(episode, patient, at + timedelta(days=4)),
        summary(episode, patient, "gp", at + timedelta(days=4), rng),
    ]


def test_a_journeys_events_in_every_order_and_with_a_redelivery_fold_into_one_record() -> None:
    """However its events arrive, and with one delivered twice, an episode folds into the same record."""
    events = a_journey()
    events[5:6] = []  # the visit's completion is checked below, in order after its schedule
    facts = (*events, events[1])  # the assessment's start delivered twice
    folded = {_fold(order) for order in itertools.permutations(facts)}
    assert len(folded) == 1
    [only] = folded
    assert only.assessment_started_at == events[1].started_at and only.gp_informed_at == events[-1].issued_at


def _fold(events) -> EpisodeRecord:
    record = EpisodeRecord(events[0].episode_id)
    for event in events:
        record = fold_episode(record, event)
    return record


def test_the_fed_set_shuffled_and_partly_redelivered_gives_the_same_fidelity() -> None:
    """Events of all topics shuffled, some delivered again, give the same figures."""
    rng = random.Random(7)
    for _ in range(5):
        again = [*EVENTS, *rng.sample(EVENTS, 200)]
        rng.shuffle(again)
        assert fidelity(records_of(again), Trust.BELFAST, TEAM, WEEK, NOW, follow_up_contacts=CONTACTS) == FIDELITY


def test_a_record_stored_as_json_reads_back_as_the_same_record() -> None:
    """A folded record written as JSON and read back is equal, and writes the same JSON again."""
    adapter = TypeAdapter(EpisodeRecord)
    rng = random.Random(5)
    journey = a_journey()
    episode, patient = journey[0].episode_id, journey[0].patient_id
    record = _fold([*journey, carer_information(episode, patient, "carer-1", journey[3].agreed_at, rng),
                    review_due(episode, patient, journey[2].assessed_at, journey[2].assessed_at + timedelta(weeks=6)),
                    late(episode, patient, journey[4].visit_id, journey[4].window_start)])
    text = adapter.dump_json(record)
    back = adapter.validate_json(text)
    assert back == record and adapter.dump_json(back) == text
    assert isinstance(back.urgency, Urgency) and isinstance(back.trust, Trust) and back.carers_informed == ("carer-1",)


def test_only_carepaths_own_topics_are_folded() -> None:
    """Every fact the fold takes is on one of carepath's own topics, never on a Trust's inbound topic."""
    assert all(not kind.topic.inbound for kind in FIDELITY_FACTS)
    with pytest.raises(TypeError, match="fidelity does not fold"):
        fold_episode(EpisodeRecord(a_journey()[0].episode_id), object())  # type: ignore[arg-type]


def test_a_visit_counts_for_the_key_worker_named_when_it_was_made_after_a_replan_names_another() -> None:
    """A re-plan's new key worker is the key worker for the visits after it, not the ones before."""
    rng = random.Random(9)
    patient, episode = _id(rng), _id(rng)
    at = datetime(2026, 5, 26, 9, 0, tzinfo=UTC)
    first, second, third = _id(rng), _id(rng), _id(rng)
    events = [
        accepted(episode, patient, at), plan(episode, patient, at, "staff-0001"),
        plan(episode, patient, at + timedelta(days=2), "staff-0002"),
        scheduled(episode, patient, first, at + timedelta(days=1), "staff-0001"), seen(episode, patient, first, at + timedelta(days=1)),
        scheduled(episode, patient, second, at + timedelta(days=3), "staff-0001"), seen(episode, patient, second, at + timedelta(days=3)),
        scheduled(episode, patient, third, at + timedelta(days=4), "staff-0002"), seen(episode, patient, third, at + timedelta(days=4)),
        closed(episode, patient, datetime(2026, 6, 2, 9, 0, tzinfo=UTC)),
    ]
    got = figure("key-worker-share", fidelity(records_of(events), Trust.BELFAST, TEAM, WEEK, NOW))
    assert got.value == pytest.approx(2 / 3) and got.short == ()


# --- Weeks, empty weeks, clocks still running ---------------------------------------------------------

def test_a_referral_at_2330_utc_on_a_summer_sunday_falls_in_the_next_local_week() -> None:
    """At 23:30 UTC on a Sunday in summer time it is already Monday in London: the referral is the next week's."""
    rng = random.Random(11)
    sunday_night = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
    events = [accepted(_id(rng), _id(rng), sunday_night, Urgency.EMERGENCY)]
    events.append(started(events[0].episode_id, events[0].patient_id, sunday_night + timedelta(hours=1)))
    records = records_of(events)
    assert figure("assessed-within-4h", fidelity(records, Trust.BELFAST, TEAM, date(2026, 6, 1), NOW)).value == 1
    assert figure("assessed-within-4h", fidelity(records, Trust.BELFAST, TEAM, date(2026, 5, 25), NOW)).value is None
    assert week_of(sunday_night) == date(2026, 6, 1)


def test_a_referral_at_2330_utc_on_a_winter_sunday_stays_in_that_week() -> None:
    """In winter London is on UTC: 23:30 UTC on a Sunday is still Sunday, the week that began the Monday before."""
    rng = random.Random(12)
    sunday_night = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    records = records_of([accepted(_id(rng), _id(rng), sunday_night, Urgency.URGENT)])
    later = datetime(2026, 12, 20, tzinfo=UTC)
    assert figure("assessed-within-24h", fidelity(records, Trust.BELFAST, TEAM, date(2026, 11, 30), later)).value == 0
    assert figure("assessed-within-24h", fidelity(records, Trust.BELFAST, TEAM, date(2026, 12, 7), later)).value is None
    assert week_of(sunday_night) == date(2026, 11, 30)


def test_the_week_the_clocks_go_forward_is_167_hours_and_a_week_starts_on_a_monday() -> None:
    """Weeks run from local midnight to local midnight, so the spring change makes one an hour short; a Tuesday is refused."""
    start, end = week_bounds(date(2026, 3, 23))
    assert end - start == timedelta(hours=167)
    with pytest.raises(ValueError, match="starts on a Monday"):
        week_bounds(date(2026, 6, 2))


def test_an_empty_week_gives_no_number_and_says_none_this_week() -> None:
    """With nothing to count, every figure has no value: a measurable one says "none this week"."""
    empty = fidelity([], Trust.BELFAST, TEAM, WEEK, NOW, follow_up_contacts={})
    for got in empty.figures:
        assert got.value is None and got.episodes == () and got.short == ()
        assert got.shown == "none this week" or got.shown.startswith(NOT_MEASURABLE)
    assert figure("assessed-within-4h", empty).counted == "no emergency or very urgent referrals"


def test_a_referral_still_inside_its_4_hours_is_not_counted_yet_and_is_said_to_be_waiting() -> None:
    """A referral accepted an hour ago and not yet assessed is neither met nor short: it is waiting."""
    rng = random.Random(13)
    now = datetime(2026, 6, 3, 12, 0, tzinfo=UTC)
    records = records_of([accepted(_id(rng), _id(rng), now - timedelta(hours=1), Urgency.EMERGENCY)])
    got = figure("assessed-within-4h", fidelity(records, Trust.BELFAST, TEAM, WEEK, now))
    assert (got.value, got.shown, got.counted) == (None, "none this week", "no emergency or very urgent referrals; 1 more still inside 4 hours")


def test_an_assessment_starting_on_the_4th_hour_exactly_is_in_time_and_a_minute_later_is_not() -> None:
    """The target is within 4 hours: a start at 4 h 00 meets it, one at 4 h 01 does not."""
    rng = random.Random(16)
    at = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
    on_time, late_one = (_id(rng), _id(rng)), (_id(rng), _id(rng))
    events = [accepted(*on_time, at, Urgency.EMERGENCY), started(*on_time, at + timedelta(hours=4)),
              accepted(*late_one, at, Urgency.VERY_URGENT), started(*late_one, at + timedelta(hours=4, minutes=1))]
    got = figure("assessed-within-4h", fidelity(records_of(events), Trust.BELFAST, TEAM, WEEK, NOW))
    assert (got.value, got.shown, got.short) == (0.5, "50 %", (late_one[0],))


def test_a_contact_after_72_hours_is_short_and_a_discharge_inside_them_is_waiting() -> None:
    """A patient first contacted 80 hours after discharge is short; one discharged a day ago, not yet contacted, is waiting."""
    rng = random.Random(14)
    now = datetime(2026, 6, 7, 12, 0, tzinfo=UTC)
    late_one, waiting = (_id(rng), _id(rng)), (_id(rng), _id(rng))
    events = [accepted(late_one[0], late_one[1], datetime(2026, 5, 20, tzinfo=UTC)), closed(*late_one, datetime(2026, 6, 1, 8, tzinfo=UTC)),
              accepted(waiting[0], waiting[1], datetime(2026, 5, 20, tzinfo=UTC)), closed(*waiting, now - timedelta(days=1))]
    contacts = {late_one[1]: [datetime(2026, 6, 4, 16, tzinfo=UTC)], waiting[1]: []}
    got = figure("followed-up-within-72h", fidelity(records_of(events), Trust.BELFAST, TEAM, WEEK, now, follow_up_contacts=contacts))
    assert (got.value, got.short, got.counted) == (0, (late_one[0],), "0 of 1 discharges; 1 more still inside 72 hours")


def test_another_trusts_episodes_are_not_counted_and_only_an_htcr_team_has_fidelity() -> None:
    """The Northern Trust's referrals are not Belfast's; a community team's fidelity is refused."""
    northern = fidelity(records_of(EVENTS), Trust.NORTHERN, "htcr:northern", WEEK, NOW, follow_up_contacts=CONTACTS)
    belfast_episodes = {e for f in FIDELITY.figures for e in f.episodes}
    assert belfast_episodes <= BELFAST and not {e for f in northern.figures for e in f.episodes} & BELFAST
    with pytest.raises(ValueError, match="home treatment crisis response team"):
        fidelity([], Trust.BELFAST, "cmht:belfast", WEEK, NOW)


# --- The command's lines -----------------------------------------------------------------------------------

def test_the_report_prints_one_aligned_line_per_figure_under_a_heading() -> None:
    """`carepath fidelity` prints a heading, then each figure's key, value and what was counted, in columns."""
    lines = text_report(FIDELITY).splitlines()
    assert lines[0] == "Fidelity of htcr:belfast (belfast), week of Monday 1 June 2026 to Sunday 7 June 2026"
    assert len(lines) == 1 + len(FIDELITY.figures)
    value_column = {line.index(f.shown) for line, f in zip(lines[1:], FIDELITY.figures)}
    assert len(value_column) == 1
    counted_column = {line.index(f.counted) for line, f in zip(lines[1:], FIDELITY.figures) if f.counted}
    assert len(counted_column) == 1
    four_hours = figure("assessed-within-4h")
    assert f"{four_hours.value * 100:.0f} %" == four_hours.shown
    assert lines[1].split()[:3] == ["assessed-within-4h", *four_hours.shown.split()]
