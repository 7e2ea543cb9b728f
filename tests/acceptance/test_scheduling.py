"""The scheduling service on the real broker and databases: a named key worker, the agreed
level of input, skills respected, no double booking, and no silent missed visits."""

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from contracts import (
    CarePlanAgreed,
    ContactsBelowPlan,
    CarerStrain,
    EscalationAction,
    EscalationRaised,
    NotificationSent,

    ReferralAccepted,
    RiskChange,
    Role,
    Shift,
    ShiftsRostered,
    Skill,
    StaffMemberRecorded,
    Trust,
    VisitMissed,
    VisitOutcomeRecorded,
    VisitRequested,
    VisitRunningLate,
    VisitScheduled,
    VisitStatus,
)
from shared.runtime.codec import encode
from tools.journey import Journey, Patient
from tools.trust import TrustSystem
from tests.acceptance.deployment import ROOT, Deployment, ServiceProcess
from tests.factories import new_hc_number


def shifts(days: int = 10) -> tuple[Shift, ...]:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return tuple(
        Shift(starts_at=today + timedelta(days=d, hours=7), ends_at=today + timedelta(days=d, hours=21)) for d in range(days)
    )


async def rota(deployment: Deployment, trust: Trust, *members: tuple[str, tuple[Skill, ...]], lead: str | None = None) -> None:
    """The Trust's rostering system records staff and their shifts (07:00-21:00 for ten days)."""
    async with TrustSystem(deployment.kafka, deployment.prefix, f"/trust/{trust.value}/rostering") as rostering:
        for staff_id, skills in members:
            await rostering.publish(
                StaffMemberRecorded(staff_id=staff_id, team=f"htcr:{trust.value}", role=Role.NURSE, skills=skills,
                                    team_lead=staff_id == lead, display_name=staff_id.title())
            )
            await rostering.publish(ShiftsRostered(staff_id=staff_id, shifts=shifts()))
    await deployment.settled()


async def home_treatment(deployment: Deployment, journey: Journey, trust: Trust, **assessment) -> tuple[ReferralAccepted, CarePlanAgreed]:
    journey.patient = Patient(hc_number=new_hc_number(), name=f"Sched-{uuid4().hex[:6]} Patient", trust=trust)
    deployment.patients.append(journey.patient)
    accepted = await journey.refer()
    await journey.submit_assessment(accepted, **assessment)
    plan = await deployment.log.wait_for(CarePlanAgreed, lambda e: e.episode_id == accepted.episode_id)
    await deployment.settled()
    return accepted, plan


def visits_of(deployment: Deployment, episode_id) -> list[VisitScheduled]:
    return deployment.log.events(VisitScheduled, lambda e: e.episode_id == episode_id)


async def test_a_new_episode_gets_a_plan_with_a_key_worker_and_7_one_hour_visits_and_the_patient_receives_it(
    deployment: Deployment, journey: Journey
) -> None:
    await rota(deployment, Trust.SOUTHERN, ("s-aoife", ()), ("s-brian", ()), ("s-ciara", ()), ("s-declan", ()))
    accepted, plan = await home_treatment(deployment, journey, Trust.SOUTHERN)

    assert plan.key_worker is not None and plan.key_worker in plan.core_team and plan.visits_first_week >= 7
    visits = visits_of(deployment, accepted.episode_id)
    first = min(v.window_start for v in visits)
    week_one = [v for v in visits if v.window_start < first + timedelta(days=7)]
    assert len(week_one) >= 7
    assert all(v.window_end - v.window_start <= timedelta(hours=1) for v in visits)
    [told] = deployment.log.events(NotificationSent, lambda e: e.episode_id == accepted.episode_id and e.kind == "care-plan")
    assert told.recipient == "patient" and "named worker is" in told.text and "one-hour window" in told.text


