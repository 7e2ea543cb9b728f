"""`make screenshots`: the board and the fidelity page of a real carepath, as a team lead sees them.

A deployment of its own (its own topic prefix and databases, removed at the end) with the board;
journeys fed through the broker as the Belfast Trust's systems send them, while the services' clock
is moved forward through five days. At 11:20 on the fifth day a referral has breached its clock and
others are inside theirs (one from the ED), the first visit of the day was missed and the 11:00
ones are running late, a discharge four days before has had no follow-up and a later one is due,
a discharge is held at the gate, a carer was recorded at breaking point and one patient's visits
are withheld by their consent decision. Then a team lead is added and `tools.screenshots` signs in
and writes board.png and fidelity.png (of the fifth day's week).

  python -m tests.screenshots [OUT_DIR]   (default: screenshots/)

In `tests/` because it runs a deployment as the acceptance tests do (`a_deployment`).
"""

import argparse
import asyncio
import sys
import tempfile
import time as timer
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import partial
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from contracts import (
    CarePlanAgreed,
    CarerStrain,
    ConsentRecorded,
    CrisisContactsGiven,
    DischargeConversationRecorded,
    DischargeDecided,
    DischargeProposed,
    DischargeRefused,
    EpisodeClosed,
    EscalationRaised,
    FollowOnCareArranged,
    FollowUpBreached,
    FollowUpCompleted,
    FollowUpContactRecorded,
    InformationCategory,
    OnwardCare,
    ReferralAccepted,
    ReferralSource,
    ResponseTargetBreached,
    Role,
    Shift,
    ShiftsRostered,
    StaffMemberRecorded,
    SummaryContent,
    Trust,
    Urgency,
    VisitCompleted,
    VisitMissed,
    VisitOutcomeRecorded,
    VisitRunningLate,
    VisitScheduled,
    VisitStarted,
    VisitStatus,
)
from services.board.signin import add_user
from tests.acceptance.conftest import a_deployment
from tests.acceptance.deployment import Deployment
from tests.factories import new_hc_number
from tools.journey import Journey, Patient, consent_capture
from tools.screenshots import screenshots
from tools.trust import TrustSystem

LONDON = ZoneInfo("Europe/London")
TEAM = "htcr:belfast"
LEAD, PASSWORD = "lead.belfast", "screenshots only: " + uuid4().hex  # a user of this deployment alone
STAFF = ("b-aoife", "b-brian", "b-ciara")
TIMEOUT_S = 60
# An assessment naming a carer (their information shared with them, by the patient's consent).
WITH_A_CARER = {
    "risk": {"to_self": "low", "to_others": "none", "from_others": "none", "safeguarding_children": False,
             "safeguarding_adults": False, "details": "Low risk.", "risk_plan": "Daily visits."},
    "family_and_carers": {"composition": "Lives with partner.", "carers": [
        {"carer_id": "partner-1", "name": "Sam", "relationship": "partner", "contact": "07700 900123",
         "strain": "high", "carers_assessment": "offered"}]},
    "crisis_plan": {"warning_signs": ["stops eating", "not sleeping"], "what_to_do": "Call the duty line; stay with them.",
                    "who_to_contact": ["HTCR duty line"]},
}


@dataclass
class Clock:
    """The services' clock, moved forward through the days as the journeys need (never back):
    `at(day, hh, mm)` is a moment in Belfast `day` days after today."""

    deployment: Deployment
    today: date
    offset: timedelta = timedelta(0)

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(self.today + timedelta(days=day), time(hour, minute), LONDON).astimezone(UTC)

    def go(self, moment: datetime) -> None:
        offset = moment - datetime.now(UTC)
        assert offset >= self.offset - timedelta(seconds=5), "the clock only moves forward"
        self.offset = offset
        self.deployment.move_clock(offset)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Systems:
    """The Belfast Trust's systems, logged in as themselves."""

    gp: TrustSystem
    ed: TrustSystem
    clinician: TrustSystem
    staff_app: TrustSystem
    consent: TrustSystem
    rostering: TrustSystem


BEGAN = timer.monotonic()


def say(text: str) -> None:
    print(f"screenshots: {timer.monotonic() - BEGAN:5.0f} s  {text}", file=sys.stderr, flush=True)


async def open_systems(deployment: Deployment, stack: AsyncExitStack) -> Systems:
    def system(name: str) -> TrustSystem:
        return TrustSystem(deployment.kafka, deployment.prefix, f"/trust/belfast/{name}")

    systems = Systems(system("gp-system"), system("ed-system"), system("htcr-clinical-system"), system("staff-app"),
                     consent_capture(deployment.kafka, deployment.prefix), system("rostering"))
    for each in vars(systems).values():
        await stack.enter_async_context(each)
    return systems


