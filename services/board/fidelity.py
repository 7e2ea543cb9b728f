"""The service's fidelity, pure: the figures a crisis team is audited on, measured live from
carepath's own events for one Trust's home treatment crisis response team and one week (Monday
00:00 to the next Monday, Europe/London time).

An episode's facts come on six topics (referral.events, assessment.events, assessment.shared,
scheduling.events, discharge.events, notifications), which Kafka does not order against each other,
so `fold_episode` keeps each fact in fields of its own, as the earliest time or as a set keyed by
id: any order and any repetition give the same record. `fidelity` counts an episode in the week its
figure's moment falls in (each figure says which). A figure carepath's events cannot measure
honestly is still shown, with no value and the reason; a count not yet settled (a clock still
running) is left out of the figure and said in its words.
"""

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from contracts import (
    AssessmentCompleted,
    AssessmentStarted,
    CarePlanAgreed,
    CarerInformationShared,
    DischargeSummaryIssued,
    EpisodeClosed,
    EpisodeReviewDue,
    NotificationSent,
    Pathway,
    ReferralAccepted,
    ReferralSource,
    Recipient,
    TeamKind,
    Trust,
    Urgency,
    VisitCompleted,
    VisitMissed,
    VisitRunningLate,
    VisitScheduled,
)
from services.board.domain import Visit, fold_visit
from services.board.view import Fidelity, Figure

LONDON = ZoneInfo("Europe/London")  # every HSC Trust's local time

# The public standards' targets (DOMAIN.md), not a Trust's configured deadline: the figure is
# the standard's, whatever clock the Trust runs.
ASSESS_WITHIN = {Urgency.EMERGENCY: timedelta(hours=4), Urgency.VERY_URGENT: timedelta(hours=4), Urgency.URGENT: timedelta(hours=24)}
FOLLOW_UP_WITHIN = timedelta(hours=72)  # the follow-up figure counts each clock's own target; this for one without
GP_INFORMED_WITHIN = timedelta(days=3)
REVIEW_AFTER = timedelta(weeks=6)
# The discharge service looks for episodes due a review now and then, not at the instant: an
# episode is counted once this long has passed since its six weeks, so a check not yet run is
# not shown as a review not raised.
REVIEW_LOOKED_FOR_WITHIN = timedelta(hours=1)
WEEK_ONE_CONTACTS = 7  # at least seven contacts in the first week
# A step-down not yet seen is counted once its day is over and this long has passed: the window
# of a visit late in the day, the missed-visit check's grace, and an outcome the staff app sends late.
SAME_DAY_SETTLES = timedelta(hours=2)

NOT_MEASURABLE = "not measurable from carepath's events yet: "


# --- One episode, folded ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Assessed:
    """A completed assessment of the episode: where it sent the patient, whether HTCR saw
    them face to face, and whether the patient was coming home from a ward (`step_down`)."""

    assessment_id: UUID
    outcome: Pathway
    in_person: bool
    assessed_at: datetime
    step_down: bool = False  # False in a record stored before it was carried: `carepath board rebuild` reads it again


@dataclass(frozen=True)
class KeyWorker:
    """The key worker a care plan named, from the moment the plan was agreed (a re-plan names its own)."""

    since: datetime
    staff_id: str | None


@dataclass(frozen=True)
class EpisodeRecord:
    """What fidelity needs of one episode: a field (or a set) per fact, empty until it arrives.
    Only JSON-able values, so the read model stores it as JSON and reads back the same record."""

    episode_id: UUID
    patient_id: UUID | None = None
    trust: Trust | None = None
    source: ReferralSource | None = None
    urgency: Urgency | None = None
    accepted_at: datetime | None = None
    assess_by: datetime | None = None
    assessment_started_at: datetime | None = None  # the earliest start
    assessments: tuple[Assessed, ...] = ()  # by assessment id
    key_workers: tuple[KeyWorker, ...] = ()  # every plan agreed, earliest first
    visits: tuple[Visit, ...] = ()  # by visit id
    closed_at: datetime | None = None
    follow_up_due_by: datetime | None = None  # the follow-up clock's own due time, where the event said
    review_due_at: datetime | None = None
    review_opened_at: datetime | None = None  # when the discharge service counts the episode open from
    gp_informed_at: datetime | None = None  # the earliest discharge summary addressed to the GP
    carers_informed: tuple[str, ...] = ()  # carer ids sent information or a message, sorted

    @property
    def home_treatment_from(self) -> datetime | None:
        """When home treatment began: as the discharge service counted it for the review, else
        the first assessment that decided home treatment."""
        if self.review_opened_at is not None:
            return self.review_opened_at
        return min((a.assessed_at for a in self.assessments if a.outcome is Pathway.HOME_TREATMENT), default=None)

    def key_worker_at(self, at: datetime) -> str | None:
        """The key worker named by the latest plan agreed by `at` (the first plan's, before any)."""
        named = [k for k in self.key_workers if k.since <= at] or list(self.key_workers[:1])
        return named[-1].staff_id if named else None


