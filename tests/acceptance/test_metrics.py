"""Each service's metrics, scraped by a real Prometheus (Debian's, which `make infra` installs):
lag, outbox, dead letters, events and handler latency are there, and no label carries a patient
id, a name, an H&C number or a referral id."""

import asyncio
import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.acceptance.deployment import Deployment, free_port
from tools.journey import Journey, Patient

SERIES = ("carepath_consumer_lag", "carepath_outbox_depth", "carepath_outbox_oldest_age_seconds", "carepath_dead_letters_total",
          "carepath_events_total", "carepath_handler_seconds_bucket", "carepath_events_published_total", "carepath_parked_events",
          "carepath_dead_letter_oldest_waiting_age_seconds")


async def test_a_real_prometheus_scrapes_every_service_and_finds_lag_outbox_and_dead_letters_with_no_patient_in_any_label(
    deployment: Deployment, journey: Journey, patient: Patient, tmp_path: Path,
) -> None:
    accepted = await journey.refer()
    await journey.assess(accepted)
    record_key = accepted.patient_id  # the poison is this patient's: its key and subject are the patient id
    await journey.clinician.publish_raw("assessment.inbound", str(record_key).encode(), b'{"not": "an assessment"}',
                                        {"ce_type": "carepath.assessment.submitted.v1", "ce_subject": str(record_key)})
    await deployment.settled()

    async with prometheus(deployment, tmp_path) as query:
        await every_service_up(query)
        found = {name: await eventually(query, name) for name in SERIES}
        everything = await query("/api/v1/series", {"match[]": '{__name__=~"carepath_.*"}'})

    for service in deployment.services:
        group = f"{deployment.prefix}-{service}"
        assert any(s["metric"].get("consumer") == group for s in found["carepath_consumer_lag"]), f"no lag of {group}"
        assert any(s["metric"].get("service") == service for s in found["carepath_outbox_depth"]), f"no outbox of {service}"
    assert any(s["metric"].get("reason_kind") == "undecodable" and s["metric"]["consumer"] == f"{deployment.prefix}-assessment"
               for s in found["carepath_dead_letters_total"])
    assert any(s["metric"].get("event_type") == "carepath.referral.submitted.v1" and s["metric"]["outcome"] == "handled"
               for s in found["carepath_events_total"])
    canaries = {str(accepted.patient_id), str(accepted.episode_id), patient.name, *patient.name.split(), patient.hc_number,
                patient.hc_number.replace(" ", ""), patient.referral_id, str(patient.correlation_id)}
    values = {value for series in everything for value in series.values()}
    assert len(everything) > 50 and not values & canaries, f"a label carries a patient's data: {values & canaries}"


@asynccontextmanager
async def prometheus(deployment: Deployment, tmp_path: Path) -> AsyncIterator:
    """Prometheus scraping this deployment's services every second; yields its HTTP API."""
    binary = shutil.which("prometheus")
    assert binary, "Prometheus is not installed: `make infra` installs it from Debian's packages"
    port = free_port()
    targets = "\n".join(
        f'      - targets: ["127.0.0.1:{svc.env["CAREPATH_METRICS_PORT"]}"]\n        labels: {{service: {name}}}'
        for name, svc in deployment.services.items()
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(f"global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: carepath\n    static_configs:\n{targets}\n")
    process = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                                f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def query(path: str, params: dict[str, str]) -> list[dict]:
        url = f"http://127.0.0.1:{port}{path}?{urllib.parse.urlencode(params)}"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
        return json.loads(body)["data"] if path == "/api/v1/series" else json.loads(body)["data"]["result"]

    try:
        yield query
    finally:
        process.terminate()
        process.wait(timeout=20)


async def every_service_up(query, timeout_s: float = 60) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            try:
                up = await query("/api/v1/query", {"query": 'up{job="carepath"}'})
            except OSError:  # not listening yet
                up = []
            if len(up) == 4 and all(series["value"][1] == "1" for series in up):
                return
            await asyncio.sleep(0.5)


async def eventually(query, name: str, timeout_s: float = 30) -> list[dict]:
    async with asyncio.timeout(timeout_s):
        while not (result := await query("/api/v1/query", {"query": name})):
            await asyncio.sleep(0.5)
    return result
