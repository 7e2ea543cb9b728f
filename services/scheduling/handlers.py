"""Thin handlers and jobs of the scheduling service: load, decide (domain), store, emit."""

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from contracts import (
    AssessmentCompleted,
    AssessmentVersionRecorded,
    EpisodeClosed,
    Event,
    ShiftsRostered,
    StaffMemberRecorded,
    VisitOutcomeRecorded,
    VisitRequested,
    VisitScheduled,
    VisitStarted,
)
from services.scheduling import domain, store
from services.scheduling.settings import Settings
from shared.runtime.context import Handler, HandlerContext
from shared.runtime.errors import InvalidEvent
from shared.runtime.notifications import notify

PLANNING_HORIZON = timedelta(days=9)


def build(settings: Settings) -> Mapping[type[Event], Handler]:
    tz = ZoneInfo(settings.timezone)

    async def on_staff_member_recorded(ctx: HandlerContext, member: StaffMemberRecorded) -> None:
        await store.save_staff(ctx.conn, member)
        await _revise_plans(ctx, member.team)

    async def on_shifts_rostered(ctx: HandlerContext, rostered: ShiftsRostered) -> None:
        team = await store.staff_team(ctx.conn, rostered.staff_id)
        if team is None:
            raise InvalidEvent("shifts for a member of staff the rota has not recorded")
        await store.replace_shifts(ctx.conn, rostered)
        await _revise_plans(ctx, team)

    async def _revise_plans(ctx: HandlerContext, team: str) -> None:
        """The team's open plans catch up with its rota, whichever was read first."""
        now = ctx.clock.now()
        await _lock_teams(ctx, [team])
        plans = await store.plans_to_revise(ctx.conn, team, now)
        if not plans:
            return
        roster = await _roster(ctx, team, now, since=domain.roster_from(plans, tz, now))
        visits = await store.visits_ahead(ctx.conn, [plan.episode_id for plan in plans], now)
        revisions = domain.revise_plans(plans, visits, roster, tz, now)
        await store.save_revisions(ctx.conn, revisions, now)
        for revision in revisions:
            await ctx.emit(*revision.events)
            await _alert_unassigned(ctx, team, revision.visits, tz)

    async def on_assessment_completed(ctx: HandlerContext, assessment: AssessmentCompleted) -> None:
        team = f"htcr:{assessment.trust.value}" if assessment.trust else None
        episode = await store.add_episode(ctx.conn, assessment, team)
        if episode is None:
            return
        now = ctx.clock.now()
        roster = await _roster(ctx, team, now)
        plan = domain.plan_home_treatment(assessment, roster, tz, now, closed_at=episode.closed_at)
        if plan is None:
            return
        await store.save_plan(
            ctx.conn, plan.agreed, plan.visits[0].window_start.astimezone(tz).date(), named=plan.names_key_worker
        )
        await store.add_visits(ctx.conn, *plan.visits)
        await ctx.emit(plan.agreed, *plan.visits)
        await _tell_patient(ctx, plan.agreed.patient_id, plan.agreed.episode_id, "care-plan", domain.plan_text(plan, roster, tz))
        await _alert_unassigned(ctx, team, plan.visits, tz)

    async def on_assessment_version_recorded(ctx: HandlerContext, recorded: AssessmentVersionRecorded) -> None:
        await store.set_required_skills(ctx.conn, recorded.episode_id, recorded.required_skills)

    async def on_visit_requested(ctx: HandlerContext, request: VisitRequested) -> None:
        episode = await _episode_locked(ctx, request.episode_id)
        now = ctx.clock.now()
        day = domain.visit_request_day(episode, request, tz, now)
        await _schedule_one(ctx, episode, day, now)

    async def on_visit_started(ctx: HandlerContext, started: VisitStarted) -> None:
        visit = await store.find_visit(ctx.conn, started.visit_id)
        domain.accept_start(visit, await store.episode(ctx.conn, started.episode_id), started)
        await store.visit_started(ctx.conn, started.visit_id, started.started_at)

    async def on_visit_outcome_recorded(ctx: HandlerContext, outcome: VisitOutcomeRecorded) -> None:
        visit = await store.find_visit(ctx.conn, outcome.visit_id)
        episode = await _episode_locked(ctx, outcome.episode_id)
        now = ctx.clock.now()
        decision = domain.decide_outcome(visit, episode, outcome, now)
        if decision.record:
            await store.record_outcome(ctx.conn, outcome)
        await ctx.emit(*decision.events)
        if decision.team_lead_text is not None:
            await _tell_team_lead(ctx, episode.team, outcome.patient_id, outcome.episode_id, "escalation", decision.team_lead_text)
        if decision.book_visit:
            await _schedule_one(ctx, episode, domain.next_visit_day(tz, now), now)

    async def on_episode_closed(ctx: HandlerContext, closed: EpisodeClosed) -> None:
        await _episode_locked(ctx, closed.episode_id)
        await store.close_episode(ctx.conn, closed)

    async def check_weeks(ctx: HandlerContext) -> None:
        """At the end of each week of the plan: fewer contacts than promised alerts the team lead."""
        now = ctx.clock.now()
        for episode in await store.episodes_with_weeks_ended(ctx.conn, now.astimezone(tz).date()):
            weeks = domain.weeks_ended(episode["plan_start"], episode["weeks_checked"], now.astimezone(tz).date())
            for week in weeks:
                start = datetime.combine(episode["plan_start"] + timedelta(days=7 * (week - 1)), time(0), tzinfo=tz)
                completed = await store.completed_between(ctx.conn, episode["episode_id"], start, start + timedelta(days=7))
                planned = domain.planned_in_week(week, episode["visits_first_week"], episode["visits_per_week_after"])
                below = domain.shortfall(episode["patient_id"], episode["episode_id"], week, planned, completed, now)
                if below is not None:
                    await ctx.emit(below)
                    await _tell_team_lead(ctx, episode["team"], below.patient_id, below.episode_id, "contacts-below-plan", (
                        f"Week {week} of home treatment: {completed} contacts against {planned} planned."
                    ))
            await store.weeks_checked(ctx.conn, episode["episode_id"], weeks[-1] if weeks else episode["weeks_checked"])

    async def check_visits(ctx: HandlerContext) -> None:
        """Late visits tell the patient; missed ones alert the team lead, tell the patient and
        offer a new visit. Each happens once per visit. A visit of a closed episode is cancelled."""
        now = ctx.clock.now()
        grace = timedelta(minutes=settings.missed_grace_minutes)
        due = await store.due_for_checks(ctx.conn, now)
        episode_ids = list({visit.episode_id for visit in due})
        await _lock_teams(ctx, await store.teams_of(ctx.conn, episode_ids))
        closed = await store.closed_among(ctx.conn, episode_ids)  # read under the teams' locks, as closures take them
        for visit in due:
            check = domain.check_visit(visit, visit.episode_id in closed, now, grace)
            if check.cancel:
                await store.cancel_visit(ctx.conn, visit.visit_id)
            elif (miss := check.missed) is not None:
                await store.mark_missed(ctx.conn, visit.visit_id, now)
                await ctx.emit(miss)
                episode = await store.episode(ctx.conn, visit.episode_id)
                replacement = await _schedule_one(ctx, episode, domain.next_visit_day(tz, now), now, replaces=visit.visit_id)
                when = replacement.window_start.astimezone(tz)
                await _tell_patient(ctx, visit.patient_id, visit.episode_id, "visit-missed", (
                    f"We are sorry: we did not make your visit due by {visit.window_end.astimezone(tz):%H:%M on %A}. "
                    f"We have booked a new visit on {when:%A %d %B} between {when:%H:%M} and "
                    f"{(when + domain.WINDOW):%H:%M}. If you need us before then, call the team."
                ))
                await _tell_team_lead(ctx, episode.team, visit.patient_id, visit.episode_id, "visit-missed", (
                    f"Missed visit (window closed {visit.window_end.astimezone(tz):%H:%M %d %b}, staff "
                    f"{visit.staff_id or 'unassigned'}). Replacement booked for {when:%H:%M %d %b}."
                ))
            elif (late := check.late) is not None:
                await store.mark_late(ctx.conn, visit.visit_id, now)
                await ctx.emit(late)
                await _tell_patient(ctx, visit.patient_id, visit.episode_id, "visit-late", (
                    f"Your visit due between {visit.window_start.astimezone(tz):%H:%M} and "
                    f"{visit.window_end.astimezone(tz):%H:%M} is running late. We are sorry; we are on our way "
                    "or will call you to rearrange."
                ))

    async def name_key_workers(ctx: HandlerContext) -> None:
        """A key worker chosen after the plan's message (the rota read late) is told to the
        patient once the choice has settled."""
        now = ctx.clock.now()
        teams = await store.teams_awaiting_names(ctx.conn)
        await _lock_teams(ctx, teams)
        for plan, display_name in await store.plans_awaiting_names(ctx.conn, teams):
            if domain.name_due(plan, now):
                await _tell_patient(ctx, plan.patient_id, plan.episode_id, "key-worker",
                                    domain.named_worker_text(display_name, len(plan.core_team)))
                await store.key_worker_named(ctx.conn, plan.episode_id, now)

    async def _episode_locked(ctx: HandlerContext, episode_id: UUID) -> domain.Episode | None:
        """The episode as it stands once its team's planning lock is held. A closure takes the
        same lock, so a visit is either booked before it (and cancelled by it) or sees it."""
        team = await store.episode_team(ctx.conn, episode_id)
        if team is not None:
            await _lock_teams(ctx, [team])
        return await store.episode(ctx.conn, episode_id)

    async def _schedule_one(
        ctx: HandlerContext, episode: domain.Episode, day, now: datetime, replaces: UUID | None = None
    ) -> VisitScheduled:
        roster = await _roster(ctx, episode.team, now)
        visit = domain.visit_on(
            roster, day, tz, now, episode.patient_id, episode.episode_id, episode.core_team, episode.required_skills, replaces
        )
        await store.add_visits(ctx.conn, visit)
        await ctx.emit(visit)
        await _alert_unassigned(ctx, episode.team, [visit], tz)
        return visit

    return {
        StaffMemberRecorded: on_staff_member_recorded,
        ShiftsRostered: on_shifts_rostered,
        AssessmentCompleted: on_assessment_completed,
        AssessmentVersionRecorded: on_assessment_version_recorded,
        VisitRequested: on_visit_requested,
        VisitStarted: on_visit_started,
        VisitOutcomeRecorded: on_visit_outcome_recorded,
        EpisodeClosed: on_episode_closed,
    }, [check_visits, check_weeks, name_key_workers]