async def test_over_a_week_with_the_key_worker_on_shift_every_visit_is_by_the_key_worker_or_core_team(
    deployment: Deployment, journey: Journey
) -> None:
    await rota(deployment, Trust.SOUTHERN, ("s-eimear", ()), ("s-fergal", ()))
    accepted, plan = await home_treatment(deployment, journey, Trust.SOUTHERN)
    staff = {v.staff_id for v in visits_of(deployment, accepted.episode_id)}
    assert None not in staff and staff <= set(plan.core_team)
    rows = await deployment.query(
        "scheduling", "SELECT count(DISTINCT staff_id) AS seen, avg((staff_id = $2)::int) AS key_share FROM visits WHERE episode_id = $1",
        accepted.episode_id, plan.key_worker,
    )
    assert rows[0]["seen"] <= 3 and rows[0]["key_share"] > 0  # continuity per episode

    first = min(visits_of(deployment, accepted.episode_id), key=lambda v: v.window_start)
    await journey.visit(first)
    await deployment.settled()
    report = _cli(deployment, "--episode", str(accepted.episode_id))
    assert report == [f"episode {accepted.episode_id}: 1 visits by 1 staff, {100 if first.staff_id == plan.key_worker else 0}% by the key worker"]
    weekly = _cli(deployment)
    assert weekly[0].split() == ["team", "week", "of", "planned", "done", "missed", "cut", "short", "unassigned"]
    assert any(line.startswith("htcr:southern") for line in weekly[1:])


def _cli(deployment: Deployment, *args: str) -> list[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.cli", "scheduling", "report", *args, "--database-url", deployment.databases["scheduling"]],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
    ).stdout.splitlines()


async def test_a_patient_with_a_learning_disability_is_only_given_staff_with_that_skill(
    deployment: Deployment, journey: Journey
) -> None:
    await rota(deployment, Trust.WESTERN, ("w-general-1", ()), ("w-general-2", ()), ("w-ld", (Skill.LEARNING_DISABILITY,)))
    sections = {"diagnoses": {"conditions": [], "personality_disorder": False, "learning_disability": True}}
    accepted, plan = await home_treatment(deployment, journey, Trust.WESTERN, sections=sections)

    assert plan.required_skills == (Skill.LEARNING_DISABILITY,) and plan.key_worker == "w-ld"
    assert {v.staff_id for v in visits_of(deployment, accepted.episode_id)} <= {"w-ld", None}
    assert plan.core_team == ("w-ld",)


async def test_a_plan_made_before_its_teams_rota_ends_with_the_key_worker_and_core_team_a_plan_made_after_it_gets(
    deployment: Deployment, journey: Journey
) -> None:
    """Topics are not ordered with each other: here the South Eastern team's rota is read after an
    assessment. The plan starts with nobody named and every visit unassigned; as the rota is read,
    one member at a time, the plan is revised (care-plan.agreed again, visit.scheduled again for the
    visits whose staff changed, in the same windows) and ends with the people a plan made after the
    whole rota gets. The patient is told the name once it has settled (the clock is moved)."""
    late, before = await home_treatment(deployment, journey, Trust.SOUTH_EASTERN)
    assert before.key_worker is None and before.core_team == ()
    announced = {v.visit_id: v for v in visits_of(deployment, late.episode_id)}
    assert {v.staff_id for v in announced.values()} == {None}

    await rota(deployment, Trust.SOUTH_EASTERN, ("se-late-b", ()), ("se-late-a", ()), ("se-late-c", ()))
    revised = deployment.log.events(CarePlanAgreed, lambda e: e.episode_id == late.episode_id)[-1]
    latest = {v.visit_id: v for v in visits_of(deployment, late.episode_id)}  # the last word on each visit
    in_order_accepted, in_order = await home_treatment(deployment, journey, Trust.SOUTH_EASTERN)

    assert (revised.key_worker, revised.core_team) == (in_order.key_worker, in_order.core_team)
    assert revised.core_team == ("se-late-a", "se-late-b", "se-late-c")
    assert latest.keys() == announced.keys()
    assert all(latest[visit_id].window_start == visit.window_start for visit_id, visit in announced.items())
    assert all(visit.staff_id in revised.core_team for visit in latest.values())
    try:
        deployment.move_clock(timedelta(minutes=11))
        named = await deployment.log.wait_for(
            NotificationSent, lambda e: e.episode_id == late.episode_id and e.kind == "key-worker", timeout_s=60
        )
    finally:
        deployment.move_clock(timedelta(0))
    assert named.recipient == "patient" and "Se-Late-A" in named.text
    for accepted in (late, in_order_accepted):  # closed, so later rotas in this session leave them be
        await journey.discharge(accepted)
    await deployment.settled()


