"""The route map in the README is the one the code draws, and it shows no dead ends."""

import subprocess
import sys
from pathlib import Path

import pytest

from contracts import (
    AssessmentCompleted,
    ConsentRecorded,
    DisclosureAudited,
    EpisodeClosed,
    ReferralAccepted,
    ReferralStatusChanged,
    ReferralSubmitted,
    VisitScheduled,
)
from tools import routes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def drawn() -> list[routes.Route]:
    return routes.routes()


def test_the_readme_holds_the_route_map_the_code_draws(drawn):
    """The README's route map is exactly what `carepath routes` prints today (regenerate it with that command)."""
    held = routes.readme_table((ROOT / "README.md").read_text())
    assert held is not None, "the README has no route map between its markers"
    assert held == routes.markdown(drawn), "the README's route map is stale: paste in the output of `carepath routes`"


def test_a_stale_route_map_is_told_apart(drawn):
    """A map missing one handler is not taken for the current one."""
    table = routes.markdown(drawn)
    stale = table.replace("scheduling: `handlers.on_assessment_completed`<br>", "", 1)
    assert stale != table
    assert routes.readme_table(f"intro\n{stale}\nmore") == stale


def test_a_referral_is_followed_from_the_trust_to_the_closed_episode(drawn):
    """The map names each step of a referral: who sends it, who takes it, and where it goes next."""
    by_event = {route.event: route for route in drawn}
    assert by_event[ReferralSubmitted].publishers == (routes.TRUST_SYSTEMS,)
    assert by_event[ReferralSubmitted].handlers == ("referral: `handlers.on_referral_submitted`",)
    assert by_event[ReferralAccepted].publishers == ("referral",)
    assert "assessment: `handlers.on_referral_accepted`" in by_event[ReferralAccepted].handlers
    assert by_event[AssessmentCompleted].publishers == ("assessment",)
    assert {h.split(":")[0] for h in by_event[AssessmentCompleted].handlers} == {"referral", "scheduling", "discharge", "board"}
    assert by_event[VisitScheduled].publishers == ("scheduling",)
    assert by_event[EpisodeClosed].publishers == ("discharge",)
    assert {h.split(":")[0] for h in by_event[EpisodeClosed].handlers} == {"referral", "assessment", "scheduling", "board"}
    assert set(by_event[DisclosureAudited].publishers) >= {"referral", "assessment", "discharge"}
    assert by_event[ReferralStatusChanged].publishers == ("referral",)


def test_every_event_a_service_publishes_has_a_publisher_and_every_inbound_one_a_handler(drawn):
    """No dead ends: what travels on a service's topic is built by some service, and what a Trust
    system may send is taken by some handler."""
    unpublished = [r.event.cloudevents_type() for r in drawn if not r.publishers]
    unhandled = [r.event.cloudevents_type() for r in drawn if r.topic.inbound and not r.handlers]
    assert unpublished == []
    assert unhandled == []


def test_consent_is_taken_by_every_service_that_discloses(drawn):
    """A consent decision reaches each service that sends a patient's information, and the board,
    which decides by it what a team may see."""
    consent = next(r for r in drawn if r.event is ConsentRecorded)
    assert {h.split(":")[0] for h in consent.handlers} == {"referral", "assessment", "discharge", "board"}


def test_carepath_routes_prints_the_map():
    """The operators' command prints the same table."""
    printed = subprocess.run(
        [sys.executable, "-m", "tools.cli", "routes"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert printed.strip() == routes.markdown(routes.routes())