FIDELITY_FACTS = (
    ReferralAccepted,
    AssessmentStarted,
    AssessmentCompleted,
    CarePlanAgreed,
    VisitScheduled,
    VisitRunningLate,
    VisitCompleted,
    VisitMissed,
    EpisodeClosed,
    EpisodeReviewDue,
    DischargeSummaryIssued,
    CarerInformationShared,
    NotificationSent,
)
FidelityFact = (ReferralAccepted | AssessmentStarted | AssessmentCompleted | CarePlanAgreed | VisitScheduled | VisitRunningLate
                | VisitCompleted | VisitMissed | EpisodeClosed | EpisodeReviewDue | DischargeSummaryIssued | CarerInformationShared
                | NotificationSent)


def fold_episode(record: EpisodeRecord, fact: FidelityFact) -> EpisodeRecord:
    """The record with one more fact of its episode (`fact.episode_id`). Each fact sets only its
    own fields, times as the earliest seen and repeated facts as sets, so any order of arrival
    and any redelivery give the same record. A visit's facts share one topic and key, and are
    folded as the board folds them (a later plan's assignment replaces an earlier one).
    A message to anyone but a carer changes nothing."""
    match fact:
        case ReferralAccepted():
            return replace(record, patient_id=fact.patient_id, trust=fact.trust, source=fact.source, urgency=Urgency(fact.urgency),
                           accepted_at=fact.accepted_at, assess_by=fact.assess_by)
        case AssessmentStarted():
            return replace(record, patient_id=fact.patient_id,
                           assessment_started_at=_earliest(record.assessment_started_at, fact.started_at))
        case AssessmentCompleted():
            assessed = Assessed(fact.assessment_id, fact.outcome, fact.htcr_assessed_in_person, fact.assessed_at, fact.step_down)
            others = (a for a in record.assessments if a.assessment_id != fact.assessment_id)
            return replace(record, patient_id=fact.patient_id,
                           assessments=tuple(sorted((*others, assessed), key=lambda a: str(a.assessment_id))))
        case CarePlanAgreed():
            plans = {*record.key_workers, KeyWorker(fact.agreed_at, fact.key_worker)}
            return replace(record, patient_id=fact.patient_id,
                           key_workers=tuple(sorted(plans, key=lambda k: (k.since, k.staff_id or ""))))
        case VisitScheduled() | VisitRunningLate() | VisitCompleted() | VisitMissed():
            visits = {visit.visit_id: visit for visit in record.visits}
            visits[fact.visit_id] = fold_visit(visits.get(fact.visit_id, Visit(fact.visit_id)), fact)
            return replace(record, patient_id=fact.patient_id, visits=tuple(sorted(visits.values(), key=lambda v: str(v.visit_id))))
        case EpisodeClosed():
            return replace(record, patient_id=fact.patient_id, closed_at=fact.closed_at, follow_up_due_by=fact.due_at)
        case EpisodeReviewDue():
            return replace(record, patient_id=fact.patient_id, review_due_at=_earliest(record.review_due_at, fact.detected_at),
                           review_opened_at=fact.opened_at)
        case DischargeSummaryIssued():
            recipient = Recipient(fact.recipient)
            if recipient == Recipient.gp():
                return replace(record, patient_id=fact.patient_id, gp_informed_at=_earliest(record.gp_informed_at, fact.issued_at))
            return _carer_informed(record, fact.patient_id, recipient)
        case CarerInformationShared() | NotificationSent():
            return _carer_informed(record, fact.patient_id, Recipient(fact.recipient))
    raise TypeError(f"fidelity does not fold {type(fact).__name__}")


def _carer_informed(record: EpisodeRecord, patient_id: UUID, recipient: Recipient) -> EpisodeRecord:
    if recipient.carer_id is None:
        return record
    return replace(record, patient_id=patient_id, carers_informed=tuple(sorted({*record.carers_informed, recipient.carer_id})))


