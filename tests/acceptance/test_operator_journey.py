"""What an on-call operator finds with `carepath journey`, `carepath tail` and `carepath lag` on
the real broker: one patient's journey in order with a poison message in the middle, shown as the
dead letter it became; only the events asked for; every group caught up once the journey is done;
and nothing in the output a sender could use on the terminal, nor anything known of the person."""

import os
import subprocess
import sys
from pathlib import Path

from contracts import DEAD_LETTER, AssessmentCompleted, EpisodeClosed, ReferralAccepted, ReferralSubmitted, VisitScheduled
from tests.acceptance.deployment import Deployment
from tools.journey import Journey, Patient

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_TYPE = "carepath.assessment.\x1b]0;owned\x07submitted.v1"  # sets the window title, if printed raw


def carepath(deployment: Deployment, *args: str, login: str | None = None) -> list[str]:
    """A `carepath` command against this deployment, as an operator runs it; its output's lines."""
    as_ = ("--as", login) if login else ()
    done = subprocess.run(
        [sys.executable, "-m", "tools.cli", "--bootstrap", deployment.kafka.bootstrap, "--prefix", deployment.prefix, *as_, *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120, env=os.environ,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


async def test_carepath_journey_shows_a_journey_in_order_with_the_poison_message_in_the_middle_as_its_dead_letter(
    deployment: Deployment, journey: Journey, patient: Patient,
) -> None:
    accepted = await journey.refer()
    visit = await journey.assess(accepted)
    # A faulty clinician's app sends this patient a body that is no assessment, under a hostile type.
    await journey.clinician.publish_raw(
        "assessment.inbound", str(accepted.patient_id).encode(), b'{"not": "an assessment"}',
        {"ce_type": HOSTILE_TYPE, "ce_subject": str(accepted.patient_id), "ce_correlationid": str(patient.correlation_id)},
    )
    await journey.visit(visit)
    await journey.discharge(accepted)
    await deployment.settled()

    by_correlation = carepath(deployment, "journey", str(patient.correlation_id), login="admin")
    steps = [line for line in by_correlation[2:] if line.startswith("  ")]
    what = "\n".join(steps)
    assert by_correlation[0].startswith(f"journey {patient.correlation_id}: {len(steps)} step(s) over ")
    assert by_correlation[0].endswith(", 1 dead letter(s)")
    order = [ReferralSubmitted, ReferralAccepted, AssessmentCompleted, VisitScheduled, EpisodeClosed]
    positions = [what.index(kind.cloudevents_type()) for kind in order]
    assert positions == sorted(positions), f"the journey is out of order:\n{what}"
    [dead] = [line for line in steps if "DEAD LETTER" in line]
    assert "from assessment.inbound[" in dead and f"refused by {deployment.prefix}-assessment" in dead
    assert what.index(AssessmentCompleted.cloudevents_type()) < what.index(dead) < what.index(EpisodeClosed.cloudevents_type())
    assert "\\x1b]0;owned\\x07" in dead, "the hostile type is shown as text"
    assert all(line.split()[2].startswith("+") for line in steps), "each step says how long it took since the one before"

    by_patient = carepath(deployment, "journey", str(accepted.patient_id), login="admin")
    assert EpisodeClosed.cloudevents_type() in "\n".join(by_patient) and any("DEAD LETTER" in line for line in by_patient)
    as_operator = carepath(deployment, "journey", str(patient.correlation_id))
    assert not any("DEAD LETTER" in line for line in as_operator)
    assert as_operator[-1].startswith(f"dead letters: not shown, operator may not read {DEAD_LETTER.full_name(deployment.prefix)}")

    printed = "\n".join(by_correlation + by_patient + as_operator)
    assert "\x1b" not in printed and "\x07" not in printed
    canaries = (patient.name, *patient.name.split(), patient.hc_number, patient.hc_number.replace(" ", ""))
    assert not [canary for canary in canaries if canary in printed], "a journey printed what is known of the person"


async def test_carepath_tail_shows_only_the_events_asked_for_and_lag_shows_every_service_caught_up(
    deployment: Deployment, journey: Journey, patient: Patient,
) -> None:
    accepted = await journey.refer()
    await journey.assess(accepted)
    await deployment.settled()

    visits = carepath(deployment, "tail", "--once", "--correlation", str(patient.correlation_id), "--type", "carepath.visit.*")
    assert visits and all(" carepath.visit." in line for line in visits), "\n".join(visits)
    scheduled = [line for line in visits if f" {VisitScheduled.cloudevents_type()} " in line]
    assert len(scheduled) == len(deployment.log.events(VisitScheduled, lambda e: e.episode_id == accepted.episode_id)) > 0
    referrals = carepath(deployment, "tail", "--once", "--patient", str(accepted.patient_id), "--topic", "referral.events")
    assert referrals and all("referral.events[" in line for line in referrals)
    assert any(ReferralAccepted.cloudevents_type() in line for line in referrals)
    assert carepath(deployment, "tail", "--once", "--patient", str(accepted.patient_id), "--since", "2099-01-01T00:00:00") == []
    printed = "\n".join(visits + referrals)
    assert patient.name not in printed and patient.hc_number not in printed

    lag = carepath(deployment, "lag", login="admin")
    totals = {line.split(":")[0]: line for line in lag if not line.startswith(" ")}
    for service in deployment.services:
        assert totals[f"{deployment.prefix}-{service}"].startswith(f"{deployment.prefix}-{service}: lag 0"), "\n".join(lag)
    assert any(line.startswith("  referral.inbound[") and line.endswith("lag 0") for line in lag)