async def rota(deployment: Deployment, systems: Systems, clock: Clock) -> None:
    """Three nurses on shift 08:00-20:00 (Belfast) for the next fortnight, one of them the team lead."""
    shifts = tuple(Shift(starts_at=clock.at(day, 8), ends_at=clock.at(day, 20)) for day in range(14))
    for staff_id in STAFF:
        await systems.rostering.publish(StaffMemberRecorded(
            staff_id=staff_id, team=TEAM, role=Role.NURSE, team_lead=staff_id == STAFF[0], display_name=staff_id[2:].title()))
        await systems.rostering.publish(ShiftsRostered(staff_id=staff_id, shifts=shifts))
    await deployment.settled()


def journey(deployment: Deployment, systems: Systems, *, ed: bool = False) -> Journey:
    patient = Patient(hc_number=new_hc_number(), name=f"Shot-{uuid4().hex[:6]} Patient", trust=Trust.BELFAST)
    deployment.patients.append(patient)
    return Journey(deployment.log, systems.ed if ed else systems.gp, systems.clinician, systems.staff_app, patient,
                   timeout_s=TIMEOUT_S, consent=systems.consent)


async def refer(journey: Journey, clock: Clock, **overrides) -> ReferralAccepted:
    """The referral as the GP (or ED) system sends it, submitted at the services' own now."""
    referral = journey.referral(submitted_at=clock.now(), **overrides)
    await journey.publish(journey.gp, referral)
    return await journey.log.wait_for(ReferralAccepted, lambda e: e.referral_id == referral.referral_id, TIMEOUT_S)


async def home_treatment(journey: Journey, clock: Clock) -> ReferralAccepted:
    """Referred, assessed at once for home treatment, and a plan agreed (visits from tomorrow)."""
    accepted = await refer(journey, clock)
    await journey.submit_assessment(accepted, assessed_at=clock.now())
    await journey.log.wait_for(CarePlanAgreed, lambda e: e.episode_id == accepted.episode_id, TIMEOUT_S)
    return accepted


async def discharge(journey: Journey, accepted: ReferralAccepted, clock: Clock, *, complete: bool = True) -> None:
    """Proposed and talked through with the patient; with `complete`, follow-on care and crisis
    contacts too, so the gate lets it through. Then decided."""
    ids = {"patient_id": accepted.patient_id, "episode_id": accepted.episode_id}
    now = clock.now()
    steps = [
        DischargeProposed(**ids, proposed_by="b-aoife", planned_for=now.astimezone(LONDON).date(),
                          reason="Crisis resolved; CMHT follow-up agreed with the patient.",
                          summary=SummaryContent(reason_for_care="Acute crisis.", assessment_and_risk="Risk now low.",
                                                 medication="No change.", plan_and_requested_actions="CMHT to review."),
                          crisis_contacts=("Home treatment duty line 028 9649 6001",), proposed_at=now),
        DischargeConversationRecorded(**ids, recorded_by="b-aoife", recorded_at=now - timedelta(days=3)),  # notice given
    ]
    if complete:
        steps += [FollowOnCareArranged(**ids, onward_to=OnwardCare.CMHT, arranged_by="b-aoife", arranged_at=now),
                  CrisisContactsGiven(**ids, given_by="b-aoife", given_at=now)]
    for step in steps:
        await journey.publish(journey.clinician, step)
    await journey.publish(journey.clinician, DischargeDecided(**ids, decided_by="b-aoife", decided_at=now,
                                                              reason="Crisis resolved; CMHT follow-up agreed."))
    answer = EpisodeClosed if complete else DischargeRefused
    await journey.log.wait_for(answer, lambda e: e.episode_id == accepted.episode_id, TIMEOUT_S)


def visits_on(deployment: Deployment, episodes: list[UUID], start: datetime, end: datetime) -> list[VisitScheduled]:
    """The episodes' visits (as last scheduled) with windows opening in [start, end), in window order."""
    latest: dict[UUID, VisitScheduled] = {}
    for visit in deployment.log.events(VisitScheduled, lambda e: e.episode_id in episodes):
        latest[visit.visit_id] = visit
    return sorted((v for v in latest.values() if start <= v.window_start < end), key=lambda v: (v.window_start, str(v.visit_id)))


async def started(deployment: Deployment, journey: Journey, visit: VisitScheduled, clock: Clock) -> None:
    """The arrival recorded by the staff app; carepath answers with no event, so its record is read."""
    await journey.publish(journey.staff_app, VisitStarted(
        visit_id=visit.visit_id, patient_id=visit.patient_id, episode_id=visit.episode_id, started_at=clock.now()))
    deadline = timer.monotonic() + TIMEOUT_S
    while not (await deployment.query("scheduling", "SELECT started_at FROM visits WHERE visit_id = $1", visit.visit_id))[0][0]:
        if timer.monotonic() > deadline:
            raise TimeoutError(f"visit {visit.visit_id}: its start was not recorded")
        await asyncio.sleep(0.1)