async def test_50_concurrent_scheduling_requests_for_the_same_staff_never_double_book_anyone(
    deployment: Deployment, journey: Journey, tmp_path
) -> None:
    """Two scheduling instances share the requests; three staff; nobody is in two places at once."""
    await rota(deployment, Trust.NORTHERN, ("n-1", ()), ("n-2", ()), ("n-3", ()))
    episodes = [await home_treatment(deployment, journey, Trust.NORTHERN) for _ in range(5)]
    scheduling = deployment.services["scheduling"]
    second = ServiceProcess("scheduling", scheduling.env, tmp_path / "scheduling-2.log")
    second.start()
    try:
        await asyncio.sleep(3)  # the group rebalances across both instances
        day = datetime.now(UTC).date() + timedelta(days=2)
        requests = [
            VisitRequested(request_id=uuid4(), patient_id=accepted.patient_id, episode_id=accepted.episode_id, day=day, requested_by="n-1")
            for n in range(50)
            for accepted, _ in [episodes[n % len(episodes)]]
        ]
        await asyncio.gather(*(journey.clinician.publish(request) for request in requests))
        await deployment.settled(timeout_s=120)
    finally:
        second.stop()

    overlaps = await deployment.query(
        "scheduling",
        "SELECT a.staff_id, a.episode_id AS first, b.episode_id AS second, a.window_start, b.window_start AS other_start "
        "FROM visits a JOIN visits b ON a.staff_id = b.staff_id AND a.visit_id < b.visit_id "
        "AND tstzrange(a.window_start, a.window_end) && tstzrange(b.window_start, b.window_end) "
        "WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'",  # a cancelled visit books nobody
    )
    assert [dict(row) for row in overlaps] == []
    ids = [accepted.episode_id for accepted, _ in episodes]
    booked = await deployment.query(
        "scheduling", "SELECT count(*) AS n, count(staff_id) AS assigned FROM visits WHERE episode_id = ANY($1)", ids
    )
    assert booked[0]["n"] == 5 * 7 + 50  # every request answered
    assert 0 < booked[0]["assigned"] < booked[0]["n"]  # three people cannot take them all: the rest wait, unassigned


async def test_a_visit_with_no_outcome_is_missed_once_the_team_lead_alerted_the_patient_told_and_a_new_visit_offered(
    deployment: Deployment, journey: Journey
) -> None:
    """The clock is moved past the window and the grace period, not slept through."""
    await rota(deployment, Trust.SOUTH_EASTERN, ("se-lead", ()), ("se-1", ()), lead="se-lead")
    accepted, _ = await home_treatment(deployment, journey, Trust.SOUTH_EASTERN)
    visit = min(visits_of(deployment, accepted.episode_id), key=lambda v: v.window_start)
    try:
        deployment.move_clock(visit.window_start + timedelta(minutes=16) - datetime.now(UTC))
        await deployment.log.wait_for(VisitRunningLate, lambda e: e.visit_id == visit.visit_id)
        deployment.move_clock(visit.window_end + timedelta(minutes=31) - datetime.now(UTC))
        await deployment.log.wait_for(VisitMissed, lambda e: e.visit_id == visit.visit_id, timeout_s=60)
        replacement = await deployment.log.wait_for(VisitScheduled, lambda e: e.replaces_visit_id == visit.visit_id)
        await asyncio.sleep(2)  # several more checks
        await deployment.settled(timeout_s=120)
    finally:
        deployment.move_clock(timedelta(0))

    assert len(deployment.log.events(VisitMissed, lambda e: e.visit_id == visit.visit_id)) == 1
    notes = deployment.log.events(NotificationSent, lambda e: e.episode_id == accepted.episode_id)
    assert {(n.recipient, n.kind) for n in notes} >= {
        ("patient", "visit-late"), ("patient", "visit-missed"), ("team-lead:htcr:south-eastern", "visit-missed")
    }
    assert replacement.window_start > visit.window_end


