"""The scheduling service's handlers and jobs, each one shape: load, decide (domain), store, emit.
What people are told comes from `messages`; the tables at the bottom say which event each
handler takes and how often each job runs.

A team's plans are made one at a time across every instance: a handler that books or re-plans
takes the team's planning lock first (`Store.lock_teams`), and its transaction then ends as soon
as the event is handled (`ctx.commit_soon`)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from contracts import (
    AssessmentCompleted,
    AssessmentVersionRecorded,
    EpisodeClosed,
    Event,
    Recipient,
    ShiftsRostered,
    StaffMemberRecorded,
    TeamKind,
    Trust,
    VisitMissed,
    VisitOutcomeRecorded,
    VisitRequested,
    VisitScheduled,
    VisitStarted,
)
from services.scheduling import domain, messages, planning
from services.scheduling.store import Store
from shared.runtime.context import Handler, HandlerContext
from shared.runtime.errors import InvalidEvent

PLANNING_HORIZON = timedelta(days=9)


@dataclass(frozen=True)
class Dependencies:
    tz: ZoneInfo  # the Trusts' local time, in which visit windows and weeks are counted
    missed_grace: timedelta  # after a window closes, before the visit counts as missed
    hours: Mapping[Trust, domain.ServiceHours] = field(default_factory=dict)  # each Trust's (`trust_rules.toml`)

    def hours_of(self, team: str | None) -> domain.ServiceHours:
        """The hours of the team's Trust ("htcr:belfast"), or the first wave's for one unknown."""
        try:
            return self.hours[Trust((team or "").partition(":")[2])]
        except (ValueError, KeyError):
            return domain.DAYTIME


Ctx = HandlerContext[Store, Dependencies]


async def on_staff_member_recorded(ctx: Ctx, member: StaffMemberRecorded) -> None:
    await ctx.store.save_staff(member)
    await _revise_plans(ctx, member.team)


async def on_shifts_rostered(ctx: Ctx, rostered: ShiftsRostered) -> None:
    team = await ctx.store.staff_team(rostered.staff_id)
    if team is None:
        raise InvalidEvent("shifts for a member of staff the rota has not recorded")
    await ctx.store.replace_shifts(rostered)
    await _revise_plans(ctx, team)


async def on_assessment_completed(ctx: Ctx, assessment: AssessmentCompleted) -> None:
    team = Recipient.team(TeamKind.HTCR, assessment.trust) if assessment.trust else None
    episode = await ctx.store.add_episode(assessment, team)
    if episode is None:
        return  # this assessment was planned for already
    now, tz = ctx.clock.now(), ctx.deps.tz
    roster = await _roster(ctx, team, now)
    hours = ctx.deps.hours_of(team)
    if (plan := planning.plan_home_treatment(assessment, roster, tz, now, closed_at=episode.closed_at, hours=hours)) is not None:
        await _agree(ctx, plan, team, roster, now, easy_read=assessment.easy_read)


async def on_assessment_version_recorded(ctx: Ctx, recorded: AssessmentVersionRecorded) -> None:
    await ctx.store.set_required_skills(recorded.episode_id, recorded.required_skills, recorded.easy_read)


async def on_visit_requested(ctx: Ctx, request: VisitRequested) -> None:
    episode = await _episode_locked(ctx, request.episode_id)
    now = ctx.clock.now()
    hours = ctx.deps.hours_of(episode.team if episode else None)
    await _book_visit(ctx, episode, domain.visit_request_day(episode, request, ctx.deps.tz, now, hours), now, planned=False)


async def on_visit_started(ctx: Ctx, started: VisitStarted) -> None:
    visit = await ctx.store.find_visit(started.visit_id)
    domain.accept_start(visit, await ctx.store.episode(started.episode_id), started)
    await ctx.store.visit_started(started.visit_id, started.started_at)


async def on_visit_outcome_recorded(ctx: Ctx, outcome: VisitOutcomeRecorded) -> None:
    episode = await _episode_locked(ctx, outcome.episode_id)
    now = ctx.clock.now()
    decision = domain.decide_outcome(await ctx.store.find_visit(outcome.visit_id), episode, outcome, now)
    if decision.record:
        await ctx.store.record_outcome(outcome)
    await ctx.emit(*decision.events, *messages.escalation_after_closure(episode.team, decision.after_closure, now))
    if decision.book_visit:  # a carer at breaking point: the first hour the team is open
        hours = ctx.deps.hours_of(episode.team)
        await _book_visit(ctx, episode, domain.next_visit_day(ctx.deps.tz, now, hours, planned=False), now, planned=False)


async def on_episode_closed(ctx: Ctx, closed: EpisodeClosed) -> None:
    await _episode_locked(ctx, closed.episode_id)
    await ctx.store.close_episode(closed)


async def check_visits(ctx: Ctx) -> None:
    """Late visits tell the patient; missed ones alert the team lead, tell the patient and
    offer a new visit. Each happens once per visit. A visit of a closed episode is cancelled."""
    now = ctx.clock.now()
    due = await ctx.store.due_for_checks(now)
    episode_ids = list({visit.episode_id for visit in due})
    await _lock_teams(ctx, await ctx.store.teams_of(episode_ids))
    closed = await ctx.store.closed_among(episode_ids)  # read under the teams' locks, as closures take them
    for visit in due:
        await _check_visit(ctx, visit, visit.episode_id in closed, now)


async def check_weeks(ctx: Ctx) -> None:
    """At the end of each week of the plan: fewer contacts than promised alerts the team lead."""
    now = ctx.clock.now()
    today = now.astimezone(ctx.deps.tz).date()
    for plan in await ctx.store.episodes_with_weeks_ended(today):
        weeks = plan.due(today)
        for week in weeks:
            await _check_week(ctx, plan, week, now)
        await ctx.store.weeks_checked(plan.episode_id, weeks[-1] if weeks else plan.weeks_checked)


async def confirm_visits(ctx: Ctx) -> None:
    """From midday, each of tomorrow's visits is confirmed to the patient: its window and who is
    coming. Once per visit; a visit cancelled or closed before then is not confirmed."""
    now = ctx.clock.now()
    if (window := domain.confirmation_window(ctx.deps.tz, now)) is None:
        return
    for visit, display_name, role in await ctx.store.visits_to_confirm(*window):
        await ctx.emit(messages.visit_confirmed(visit, display_name, ctx.deps.tz, now, role=role, easy_read=visit.easy_read))
        await ctx.store.mark_confirmed(visit.visit_id, now)


async def name_key_workers(ctx: Ctx) -> None:
    """A key worker chosen after the plan's message (the rota read late) is told to the
    patient once the choice has settled."""
    now = ctx.clock.now()
    teams = await ctx.store.teams_awaiting_names()
    await _lock_teams(ctx, teams)
    for plan, display_name, role in await ctx.store.plans_awaiting_names(teams):
        if domain.name_due(plan, now):
            await ctx.emit(messages.named_worker(plan.patient_id, plan.episode_id, display_name, len(plan.core_team), now,
                                                 role=role, easy_read=plan.easy_read))
            await ctx.store.key_worker_named(plan.episode_id, now)


async def _revise_plans(ctx: Ctx, team: str) -> None:
    """The team's open plans catch up with its rota, whichever was read first."""
    now, tz = ctx.clock.now(), ctx.deps.tz
    await _lock_teams(ctx, [team])
    if not (plans := await ctx.store.plans_to_revise(team, now)):
        return
    roster = await _roster(ctx, team, now, since=planning.roster_from(plans, tz, now))
    ahead = await ctx.store.visits_ahead(plans, now)
    revisions = planning.revise_plans(plans, ahead, roster, tz, now)
    await ctx.store.save_revisions(revisions, now)
    confirmed = [visit.visit_id for visit in ahead if visit.confirmed]
    await ctx.emit(*messages.revised(team, revisions, tz, now, confirmed, roster))