async def _lock_teams(ctx: HandlerContext, teams) -> None:  # noqa: ANN001 - any iterable of team names
    """Takes the teams' planning locks; the event's transaction then ends as soon as it is
    handled, so it never holds them while other events of its batch take locks of their own."""
    await store.lock_teams(ctx.conn, teams)
    ctx.commit_soon()


async def _roster(ctx: HandlerContext, team: str | None, now: datetime, since: datetime | None = None) -> domain.Roster:
    if team is None:
        return domain.Roster({}, {})
    await _lock_teams(ctx, [team])
    return await store.roster(ctx.conn, team, since or now - timedelta(hours=1), now + PLANNING_HORIZON)


async def _tell_patient(ctx: HandlerContext, patient_id: UUID, episode_id: UUID, kind: str, text: str) -> None:
    await notify(ctx, "patient", patient_id, episode_id, kind, text)


async def _tell_team_lead(ctx: HandlerContext, team: str | None, patient_id: UUID, episode_id: UUID, kind: str, text: str) -> None:
    if team:
        await notify(ctx, f"team-lead:{team}", patient_id, episode_id, kind, text)


async def _alert_unassigned(ctx: HandlerContext, team: str | None, visits, tz: ZoneInfo) -> None:
    for visit in visits:
        if visit.staff_id is None:
            when = visit.window_start.astimezone(tz)
            await _tell_team_lead(
                ctx, team, visit.patient_id, visit.episode_id, "visit-unassigned",
                f"Nobody with the skills needed is free for the visit on {when:%A %d %B} at {when:%H:%M}: please assign someone.",
            )