def _earliest(known: datetime | None, new: datetime) -> datetime:
    return new if known is None or new < known else known


# --- The week's figures -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Week:
    start: datetime  # UTC, the Monday's local midnight
    end: datetime
    now: datetime

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end


def week_bounds(week_monday: date) -> tuple[datetime, datetime]:
    """The week as instants: from the Monday's local midnight to the next Monday's (a week of 167
    or 169 hours when the clocks change)."""
    if week_monday.weekday() != 0:
        raise ValueError(f"a fidelity week starts on a Monday; {week_monday:%A %d %B %Y} is not one")
    return _local_midnight(week_monday), _local_midnight(week_monday + timedelta(days=7))


def week_of(at: datetime) -> date:
    """The Monday of the local week an instant falls in."""
    day = at.astimezone(LONDON).date()
    return day - timedelta(days=day.weekday())


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), LONDON).astimezone(UTC)


def fidelity(records: Iterable[EpisodeRecord], trust: Trust, team: str, week_monday: date, now: datetime, *,
             follow_up_contacts: Mapping[UUID, Collection[datetime]] | None = None) -> Fidelity:
    """The team's figures for the week starting `week_monday`, as known at `now`.

    Every carepath episode is a home-treatment crisis team's (it opens when that team accepts a
    referral), so the team is the Trust's HTCR team and the episodes are the Trust's; an episode
    whose acceptance has not arrived yet has no Trust and is not counted. Follow-up contacts name
    no episode, only the patient: `follow_up_contacts` gives each patient's contact times (the
    board's `FollowUps.contacts`, by patient id); without it that figure says it was not measured.
    """
    if team != Recipient.team(TeamKind.HTCR, trust):
        raise ValueError(f"fidelity is measured for a Trust's home treatment crisis response team "
                         f"({Recipient.team(TeamKind.HTCR, trust)}), not {team}")
    start, end = week_bounds(week_monday)
    week = _Week(start, end, now)
    mine = [record for record in records if record.trust is trust]
    closed = [record for record in mine if week.holds(record.closed_at)]
    figures = (
        _assessed_within(mine, week, "assessed-within-4h", (Urgency.EMERGENCY, Urgency.VERY_URGENT), "emergency or very urgent referrals"),
        _assessed_within(mine, week, "assessed-within-24h", (Urgency.URGENT,), "urgent referrals"),
        _unmeasured("referrer-answered-within-30min", "Referrers answered within 30 minutes of sending a referral.", True,
                    "the acknowledgement to the referrer records when the referral was received, not when the answer "
                    "reached the referrer, and names no episode"),
        _admissions_gatekept(mine, week),
        _staff_per_episode(closed),
        _key_worker_share(closed),
        _contacts_in_week_one(mine, week),
        _step_downs_seen_same_day(mine, week),
        *_visit_shares(mine, week),
        _followed_up(closed, week, follow_up_contacts),
        _gp_informed(closed, week),
        _carers_given_information(closed),
        _unmeasured("carers-identified", "Episodes whose carers were identified.", True,
                    "carers are named in the assessment's family and carers section, which travels sealed; an event names "
                    "a carer only when something is sent to them (see carers-given-information)"),
        _unmeasured("carers-offered-assessment", "Carers offered a carer's assessment.", True,
                    "whether a carer's assessment was offered is recorded only inside the sealed assessment, on no event "
                    "in the clear"),
        _review_raised(mine, week),
        _unmeasured("reviewed-at-6-weeks", "Episodes open six weeks that were reviewed.", True,
                    "carepath raises a review when an episode has been open six weeks (see review-raised-at-6-weeks), "
                    "but no event records that the review took place"),
    )
    return Fidelity(trust=trust, team=team, week=week_monday, figures=figures)