async def _agree(ctx: Ctx, plan: planning.Plan, team: str | None, roster: planning.Roster, now: datetime, *, easy_read: bool) -> None:
    await ctx.store.save_plan(plan.agreed, plan.first_day(ctx.deps.tz), named=plan.names_key_worker)
    await ctx.store.add_visits(*plan.visits)
    await ctx.emit(plan.agreed, *plan.visits, *messages.plan_agreed(plan, team, roster, ctx.deps.tz, now, easy_read))


async def _check_visit(ctx: Ctx, visit: domain.Visit, closed: bool, now: datetime) -> None:
    check = domain.check_visit(visit, closed, now, ctx.deps.missed_grace)
    if check.cancel:
        await ctx.store.cancel_visit(visit.visit_id)
    elif check.missed is not None:
        await _visit_missed(ctx, visit, check.missed, now)
    elif check.late is not None:
        await ctx.store.mark_late(visit.visit_id, now)
        await ctx.emit(check.late, messages.visit_late(visit, ctx.deps.tz, now, easy_read=visit.easy_read))


async def _visit_missed(ctx: Ctx, visit: domain.Visit, missed: VisitMissed, now: datetime) -> None:
    """The team lead is alerted, the patient told, and a new visit offered in its place."""
    await ctx.store.mark_missed(visit.visit_id, now)
    await ctx.emit(missed)
    episode = await ctx.store.episode(visit.episode_id)
    day = domain.next_visit_day(ctx.deps.tz, now, ctx.deps.hours_of(episode.team))
    replacement = await _book_visit(ctx, episode, day, now, replaces=visit.visit_id)
    await ctx.emit(*messages.visit_missed(visit, episode.team, replacement, ctx.deps.tz, now, easy_read=episode.easy_read))


