"""The board on the real broker and databases: journeys fed as Trust systems send them (a referral
left to breach its clock, a visit nobody makes, a discharge nobody follows up), found by a team
lead in headless Chromium through the board's own web pages, each view audited; no page without
sign-in, no other Trust's team; the fidelity command's figures equal to counts made here from the
events themselves; and `carepath board rebuild` making the same read model again from the log."""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest
from argon2 import PasswordHasher
from selenium.webdriver.common.by import By

from contracts import (
    AssessmentStarted,
    BoardViewAudited,
    EpisodeClosed,
    ReferralAccepted,
    ResponseTargetBreached,
    Trust,
    Urgency,
    VisitCompleted,
    VisitMissed,
    VisitScheduled,
)
from services.board.fidelity import LONDON
from services.board.signin import add_user
from tests.acceptance.conftest import a_deployment
from tests.acceptance.deployment import ROOT, Deployment
from tests.acceptance.test_scheduling import home_treatment, rota, visits_of
from tests.browser import chromium, needs_chromium
from tests.factories import new_hc_number
from tools.journey import Journey, Patient, trust_systems

pytestmark = needs_chromium
PASSWORD = "a team lead's long password"


@pytest.fixture(scope="module")
async def deployed(tmp_path_factory) -> AsyncIterator[Deployment]:
    logs = tmp_path_factory.mktemp("board-deployment")
    async with a_deployment(logs, board=True) as deployment, AsyncExitStack() as systems:
        board = deployment.services["board"]
        add_user(board.env["CAREPATH_USERS_FILE"], "lead.belfast", Trust.BELFAST, PASSWORD)
        deployment.systems = systems  # the Trust systems the journeys publish as, closed at the end
        yield deployment


def url_of(deployment: Deployment) -> str:
    return f"http://127.0.0.1:{deployment.services['board'].env['CAREPATH_WEB_PORT']}"


async def a_journey(deployment: Deployment) -> Journey:
    gp, clinician, staff_app = trust_systems(deployment.kafka, deployment.prefix)
    for system in (gp, clinician, staff_app):
        await deployment.systems.enter_async_context(system)
    patient = Patient(hc_number=new_hc_number(), name=f"Board-{uuid4().hex[:6]} Patient", trust=Trust.BELFAST)
    deployment.patients.append(patient)
    return Journey(deployment.log, gp, clinician, staff_app, patient, timeout_s=60)


def row_class(driver, patient_id: UUID, section: str) -> str:
    """The class of the row naming the patient (by the whole id in its title) in one section."""
    code = driver.find_element(By.CSS_SELECTOR, f'section#{section} code.id[title="{patient_id}"]')
    return code.find_element(By.XPATH, "./ancestor::tr").get_attribute("class") or ""


def sign_in(driver, base: str) -> None:
    driver.get(f"{base}/sign-in")
    driver.find_element(By.ID, "username").send_keys("lead.belfast")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]").click()


async def test_a_team_lead_finds_the_breached_referral_the_missed_visit_and_the_overdue_follow_up_on_the_board(
    deployed: Deployment,
) -> None:
    """Journeys fed through the broker; the clock moved as the day goes by; each slip found on the board in Chromium, and every row seen audited with who saw it."""
    await rota(deployed, Trust.BELFAST, ("b-aoife", ()), ("b-brian", ()), ("b-ciara", ()))
    waiting = await (await a_journey(deployed)).refer()
    treated_journey = await a_journey(deployed)
    treated, _ = await home_treatment(deployed, treated_journey, Trust.BELFAST)
    discharged = await (await a_journey(deployed)).run()
    first = min(visits_of(deployed, treated.episode_id), key=lambda v: v.window_start)
    base = url_of(deployed)
    try:
        with chromium() as driver:
            # Past the referral's clock, and past the first visit's window: on that visit's own day.
            now = datetime.now(UTC)
            deployed.move_clock(max(waiting.assess_by - now + timedelta(minutes=5), first.window_end + timedelta(minutes=31) - now))
            await deployed.log.wait_for(ResponseTargetBreached, lambda e: e.episode_id == waiting.episode_id, timeout_s=60)
            await deployed.log.wait_for(VisitMissed, lambda e: e.visit_id == first.visit_id, timeout_s=60)
            await deployed.settled(timeout_s=120)
            sign_in(driver, base)
            driver.get(f"{base}/teams/htcr:belfast")
            assert "red" in row_class(driver, waiting.patient_id, "waiting").split()
            assert "breached" in driver.find_element(By.CSS_SELECTOR, "section#waiting").text
            today = driver.find_element(By.CSS_SELECTOR, "section#today").text
            assert str(treated.patient_id)[:8] in today and "missed" in today
            # Three days after the discharge, nobody has followed it up.
            deployed.move_clock(discharged.closed_at + timedelta(hours=73) - datetime.now(UTC))
            await asyncio.sleep(1)
            driver.get(f"{base}/teams/htcr:belfast")
            assert "/sign-in" in driver.current_url  # a sign-in lasts a shift, not three days
            sign_in(driver, base)
            driver.get(f"{base}/teams/htcr:belfast")
            assert "overdue" in driver.find_element(By.CSS_SELECTOR, "section#follow-ups").text
            assert "red" in row_class(driver, discharged.patient_id, "follow-ups").split()
    finally:
        deployed.move_clock(timedelta(0))
    await deployed.settled(timeout_s=120)
    views = deployed.log.events(BoardViewAudited, lambda e: e.viewer == "lead.belfast")
    assert {(v.patient_id, v.list_name) for v in views} >= {
        (waiting.patient_id, "waiting for assessment"), (treated.patient_id, "today"), (discharged.patient_id, "follow-ups")}
    assert all(v.team == "htcr:belfast" for v in views)