async def follow_up(journey: Journey, accepted: ReferralAccepted, clock: Clock) -> None:
    await journey.publish(journey.clinician, FollowUpContactRecorded(patient_id=accepted.patient_id, contact_by="b-ciara",
                                                                    contact_at=clock.now()))
    await journey.log.wait_for(FollowUpCompleted, lambda e: e.patient_id == accepted.patient_id, TIMEOUT_S)


async def seen(journey: Journey, visit: VisitScheduled, clock: Clock, **outcome) -> None:
    await journey.publish(journey.staff_app, VisitOutcomeRecorded(
        visit_id=visit.visit_id, patient_id=visit.patient_id, episode_id=visit.episode_id, status=VisitStatus.COMPLETED,
        actual_minutes=50, recorded_at=clock.now(), **outcome))
    await journey.log.wait_for(VisitCompleted, lambda e: e.visit_id == visit.visit_id, TIMEOUT_S)


Step = tuple[datetime, str, Callable[[], Awaitable[object]]]
SETTLE_AFTER = ("a discharge", "five more assessed")  # what changes the plans the next steps rely on


async def unfold(deployment: Deployment, clock: Clock, steps: list[Step]) -> None:
    """Each step at its moment, in order. Each waits for its own answer; after a discharge or new
    plans the whole deployment settles too, before the clock moves past a visit they cancel or book."""
    for moment, what, step in sorted(steps, key=lambda s: s[0]):
        clock.go(moment)
        await step()
        if what.startswith(SETTLE_AFTER):
            await deployment.settled()
        say(f"{moment.astimezone(LONDON):%a %H:%M}: {what}")


def made(deployment: Deployment, journey: Journey, visit: VisitScheduled, clock: Clock, **outcome) -> list[Step]:
    """A visit made: started five minutes into its window, recorded after fifty."""
    return [(visit.window_start + timedelta(minutes=5), "a visit started", partial(started, deployment, journey, visit, clock)),
            (visit.window_start + timedelta(minutes=50), "a visit recorded", partial(seen, journey, visit, clock, **outcome))]