def _assessed_within(records: list[EpisodeRecord], week: _Week, key: str, urgencies: tuple[Urgency, ...], noun: str) -> Figure:
    target = ASSESS_WITHIN[urgencies[0]]
    hours = int(target.total_seconds() // 3600)
    met: dict[UUID, bool] = {}
    waiting = 0
    for record in records:
        if record.urgency not in urgencies or not week.holds(record.accepted_at):
            continue
        assert record.accepted_at is not None
        due = record.accepted_at + target
        if record.assessment_started_at is not None:
            met[record.episode_id] = record.assessment_started_at <= due
        elif week.now >= due:
            met[record.episode_id] = False
        else:
            waiting += 1
    return _share(key, f"Share of {noun} accepted this week whose assessment started within {hours} hours of acceptance "
                       f"(counted in the week of acceptance).", met, noun,
                  f"{waiting} more still inside {hours} hours" if waiting else "")


def _admissions_gatekept(records: list[EpisodeRecord], week: _Week) -> Figure:
    met = {}
    for record in records:
        admissions = [a for a in record.assessments if a.outcome is Pathway.INPATIENT_ADMISSION and week.holds(a.assessed_at)]
        if admissions:
            met[record.episode_id] = all(a.in_person for a in admissions)
    return _share("admissions-assessed-in-person",
                  "Share of assessments deciding on admission to a ward in which HTCR assessed the patient face to face "
                  "(counted in the week of the assessment).", met, "admission decisions")


def _completed_with_visitor(record: EpisodeRecord) -> list[Visit]:
    return [visit for visit in record.visits if visit.completed_at is not None and visit.staff_id is not None]


def _staff_per_episode(closed: list[EpisodeRecord]) -> Figure:
    staff = {r.episode_id: len({v.staff_id for v in seen}) for r in closed if (seen := _completed_with_visitor(r))}
    return _mean("staff-per-episode",
                 "Mean number of different staff who made an episode's completed visits, for episodes closed this week "
                 "(the visitor is the one the visit was booked for; a visit with nobody booked is left out).",
                 staff, "staff", "episodes closed with a completed visit")


def _key_worker_share(closed: list[EpisodeRecord]) -> Figure:
    visits = by_key = 0
    episodes, short = [], []
    for record in closed:
        seen = _completed_with_visitor(record)
        if not seen:
            continue
        theirs = sum(1 for v in seen if v.completed_at is not None and v.staff_id == record.key_worker_at(v.completed_at))
        visits, by_key = visits + len(seen), by_key + theirs
        episodes.append(record.episode_id)
        if 2 * theirs < len(seen):
            short.append(record.episode_id)
    measures = ("Share of completed visits made by the key worker the care plan named at the time, in episodes closed this "
                "week; an episode is short when its key worker made under half of its visits (or none was named).")
    noun = f"completed visits, in {len(episodes)} episodes closed" if episodes else "episodes closed with a completed visit"
    return _figure("key-worker-share", measures, by_key, visits, noun, True, sorted(episodes, key=str), sorted(short, key=str))


def _contacts_in_week_one(records: list[EpisodeRecord], week: _Week) -> Figure:
    contacts: dict[UUID, int] = {}
    for record in records:
        if not record.key_workers:
            continue
        agreed = record.key_workers[0].since
        ends = _local_midnight(agreed.astimezone(LONDON).date() + timedelta(days=8))
        if not (week.start < ends <= week.end) or ends > week.now or (record.closed_at is not None and record.closed_at < ends):
            continue
        contacts[record.episode_id] = sum(1 for v in record.visits if v.completed_at is not None and agreed <= v.completed_at < ends)
    short = tuple(sorted((e for e, n in contacts.items() if n < WEEK_ONE_CONTACTS), key=str))
    return _mean("contacts-in-week-one",
                 "Mean completed visits in an episode's first week: from its care plan's agreement to the end of the seventh "
                 f"day after (visits start the day after), counted in the week that first week ends; an episode closed "
                 f"within it is left out, and one with fewer than {WEEK_ONE_CONTACTS} is short.",
                 contacts, "contacts", "episodes whose first week ended", short, f"with fewer than {WEEK_ONE_CONTACTS}")


def _step_downs_seen_same_day(records: list[EpisodeRecord], week: _Week) -> Figure:
    """Of the step-downs whose assessment this week decided home treatment: those seen at home
    (a completed visit) on the local day of that assessment."""
    met: dict[UUID, bool] = {}
    waiting = planned_not_seen = 0
    for record in records:
        stepping = [a.assessed_at for a in record.assessments
                    if a.outcome is Pathway.HOME_TREATMENT and (a.step_down or record.source is ReferralSource.INPATIENT_WARD)]
        if not stepping or not week.holds(home := min(stepping)):
            continue
        day = home.astimezone(LONDON).date()
        on_the_day = [visit for visit in record.visits if _day_of(visit) == day]
        if any(v.completed_at is not None for v in on_the_day):
            met[record.episode_id] = True
        elif week.now < _local_midnight(day + timedelta(days=1)) + SAME_DAY_SETTLES:
            waiting += 1
        else:
            met[record.episode_id] = False
            planned_not_seen += bool(on_the_day)
    notes = [f"{waiting} more still to be seen today" if waiting else "",
             f"{planned_not_seen} not seen had a visit planned that day" if planned_not_seen else ""]
    return _share("step-downs-seen-same-day",
                  "Step-downs seen at home the same day: of the patients coming home from an inpatient ward (the ward "
                  "referred them) whose assessment this week decided home treatment, the share with a completed visit on "
                  "the day of that assessment, local time (counted in the week of the assessment).", met, "step-downs",
                  "; ".join(filter(None, notes)))


def _day_of(visit: Visit) -> date | None:
    """A visit's local day: its window's, or its completion's while its schedule has not arrived."""
    at = visit.window_start or visit.completed_at
    return at.astimezone(LONDON).date() if at is not None else None


def _visit_shares(records: list[EpisodeRecord], week: _Week) -> tuple[Figure, Figure, Figure]:
    """Of the visits whose window opened this week and whose outcome is known (seen or missed)."""
    settled = [(r.episode_id, v) for r in records for v in r.visits
               if week.holds(v.window_start) and (v.completed_at is not None or v.missed_at is not None)]
    seen = [(e, v) for e, v in settled if v.completed_at is not None]
    return (
        _visits("visits-cut-short", "Share of this week's completed visits that were much shorter than planned (under half).",
                seen, lambda v: v.cut_short, "completed visits"),
        _visits("visits-running-late", "Share of this week's visits (window opening this week, seen or missed) where nobody "
                "had arrived 15 minutes into the window.", settled, lambda v: v.late_detected_at is not None, "visits"),
        _visits("visits-missed", "Share of this week's visits (window opening this week, seen or missed) that nobody "
                "recorded as made.", settled, lambda v: v.missed_at is not None, "visits"),
    )


def _visits(key: str, measures: str, visits: list[tuple[UUID, Visit]], happened: Callable[[Visit], bool], noun: str) -> Figure:
    episodes = sorted({e for e, _ in visits}, key=str)
    short = sorted({e for e, v in visits if happened(v)}, key=str)
    return _figure(key, measures + " An episode with one is listed as short.", sum(1 for _, v in visits if happened(v)),
                   len(visits), noun, True, episodes, short)


def _followed_up(closed: list[EpisodeRecord], week: _Week, contacts: Mapping[UUID, Collection[datetime]] | None) -> Figure:
    key = "followed-up-within-72h"
    measures = ("Share of episodes closed this week whose patient was contacted by the time the discharge's follow-up clock "
                "fell due: 48 hours where a risk of suicide was identified, else the Trust's standard; 72 hours for a "
                "discharge recorded before its clock was carried (counted in the week of the discharge).")
    if contacts is None:
        return _unmeasured(key, measures, True, "follow-up contacts name the patient, not the episode, and none were given")
    met: dict[UUID, bool] = {}
    waiting = unknown = 0
    for record in closed:
        assert record.closed_at is not None
        if record.patient_id not in contacts:
            unknown += 1
            continue
        due = record.follow_up_due_by or record.closed_at + FOLLOW_UP_WITHIN
        after = [at for at in contacts[record.patient_id] if at >= record.closed_at]
        if any(at <= due for at in after):
            met[record.episode_id] = True
        elif after or week.now >= due:
            met[record.episode_id] = False
        else:
            waiting += 1
    notes = [f"{waiting} more still inside 72 hours" if waiting else "",  # words the board's tests read; the clock may differ
             f"{unknown} with no follow-up facts for the patient" if unknown else ""]
    return _share(key, measures, met, "discharges", "; ".join(filter(None, notes)))


def _gp_informed(closed: list[EpisodeRecord], week: _Week) -> Figure:
    met: dict[UUID, bool] = {}
    waiting = 0
    for record in closed:
        assert record.closed_at is not None
        due = record.closed_at + GP_INFORMED_WITHIN
        if record.gp_informed_at is not None:
            met[record.episode_id] = record.gp_informed_at <= due
        elif week.now >= due:
            met[record.episode_id] = False
        else:
            waiting += 1
    return _share("gp-informed-within-3-days",
                  "Share of episodes closed this week whose discharge summary was issued to the GP within 3 days of the "
                  "discharge (a GP the patient's consent kept the summary from counts as not informed).", met, "discharges",
                  f"{waiting} more still inside 3 days" if waiting else "")


def _carers_given_information(closed: list[EpisodeRecord]) -> Figure:
    return _share("carers-given-information",
                  "Share of episodes closed this week in which carepath sent at least one named carer information or a "
                  "message (a patient with no carer, or whose consent kept carers out, counts as none).",
                  {r.episode_id: bool(r.carers_informed) for r in closed}, "episodes closed")


def _review_raised(records: list[EpisodeRecord], week: _Week) -> Figure:
    met: dict[UUID, bool] = {}
    waiting = 0
    for record in records:
        began = record.home_treatment_from
        if began is None:
            continue
        mark = began + REVIEW_AFTER
        if not week.holds(mark) or mark > week.now or (record.closed_at is not None and record.closed_at < mark):
            continue
        if record.review_due_at is not None:
            met[record.episode_id] = True
        elif week.now >= mark + REVIEW_LOOKED_FOR_WITHIN:
            met[record.episode_id] = False
        else:
            waiting += 1
    return _share("review-raised-at-6-weeks",
                  "Share of episodes reaching six weeks of home treatment this week, still open, for which carepath raised "
                  "the six-week review (counted in the week the six weeks end).", met, "episodes open six weeks",
                  f"{waiting} more just reached six weeks" if waiting else "")


# --- Building a figure ---------------------------------------------------------------------------------

def _share(key: str, measures: str, met: Mapping[UUID, bool], noun: str, note: str = "") -> Figure:
    """A share of episodes; those not meeting it are `short`."""
    episodes = sorted(met, key=str)
    short = [episode for episode in episodes if not met[episode]]
    return _figure(key, measures, len(episodes) - len(short), len(episodes), noun, True, episodes, short, note)


def _figure(key: str, measures: str, count: int, of: int, noun: str, is_share: bool, episodes: Iterable[UUID],
            short: Iterable[UUID], note: str = "") -> Figure:
    counted = (f"{count} of {of} {noun}" if of else f"no {noun}") + (f"; {note}" if note else "")
    value = count / of if of else None
    return Figure(key=key, measures=measures, value=value, shown=_percent(value) if value is not None else "none this week",
                  counted=counted, is_share=is_share, episodes=tuple(episodes), short=tuple(short))


def _mean(key: str, measures: str, values: Mapping[UUID, int], unit: str, noun: str, short: tuple[UUID, ...] = (),
          short_words: str = "") -> Figure:
    """A mean over episodes; `short` are those below the standard, where there is one."""
    episodes = tuple(sorted(values, key=str))
    if not values:
        return Figure(key=key, measures=measures, value=None, shown="none this week", counted=f"no {noun}", is_share=False)
    value = sum(values.values()) / len(values)
    counted = f"{len(values)} {noun}" + (f", {len(short)} {short_words}" if short_words else "")
    return Figure(key=key, measures=measures, value=value, shown=f"{value:.1f} {unit}", counted=counted, is_share=False,
                  episodes=episodes, short=short)


def _unmeasured(key: str, measures: str, is_share: bool, why: str) -> Figure:
    return Figure(key=key, measures=measures, value=None, shown=NOT_MEASURABLE + why, counted="", is_share=is_share)


def _percent(value: float) -> str:
    return f"{value * 100:.0f} %"


# --- The command's lines ----------------------------------------------------------------------------

def text_report(fidelity: Fidelity) -> str:
    """What `carepath fidelity --trust T --week W` prints: a heading, then one figure per line,
    its key, value and what was counted in aligned columns (a figure not measured gives its reason
    in place of a value)."""
    monday = fidelity.week
    sunday = monday + timedelta(days=6)
    heading = (f"Fidelity of {fidelity.team} ({fidelity.trust.value}), week of Monday {monday.day} {monday:%B %Y} "
               f"to Sunday {sunday.day} {sunday:%B %Y}")
    keys = max((len(f.key) for f in fidelity.figures), default=0)
    values = max((len(f.shown) for f in fidelity.figures if f.counted), default=0)
    lines = [heading]
    for figure in fidelity.figures:
        if figure.counted:
            lines.append(f"{figure.key:<{keys}}  {figure.shown:<{values}}  {figure.counted}")
        else:
            lines.append(f"{figure.key:<{keys}}  {figure.shown}")
    return "\n".join(lines) + "\n"
