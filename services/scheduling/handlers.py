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
    Skill,
    StaffMemberRecorded,
    VisitOutcomeRecorded,
    VisitRequested,
    VisitScheduled,
    VisitStarted,
)
from services.scheduling import domain, store
from services.scheduling.settings import Settings
from shared.consumer import Handler, HandlerContext
from shared.errors import InvalidEvent, NotYetKnown
from shared.notifications import notify

PLANNING_HORIZON = timedelta(days=9)


def build(settings: Settings) -> Mapping[type[Event], Handler]:
    tz = ZoneInfo(settings.timezone)

    async def on_staff_member_recorded(ctx: HandlerContext, member: StaffMemberRecorded) -> None:
        await store.save_staff(ctx.conn, member)

    async def on_shifts_rostered(ctx: HandlerContext, rostered: ShiftsRostered) -> None:
        if await store.staff_team(ctx.conn, rostered.staff_id) is None:
            raise InvalidEvent("shifts for a member of staff the rota has not recorded")
        await store.replace_shifts(ctx.conn, rostered)

    async def on_assessment_completed(ctx: HandlerContext, assessment: AssessmentCompleted) -> None:
        team = f"htcr:{assessment.trust.value}" if assessment.trust else None
        if not await store.add_episode(ctx.conn, assessment, team):
            return
        now = ctx.clock.now()
        roster = await _roster(ctx, team, now)
        plan = domain.plan_home_treatment(assessment, roster, tz, now)
        if plan is None:
            return
        await store.save_plan(ctx.conn, plan.agreed, plan.visits[0].window_start.astimezone(tz).date())
        for visit in plan.visits:
            await store.add_visit(ctx.conn, visit)
        await ctx.emit(plan.agreed, *plan.visits)
        await _tell_patient(ctx, plan.agreed.patient_id, plan.agreed.episode_id, "care-plan", domain.plan_text(plan, roster, tz))
        await _alert_unassigned(ctx, team, plan.visits, tz)

    async def on_assessment_version_recorded(ctx: HandlerContext, recorded: AssessmentVersionRecorded) -> None:
        await store.set_required_skills(ctx.conn, recorded.episode_id, recorded.required_skills)

    async def on_visit_requested(ctx: HandlerContext, request: VisitRequested) -> None:
        episode = await store.episode(ctx.conn, request.episode_id)
        if episode is None:
            raise NotYetKnown("no home-treatment episode with this id is known to the scheduling service")
        if episode["patient_id"] != request.patient_id:
            raise InvalidEvent("the episode belongs to a different patient")
        now = ctx.clock.now()
        if request.day < now.astimezone(tz).date() or not domain.slots_on(request.day, tz, now):
            raise InvalidEvent("the requested day has no visit window left")
        await _schedule_one(ctx, episode, request.day, now)

    async def on_visit_started(ctx: HandlerContext, started: VisitStarted) -> None:
        await store.visit_started(ctx.conn, started.visit_id, started.started_at)

    async def on_visit_outcome_recorded(ctx: HandlerContext, outcome: VisitOutcomeRecorded) -> None:
        completed = domain.record_outcome(await store.find_visit(ctx.conn, outcome.visit_id), outcome)
        await store.record_outcome(ctx.conn, outcome)
        escalation = domain.escalation(outcome, ctx.clock.now())
        await ctx.emit(*completed, *([escalation] if escalation else []))
        if escalation is not None:  # more visits: one more today if a window is left, else tomorrow
            episode = await store.episode(ctx.conn, outcome.episode_id)
            now = ctx.clock.now()
            await _schedule_one(ctx, episode, domain.next_visit_day(tz, now), now)

    async def on_episode_closed(ctx: HandlerContext, closed: EpisodeClosed) -> None:
        await store.close_episode(ctx.conn, closed.episode_id, closed.closed_at)

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
        offer a new visit. Each happens once per visit."""
        now = ctx.clock.now()
        grace = timedelta(minutes=settings.missed_grace_minutes)
        for visit in await store.due_for_checks(ctx.conn, now):
            if (miss := domain.missed(visit, now, grace)) is not None:
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
                await _tell_team_lead(ctx, episode["team"], visit.patient_id, visit.episode_id, "visit-missed", (
                    f"Missed visit (window closed {visit.window_end.astimezone(tz):%H:%M %d %b}, staff "
                    f"{visit.staff_id or 'unassigned'}). Replacement booked for {when:%H:%M %d %b}."
                ))
            elif (late := domain.running_late(visit, now)) is not None:
                await store.mark_late(ctx.conn, visit.visit_id, now)
                await ctx.emit(late)
                await _tell_patient(ctx, visit.patient_id, visit.episode_id, "visit-late", (
                    f"Your visit due between {visit.window_start.astimezone(tz):%H:%M} and "
                    f"{visit.window_end.astimezone(tz):%H:%M} is running late. We are sorry; we are on our way "
                    "or will call you to rearrange."
                ))

    async def _schedule_one(ctx: HandlerContext, episode, day, now: datetime, replaces: UUID | None = None) -> VisitScheduled:
        roster = await _roster(ctx, episode["team"], now)
        needs = tuple(Skill(skill) for skill in episode["required_skills"])
        visit = domain.visit_on(
            roster, day, tz, now, episode["patient_id"], episode["episode_id"], tuple(episode["core_team"]), needs, replaces
        )
        await store.add_visit(ctx.conn, visit)
        await ctx.emit(visit)
        await _alert_unassigned(ctx, episode["team"], [visit], tz)
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
    }, [check_visits, check_weeks]


async def _roster(ctx: HandlerContext, team: str | None, now: datetime) -> domain.Roster:
    if team is None:
        return domain.Roster({}, {})
    await store.lock_team(ctx.conn, team)
    return await store.roster(ctx.conn, team, now - timedelta(hours=1), now + PLANNING_HORIZON)


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
