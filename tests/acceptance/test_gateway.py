"""The FHIR gateway on the real broker and PostgreSQL, with the referral service: a Trust
system's ServiceRequest over real HTTP is accepted by the referral service, a resend creates
nothing new, and a bad or unauthenticated request writes nothing at all."""

import asyncio
import time
from pathlib import Path
from uuid import uuid4

import httpx

from contracts import ReferralAccepted, ReferralSubmitted
from services.gateway.callers import caller_entry
from tests.acceptance.conftest import a_deployment
from tests.factories import new_hc_number
from tests.gateway_requests import ED, GP, TOKENS, ed_request, service_request

FHIR = "application/fhir+json"


async def gateway_answers(url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as http:
        while True:
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the gateway did not answer")
            await asyncio.sleep(0.2)


async def test_a_service_request_over_http_is_accepted_once_and_a_bad_one_writes_nothing(tmp_path: Path) -> None:
    callers = tmp_path / "callers.toml"
    callers.write_text(caller_entry(GP, TOKENS[GP.name]) + "\n" + caller_entry(ED, TOKENS[ED.name]))
    async with a_deployment(tmp_path, only=("referral",), gateway=callers) as deployment:
        url = f"http://127.0.0.1:{deployment.services['gateway'].env['CAREPATH_FHIR_PORT']}"
        await gateway_answers(url)
        referral_id, bad_id, ed_id = (f"{kind}-{uuid4().hex[:12]}" for kind in ("GP", "BAD", "ED"))
        gp = {"authorization": f"Bearer {TOKENS[GP.name]}", "content-type": FHIR}
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            first = await http.post("/fhir/ServiceRequest", json=service_request(referral_id, hc=new_hc_number()), headers=gp)
            assert first.status_code == 201, first.text
            accepted = await deployment.log.wait_for(ReferralAccepted, lambda e: e.referral_id == referral_id, timeout_s=60)
            assert accepted.urgency == 2 and accepted.source.value == "gp"

            resource = service_request(referral_id, hc=new_hc_number())  # the same id, another patient: a conflict
            again = await http.post("/fhir/ServiceRequest", content=first.request.content, headers=gp | {"idempotency-key": "k-1"})
            conflict = await http.post("/fhir/ServiceRequest", json=resource, headers=gp)
            bad = await http.post("/fhir/ServiceRequest", json=service_request(bad_id, hc="9434765918"), headers=gp)
            broken = await http.post("/fhir/ServiceRequest", content=b'{"resourceType": "ServiceRequest", "status": ', headers=gp)
            stranger = await http.post("/fhir/ServiceRequest", json=service_request(bad_id),
                                       headers={"authorization": "Bearer nobody", "content-type": FHIR})
            ed = await http.post("/fhir/ServiceRequest", json=ed_request(ed_id), headers=gp | {"authorization": f"Bearer {TOKENS[ED.name]}"})

        assert (again.status_code, again.json(), again.headers["location"]) == (201, first.json(), first.headers["location"])
        assert [conflict.status_code, bad.status_code, broken.status_code, stranger.status_code, ed.status_code] == [409, 422, 400, 401, 201]
        assert bad.json()["issue"][0]["expression"] == ["ServiceRequest.contained[0].identifier"]
        await deployment.log.wait_for(ReferralAccepted, lambda e: e.referral_id == ed_id, timeout_s=60)
        await deployment.settled()
        await deployment.log.caught_up()

        submitted = [logged for logged in deployment.log.seen if isinstance(logged.event, ReferralSubmitted)]
        assert sorted((logged.event.referral_id, logged.envelope.source) for logged in submitted) == sorted(
            [(referral_id, GP.source), (ed_id, ED.source)])
        assert str(submitted[0].envelope.id) in {first.json()["id"], ed.json()["id"]}
        assert len(deployment.log.events(ReferralAccepted, lambda e: e.referral_id == referral_id)) == 1
        assert deployment.log.dead_letters() == []
        kept = await deployment.query("gateway", "SELECT caller, key FROM gateway_requests ORDER BY created_at, key")
        assert [(row["caller"], row["key"]) for row in kept] == [
            (GP.name, f"identifier:{referral_id}"), (ED.name, f"identifier:{ed_id}")]
        assert (await deployment.query("gateway", "SELECT count(*) AS n FROM outbox"))[0]["n"] == 0
        logged = (tmp_path / "gateway.log").read_text()
        assert '"status": 422' in logged or '"status":422' in logged
        assert "9434765918" not in logged and "Morgan" not in logged
