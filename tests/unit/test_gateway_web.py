"""The gateway's HTTP face with a hand-written desk: a valid referral is kept with its event
before the 201, a resend under the same identifier or Idempotency-Key gets the same answer and no
second event, a bad one gets its OperationOutcome and nothing is kept, a call without the calling
system's token is refused, and the log never holds patient data."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from structlog.testing import capture_logs

from contracts import Envelope, Event
from services.gateway.callers import Callers, CallersError, caller_entry
from services.gateway.store import Answer
from services.gateway.web import create_app
from tests.fakes import FixedClock
from tests.gateway_requests import CALLERS, ED, GP, HC, TOKENS, ed_request, service_request

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


class FakeDesk:
    """Answers kept by (caller, key) and events queued, as the gateway's database would keep them."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], Answer] = {}
        self.queued: list[tuple[Event, Envelope]] = []

    async def accept(self, caller: str, keys: list[str], answer: Answer, event: Event, envelope: Envelope) -> Answer:
        for key in keys:
            if (caller, key) in self.answers:
                return self.answers[caller, key]
        for key in keys:
            self.answers[caller, key] = answer
        self.queued.append((event, envelope))
        return answer


@pytest.fixture
def desk() -> FakeDesk:
    return FakeDesk()


@pytest.fixture
def client(desk: FakeDesk) -> TestClient:
    return TestClient(create_app(CALLERS, desk, FixedClock(NOW)), base_url="https://gateway.example")


def post(client: TestClient, resource, caller=GP, token: str | None = None, **headers: str):
    headers = {"authorization": f"Bearer {token or TOKENS[caller.name]}", "content-type": "application/fhir+json", **headers}
    content = resource if isinstance(resource, bytes) else json.dumps(resource).encode()
    return client.post("/fhir/ServiceRequest", content=content, headers=headers)


def test_a_referral_is_queued_with_the_caller_as_source_before_the_201(client: TestClient, desk: FakeDesk) -> None:
    """201 with a Location and a Task under carepath's id; the event queued, its source the calling system's."""
    answer = post(client, service_request())
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+json")
    [(event, envelope)] = desk.queued
    task = answer.json()
    assert task["resourceType"] == "Task" and task["id"] == str(envelope.id)
    assert answer.headers["location"] == f"https://gateway.example/fhir/Task/{envelope.id}"
    assert envelope.source == "/trust/belfast/gp-system" and envelope.type == "carepath.referral.submitted.v1"
    assert envelope.subject == "GP-BT-2026-000123" and envelope.time == NOW
    assert (event.referral_id, event.hc_number) == ("GP-BT-2026-000123", "943 476 5919")


def test_the_source_is_the_callers_whatever_the_body_says(client: TestClient, desk: FakeDesk) -> None:
    """A body naming another system as its source changes nothing: the source comes from the login."""
    resource = service_request(meta={"source": "/trust/northern/ed-system"})
    assert post(client, resource).status_code == 201
    assert desk.queued[0][1].source == GP.source


def test_an_ed_system_is_its_own_source(client: TestClient, desk: FakeDesk) -> None:
    assert post(client, ed_request(), ED).status_code == 201
    assert desk.queued[0][1].source == "/trust/belfast/ed-system"


def test_a_resend_under_the_same_identifier_gets_the_same_answer_and_queues_nothing(client: TestClient, desk: FakeDesk) -> None:
    first = post(client, service_request())
    again = post(client, service_request(authoredOn="2026-11-26T09:40:00+00:00"))
    assert (again.status_code, again.json(), again.headers["location"]) == (201, first.json(), first.headers["location"])
    assert len(desk.queued) == 1


def test_a_resend_under_the_same_idempotency_key_gets_the_same_answer(client: TestClient, desk: FakeDesk) -> None:
    first = post(client, service_request(), **{"idempotency-key": "send-1"})
    again = post(client, service_request(), **{"idempotency-key": "send-1"})
    assert again.status_code == 201 and again.json() == first.json() and len(desk.queued) == 1


def test_the_same_identifier_from_another_system_is_another_referral(client: TestClient, desk: FakeDesk) -> None:
    """Identifiers are per calling system: the same id from the ED is a referral of its own."""
    assert post(client, service_request("SHARED-1")).status_code == 201
    ed = ed_request("SHARED-1")
    assert post(client, ed, ED).status_code == 201
    assert [envelope.source for _, envelope in desk.queued] == [GP.source, ED.source]