async def test_no_board_page_is_served_without_sign_in_and_a_belfast_user_cannot_open_another_trusts_team(
    deployed: Deployment,
) -> None:
    """Every page redirects to sign-in without a session; signed in, another Trust's team is refused."""
    base = url_of(deployed)
    async with httpx.AsyncClient(base_url=base, follow_redirects=False) as client:
        for path in ("/", "/teams/htcr:belfast", "/teams/htcr:belfast/fidelity", "/teams/htcr:belfast/fidelity.csv"):
            answer = await client.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in"), path
    with chromium() as driver:
        sign_in(driver, base)
        driver.get(f"{base}/teams/htcr:northern")
        assert "htcr:northern" not in driver.title.lower() or "not" in driver.page_source.lower()
        assert driver.find_elements(By.CSS_SELECTOR, "section#waiting") == []
    async with httpx.AsyncClient(base_url=base, follow_redirects=False) as client:
        form = await client.get("/sign-in")
        token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        signed = await client.post("/sign-in", data={"username": "lead.belfast", "password": PASSWORD, "csrf": token, "next": "/"})
        assert signed.status_code == 303
        assert (await client.get("/teams/htcr:northern")).status_code == 403
        assert (await client.get("/teams/htcr:belfast")).status_code == 200


def carepath(deployment: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**deployment.services["board"].env}
    return subprocess.run([sys.executable, "-m", "tools.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def fidelity_csv(deployment: Deployment, day) -> dict[str, str]:
    printed = carepath(deployment, "fidelity", "--trust", "belfast", "--week", day.isoformat(), "--csv")
    assert printed.returncode == 0, printed.stderr
    return {line.split(",", 1)[0]: line for line in printed.stdout.splitlines()[1:]}


def london_week(at: datetime) -> date:
    day = at.astimezone(LONDON).date()
    return day - timedelta(days=day.weekday())


async def test_the_fidelity_commands_figures_equal_counts_made_from_the_events_themselves(deployed: Deployment) -> None:
    """`carepath fidelity --csv`: the share of emergency and very urgent referrals assessed within 4 hours, and the share of a week's visits missed, equal those counted here from the events on the log."""
    await deployed.settled(timeout_s=120)
    log, now = deployed.log, datetime.now(UTC)
    belfast = {e.episode_id: e for e in log.events(ReferralAccepted, lambda e: e.trust is Trust.BELFAST)}
    started = {e.episode_id: e.started_at for e in log.events(AssessmentStarted)}

    this_week = london_week(now)
    urgent = [a for a in belfast.values() if Urgency(a.urgency) in (Urgency.EMERGENCY, Urgency.VERY_URGENT)
              and london_week(a.accepted_at) == this_week]
    settled = [a for a in urgent if a.episode_id in started or now > a.accepted_at + timedelta(hours=4)]
    in_time = [a for a in settled if a.episode_id in started and started[a.episode_id] - a.accepted_at <= timedelta(hours=4)]
    assert len(settled) >= 2
    assert f",{len(in_time)} of {len(settled)} " in fidelity_csv(deployed, this_week)["assessed-within-4h"]

    windows = {e.visit_id: e.window_start for e in log.events(VisitScheduled, lambda e: e.episode_id in belfast)}  # the latest plan's
    missed = {e.visit_id for e in log.events(VisitMissed)}
    seen = {e.visit_id for e in log.events(VisitCompleted)}
    week = london_week(min(windows.values()))
    known = [visit for visit, at in windows.items() if london_week(at) == week and (visit in missed or visit in seen)]
    assert known, "no visit with an outcome to count"
    not_made = [visit for visit in known if visit in missed]
    assert f",{len(not_made)} of {len(known)} visits" in fidelity_csv(deployed, week)["visits-missed"]


async def test_carepath_board_rebuild_makes_the_same_read_model_again_from_the_log_and_shows_its_progress(
    deployed: Deployment,
) -> None:
    """With the board stopped, a rebuild empties its tables, reads the log from the start with a progress bar and the rate, and ends with the rows it had."""
    await deployed.settled(timeout_s=120)
    query = "SELECT kind, id, state::text AS state FROM board_facts UNION ALL SELECT 'episode', episode_id, state::text FROM board_episodes"
    before = {(r["kind"], r["id"]): r["state"] for r in await deployed.query("board", query)}
    board = deployed.services["board"]
    refused = carepath(deployed, "board", "rebuild")
    assert refused.returncode == 1 and "stop the board service first" in refused.stderr
    board.stop()
    await asyncio.sleep(1)
    rebuilt = carepath(deployed, "board", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    assert "events/s" in rebuilt.stderr and "#" * 30 in rebuilt.stderr
    after = {(r["kind"], r["id"]): r["state"] for r in await deployed.query("board", query)}
    assert after == before and len(before) >= 10
    board.start()