async def feed(deployment: Deployment, systems: Systems) -> datetime:
    """The journeys, through the broker, with the clock moved through five days. Returns the
    moment the board is looked at: 11:20 on the fifth day."""
    log = deployment.log
    clock = Clock(deployment, datetime.now(LONDON).date())
    await rota(deployment, systems, clock)

    # Today: three people assessed for home treatment, visited from tomorrow. One is discharged
    # tomorrow and nobody follows it up; one is discharged tomorrow and followed up the day after;
    # one, whose partner cares for them, is visited each day and discharged on the fourth day.
    forgotten_j, followed_j, recent_j = (journey(deployment, systems) for _ in range(3))
    forgotten = await home_treatment(forgotten_j, clock)
    followed = await home_treatment(followed_j, clock)
    recent = await refer(recent_j, clock)
    await systems.consent.publish(ConsentRecorded(
        consent_id=uuid4(), patient_id=recent.patient_id, recipient="carer:partner-1",
        categories=(InformationCategory.CARER_GENERAL_INFORMATION,), permit=True, recorded_by="b-brian", recorded_at=clock.now()))
    await recent_j.submit_assessment(recent, assessed_at=clock.now(), sections=WITH_A_CARER)
    await log.wait_for(CarePlanAgreed, lambda e: e.episode_id == recent.episode_id, TIMEOUT_S)
    await deployment.settled()
    say("three home-treatment plans")
    first_days = [(forgotten, forgotten_j, clock.at(1, 12, 30)), (followed, followed_j, clock.at(1, 12, 40)),
                  (recent, recent_j, clock.at(4, 16, 30))]
    steps: list[Step] = []
    for accepted, j, leaves in first_days:
        for visit in visits_on(deployment, [accepted.episode_id], clock.at(1, 0), leaves):
            steps += made(deployment, j, visit, clock)
        steps.append((leaves, "a discharge", partial(discharge, j, accepted, clock)))
    steps.append((clock.at(2, 11), "a follow-up contact", partial(follow_up, followed_j, followed, clock)))
    treated_journeys = [journey(deployment, systems) for _ in range(5)]
    treated: list[ReferralAccepted] = []

    async def assess_five() -> None:
        treated.extend([await home_treatment(j, clock) for j in treated_journeys])
        # This patient's decision: their visits are not for the team's shared board.
        await systems.consent.publish(ConsentRecorded(
            consent_id=uuid4(), patient_id=treated[-2].patient_id, recipient=TEAM,
            categories=(InformationCategory.CONTACT_DETAILS,), permit=False, recorded_by="b-brian", recorded_at=clock.now()))

    steps.append((clock.at(4, 14), "five more assessed for home treatment", assess_five))
    await unfold(deployment, clock, steps)

    # The fifth day: referrals through the morning (the first not assessed in time), a discharge
    # decided before the gate's items are done, and the morning's visits, each started and then
    # recorded but the first of the day, which nobody makes. The 11:00 visits are not started by 11:20.
    private, held = treated[-2], treated[-1]
    episodes = [a.episode_id for a in treated]
    by_episode = dict(zip(episodes, treated_journeys, strict=True))
    morning = visits_on(deployment, episodes, clock.at(5, 0), clock.at(5, 10, 30))
    visible = [v for v in morning if v.episode_id not in (private.episode_id, held.episode_id)]
    assert len(visible) >= 2, f"expected at least two morning visits to show, found {len(visible)}"
    missed, carer_visit = visible[0], visible[-1]
    steps = [
        (clock.at(5, 6, 40), "a very urgent referral", lambda: refer(journey(deployment, systems), clock, urgency=Urgency.VERY_URGENT)),
        (clock.at(5, 8, 5), "an urgent referral", lambda: refer(journey(deployment, systems), clock, urgency=Urgency.URGENT)),
        (clock.at(5, 8, 45), "a discharge held at the gate", partial(discharge, by_episode[held.episode_id], held, clock, complete=False)),
        (clock.at(5, 9, 50), "a referral from the ED",
         lambda: refer(journey(deployment, systems, ed=True), clock, urgency=Urgency.VERY_URGENT,
                       source=ReferralSource.EMERGENCY_DEPARTMENT, ed_arrived_at=clock.at(5, 8, 10))),
        (clock.at(5, 10, 55), "an emergency referral", lambda: refer(journey(deployment, systems), clock, urgency=Urgency.EMERGENCY)),
    ]
    for visit in morning:
        if visit is not missed:
            steps += made(deployment, by_episode[visit.episode_id], visit, clock,
                          **({"carer_strain": CarerStrain.BREAKING_POINT} if visit is carer_visit else {}))
    await unfold(deployment, clock, steps)

    breached = log.events(ReferralAccepted, lambda e: e.accepted_at >= clock.at(5, 0))[0]
    clock.go(clock.at(5, 11, 20))
    await log.wait_for(VisitMissed, lambda e: e.visit_id == missed.visit_id, TIMEOUT_S)
    await log.wait_for(ResponseTargetBreached, lambda e: e.episode_id == breached.episode_id, TIMEOUT_S)
    await log.wait_for(FollowUpBreached, lambda e: e.patient_id == forgotten.patient_id, TIMEOUT_S)
    await log.wait_for(EscalationRaised, lambda e: e.visit_id == carer_visit.visit_id, TIMEOUT_S)
    for visit in visits_on(deployment, episodes, clock.at(5, 11), clock.at(5, 11, 5)):
        await log.wait_for(VisitRunningLate, lambda e, v=visit: e.visit_id == v.visit_id, TIMEOUT_S)
    await deployment.settled(timeout_s=120)
    say("11:20 on the fifth day: the board as the team lead finds it")
    return clock.now()


async def run(out_dir: Path) -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="carepath-screenshots-") as logs:
        async with a_deployment(Path(logs), board=True) as deployment, AsyncExitStack() as stack:
            say(f"a deployment of its own up (topics {deployment.prefix}.*)")
            systems = await open_systems(deployment, stack)
            try:
                at = await feed(deployment, systems)
            except BaseException:
                print(deployment.log_text()[-4000:], file=sys.stderr)
                raise
            board = deployment.services["board"]
            add_user(board.env["CAREPATH_USERS_FILE"], LEAD, Trust.BELFAST, PASSWORD)
            base = f"http://127.0.0.1:{board.env['CAREPATH_WEB_PORT']}"
            week = at.astimezone(LONDON).date()
            week -= timedelta(days=week.weekday())
            paths = await asyncio.to_thread(screenshots, base, LEAD, PASSWORD, out_dir, TEAM, week.isoformat())
    say("done; the deployment's topics and databases removed")
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Screenshots of the board of a real carepath fed with journeys.")
    parser.add_argument("out_dir", nargs="?", type=Path, default=Path("screenshots"))
    args = parser.parse_args(argv)
    for path in asyncio.run(run(args.out_dir)):
        print(path)


if __name__ == "__main__":
    main()