@pytest.mark.parametrize("second", [service_request(hc="4010232137"), service_request(priority="routine")])
def test_another_referral_under_a_used_identifier_is_a_conflict(client: TestClient, desk: FakeDesk, second) -> None:
    """A different patient or urgency under an identifier already used: 409, and nothing queued."""
    post(client, service_request())
    answer = post(client, second)
    assert answer.status_code == 409
    assert answer.json()["issue"][0]["code"] == "duplicate" and len(desk.queued) == 1


@pytest.mark.parametrize(("token", "authorization"), [
    (None, None), (None, "Bearer not-a-token"), (None, "Basic Z3A6cGFzcw=="), (None, "Bearer "),
])
def test_a_call_without_a_valid_token_is_refused_and_nothing_is_read(client: TestClient, desk: FakeDesk, token, authorization) -> None:
    headers = {"content-type": "application/fhir+json"} | ({"authorization": authorization} if authorization else {})
    answer = client.post("/fhir/ServiceRequest", content=json.dumps(service_request()).encode(), headers=headers)
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json()["issue"][0]["code"] == "login" and desk.queued == []


@pytest.mark.parametrize(("resource", "status", "expression"), [
    (b"{", 400, None),
    ({"resourceType": "Patient"}, 400, "resourceType"),
    (service_request(hc="9434765918"), 422, "ServiceRequest.contained[0].identifier"),
    (ed_request(arrived=None), 422, None),  # from the GP system: may not refer as the ED
])
def test_a_bad_request_gets_its_outcome_and_nothing_is_kept(client: TestClient, desk: FakeDesk, resource, status, expression) -> None:
    answer = post(client, resource)
    assert answer.status_code == status
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    if expression:
        assert outcome["issue"][0]["expression"] == [expression]
    assert desk.queued == [] and desk.answers == {}


def test_other_media_types_oversized_bodies_and_bad_keys_are_refused(client: TestClient, desk: FakeDesk) -> None:
    assert post(client, service_request(), **{"content-type": "application/xml"}).status_code == 415
    assert post(client, b"{" + b" " * 300_000 + b"}").status_code == 413
    assert post(client, service_request(), **{"idempotency-key": "has spaces"}).status_code == 400
    assert desk.queued == []


def test_unknown_paths_answer_with_an_operation_outcome(client: TestClient) -> None:
    answer = client.get("/fhir/Patient/1")
    assert answer.status_code == 404 and answer.json()["resourceType"] == "OperationOutcome"
    assert client.get("/fhir/ServiceRequest").status_code == 405


def test_every_call_is_logged_without_patient_data(client: TestClient) -> None:
    """The log says who called, the status and the elements at fault; never a name, a number or the reason."""
    with capture_logs() as logs:
        post(client, service_request())
        post(client, service_request("GP-2", hc="9434765918"))
        post(client, service_request(), token="wrong")
    calls = [entry for entry in logs if entry["event"] == "gateway.request"]
    assert [entry["status"] for entry in calls] == [201, 422, 401]
    assert calls[0]["caller"] == GP.name and calls[0]["event_id"] and calls[2]["caller"] is None
    assert calls[1]["issues"] == ["value@ServiceRequest.contained[0].identifier"]
    text = json.dumps(logs, default=str)
    for datum in (HC, "943 476 5919", "9434765918", "Alex", "Morgan", "1990-04-12", "ending it", TOKENS[GP.name]):
        assert datum not in text


def test_the_callers_file_is_read_and_a_broken_one_refused(tmp_path: Path) -> None:
    """Each caller's table as written for it; a wrong Trust, route or digest stops the gateway, naming the entry."""
    path = tmp_path / "callers.toml"
    path.write_text(caller_entry(GP, "gp-secret-token") + "\n" + caller_entry(ED, "ed-secret-token"))
    callers = Callers.load(path)
    assert callers.authenticate("Bearer gp-secret-token") == GP
    assert callers.authenticate("bearer ed-secret-token") == ED
    assert callers.authenticate("Bearer gp-secret-tokenx") is None
    assert "gp-secret-token" not in path.read_text()
    for broken in ('trust = "belfast"', 'routes = ["gp"]'):
        path.write_text(caller_entry(GP, "t").replace(broken, broken.replace("belfast", "leinster").replace("gp", "vet")))
        with pytest.raises(CallersError, match="caller 1"):
            Callers.load(path)
    with pytest.raises(CallersError):
        Callers.load(tmp_path / "missing.toml")