async def _check_week(ctx: Ctx, plan: domain.PlanWeeks, week: int, now: datetime) -> None:
    completed = await ctx.store.completed_between(plan.episode_id, *domain.week_of(plan.plan_start, ctx.deps.tz, week))
    if (below := plan.below_plan(week, completed, now)) is not None:
        await ctx.emit(below, *messages.below_plan(plan.team, below, now))


async def _episode_locked(ctx: Ctx, episode_id: UUID) -> domain.Episode | None:
    """The episode as it stands once its team's planning lock is held. A closure takes the
    same lock, so a visit is either booked before it (and cancelled by it) or sees it."""
    team = await ctx.store.episode_team(episode_id)
    if team is not None:
        await _lock_teams(ctx, [team])
    return await ctx.store.episode(episode_id)


async def _book_visit(
    ctx: Ctx, episode: domain.Episode, day: date, now: datetime, replaces: UUID | None = None, *, planned: bool = True
) -> VisitScheduled:
    """One more visit on the day: in the team's visiting hours, or (`planned=False`) its open hours."""
    roster = await _roster(ctx, episode.team, now)
    visit = planning.visit_on(
        roster, day, ctx.deps.tz, now, episode.patient_id, episode.episode_id, episode.core_team, episode.required_skills, replaces,
        hours=ctx.deps.hours_of(episode.team), planned=planned,
    )
    await ctx.store.add_visits(visit)
    await ctx.emit(visit, *messages.unassigned(episode.team, [visit], ctx.deps.tz, now))
    return visit


async def _lock_teams(ctx: Ctx, teams: Iterable[str]) -> None:
    """Takes the teams' planning locks; the event's transaction then ends as soon as it is
    handled, so it never holds them while other events of its batch take locks of their own."""
    await ctx.store.lock_teams(teams)
    ctx.commit_soon()


async def _roster(ctx: Ctx, team: str | None, now: datetime, since: datetime | None = None) -> planning.Roster:
    if team is None:
        return planning.Roster({}, {})
    await _lock_teams(ctx, [team])
    return await ctx.store.roster(team, since or now - timedelta(hours=1), now + PLANNING_HORIZON)


HANDLERS: Mapping[type[Event], Handler] = {
    StaffMemberRecorded: on_staff_member_recorded,
    ShiftsRostered: on_shifts_rostered,
    AssessmentCompleted: on_assessment_completed,
    AssessmentVersionRecorded: on_assessment_version_recorded,
    VisitRequested: on_visit_requested,
    VisitStarted: on_visit_started,
    VisitOutcomeRecorded: on_visit_outcome_recorded,
    EpisodeClosed: on_episode_closed,
}