async def test_a_visit_outcome_reporting_a_carer_at_breaking_point_raises_an_escalation(
    deployment: Deployment, journey: Journey
) -> None:
    accepted = await journey.refer()
    visit = await journey.assess(accepted)
    outcome = VisitOutcomeRecorded(
        visit_id=visit.visit_id, patient_id=visit.patient_id, episode_id=visit.episode_id, status=VisitStatus.COMPLETED,
        actual_minutes=50, recorded_at=datetime.now(UTC), carer_strain=CarerStrain.BREAKING_POINT,
    )
    await journey.staff_app.publish(outcome)
    raised = await deployment.log.wait_for(EscalationRaised, lambda e: e.visit_id == visit.visit_id)
    assert raised.action is EscalationAction.MORE_VISITS
    await deployment.settled()
    assert len(visits_of(deployment, accepted.episode_id)) == 7 + 1  # one more visit offered

    second = max(visits_of(deployment, accepted.episode_id), key=lambda v: v.window_start)
    await journey.staff_app.publish(
        outcome.model_copy(update={"visit_id": second.visit_id, "carer_strain": None, "risk_change": RiskChange.INCREASED})
    )
    raised = await deployment.log.wait_for(EscalationRaised, lambda e: e.visit_id == second.visit_id)
    assert raised.action is EscalationAction.ADMISSION_REQUEST
    await deployment.settled()
    requests = await deployment.query(
        "assessment", "SELECT status, reasons FROM admission_requests WHERE episode_id = $1", accepted.episode_id
    )
    assert [tuple(r) for r in requests] == [("awaiting-gatekeeping", ["risk-increased"])]  # a gatekeeping decision to make


async def test_a_staff_event_with_an_unknown_skill_or_overlapping_shifts_is_dead_lettered_with_the_reason(
    deployment: Deployment,
) -> None:
    member = StaffMemberRecorded(staff_id="b-bad", team="htcr:belfast", role=Role.NURSE)
    overlapping = ShiftsRostered.model_construct(
        staff_id="b-bad",
        shifts=(Shift(starts_at=datetime(2026, 12, 1, 8, tzinfo=UTC), ends_at=datetime(2026, 12, 1, 20, tzinfo=UTC)),
                Shift(starts_at=datetime(2026, 12, 1, 19, tzinfo=UTC), ends_at=datetime(2026, 12, 2, 7, tzinfo=UTC))),
    )
    before = len(deployment.log.dead_letters())
    async with TrustSystem(deployment.kafka, deployment.prefix, "/trust/belfast/rostering") as rostering:
        envelope = await rostering.publish(member)
        record = encode(member, envelope)
        bad_skill = member.model_dump_json().replace('"skills":[]', '"skills":["juggling"]').encode()
        await rostering.publish_raw("rota.inbound", record.key, bad_skill, record.headers | {"ce_id": str(uuid4())})
        shifts_record = encode(overlapping, envelope.model_copy(update={"id": uuid4(), "type": ShiftsRostered.cloudevents_type()}))
        await rostering.publish_raw("rota.inbound", shifts_record.key, shifts_record.value, shifts_record.headers)
    await deployment.log.wait_until(lambda: len(deployment.log.dead_letters()) >= before + 2)
    reasons = [d.headers["dlq_reason"] for d in deployment.log.dead_letters()[before:]]
    assert "skills.0: enum" in reasons[0]
    assert "shifts overlap" in reasons[1]
    await deployment.settled()
    stored = await deployment.query("scheduling", "SELECT count(*) AS n FROM shifts WHERE staff_id = 'b-bad'")
    assert stored[0]["n"] == 0




async def test_a_week_ending_with_fewer_contacts_than_planned_alerts_the_team_lead_and_discharge_cancels_visits(
    deployment: Deployment, journey: Journey
) -> None:
    """Week one promised 7 contacts; one took place. Eight days on (the clock moved), one
    shortfall alert; a discharged patient's remaining visits are cancelled, never 'missed'."""
    accepted, _ = await home_treatment(deployment, journey, Trust.SOUTHERN)
    first = min(visits_of(deployment, accepted.episode_id), key=lambda v: v.window_start)
    await journey.visit(first)
    other, _ = await home_treatment(deployment, journey, Trust.SOUTHERN)
    await journey.discharge(other)
    await deployment.settled()
    cancelled = await deployment.query(
        "scheduling", "SELECT count(*) AS n FROM visits WHERE episode_id = $1 AND status = 'cancelled'", other.episode_id
    )
    assert cancelled[0]["n"] == 7
    try:
        deployment.move_clock(timedelta(days=8, hours=12))
        below = await deployment.log.wait_for(
            ContactsBelowPlan, lambda e: e.episode_id == accepted.episode_id, timeout_s=120
        )
        await asyncio.sleep(2)
        await deployment.settled(timeout_s=180)
    finally:
        deployment.move_clock(timedelta(0))
    assert (below.week, below.planned, below.completed) == (1, 7, 1)
    assert len(deployment.log.events(ContactsBelowPlan, lambda e: e.episode_id == accepted.episode_id and e.week == 1)) == 1
    assert not deployment.log.events(VisitMissed, lambda e: e.episode_id == other.episode_id)
    assert not deployment.log.events(ContactsBelowPlan, lambda e: e.episode_id == other.episode_id)


async def test_after_discharge_an_outcome_for_a_cancelled_visit_escalates_once_and_books_nothing_and_a_visit_request_is_refused(
    deployment: Deployment, journey: Journey
) -> None:
    """Staff went to a visit cancelled at discharge and saw rising risk: the outcome is recorded
    and escalated, the team lead is told (nothing is booked on a closed episode); the same outcome
    re-sent under a new event id changes nothing; a clinician's request for a visit is dead-lettered."""
    accepted = await journey.refer()
    visit = await journey.assess(accepted)
    await deployment.settled()
    await journey.discharge(accepted)
    await deployment.settled()

    outcome = VisitOutcomeRecorded(
        visit_id=visit.visit_id, patient_id=visit.patient_id, episode_id=visit.episode_id, status=VisitStatus.COMPLETED,
        actual_minutes=45, recorded_at=datetime.now(UTC), risk_change=RiskChange.INCREASED,
    )
    await journey.staff_app.publish(outcome)
    raised = await deployment.log.wait_for(EscalationRaised, lambda e: e.visit_id == visit.visit_id)
    await journey.staff_app.publish(outcome)  # re-sent: a new event id
    request = VisitRequested(
        request_id=uuid4(), patient_id=accepted.patient_id, episode_id=accepted.episode_id,
        day=(datetime.now(UTC) + timedelta(days=1)).date(), requested_by="staff-0007",
    )
    envelope = await journey.clinician.publish(request)
    await deployment.log.wait_until(lambda: any(d.headers.get("ce_id") == str(envelope.id) for d in deployment.log.dead_letters()))
    await deployment.settled()

    assert raised.action is EscalationAction.ADMISSION_REQUEST
    assert len(deployment.log.events(EscalationRaised, lambda e: e.episode_id == accepted.episode_id)) == 1
    assert len({v.visit_id for v in visits_of(deployment, accepted.episode_id)}) == 7  # nothing booked after discharge
    [told] = deployment.log.events(NotificationSent, lambda e: e.episode_id == accepted.episode_id and e.kind == "escalation")
    assert told.recipient == "team-lead:htcr:belfast" and "closed" in told.text
    [dead] = [d for d in deployment.log.dead_letters() if d.headers.get("ce_id") == str(envelope.id)]
    assert "closed" in dead.headers["dlq_reason"]
    rows = await deployment.query("scheduling", "SELECT status, actual_minutes FROM visits WHERE visit_id = $1", visit.visit_id)
    assert [tuple(row) for row in rows] == [("completed", 45)]
