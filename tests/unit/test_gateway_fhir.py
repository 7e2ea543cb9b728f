"""The gateway's reading of a FHIR ServiceRequest into referral.submitted: what each element
becomes, and for each kind of bad input the status and the element the OperationOutcome names,
never echoing the patient's data."""

import json
from datetime import UTC, date, datetime

import pytest

from contracts.referral import ReferralSource, Urgency
from services.gateway.domain import (
    ED_ARRIVAL_EXTENSION,
    HC_NUMBER_SYSTEM,
    PRIORITY_URGENCY,
    SOURCE_SYSTEM,
    TRUST_SYSTEM,
    Referral,
    Refusal,
    accepted_task,
    read_referral,
)
from tests.gateway_requests import ED, GP, HC, body, ed_request, patient_changed, service_request

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ED_ARRIVAL = f"ServiceRequest.extension('{ED_ARRIVAL_EXTENSION}')"


def read(resource, caller=GP) -> Referral | Refusal:
    return read_referral(body(resource) if not isinstance(resource, bytes) else resource, caller, NOW)


def refusal(resource, caller=GP) -> Refusal:
    found = read(resource, caller)
    assert isinstance(found, Refusal), found
    outcome = found.outcome()
    assert outcome["resourceType"] == "OperationOutcome"
    assert all(issue["severity"] == "error" for issue in outcome["issue"])
    return found


def test_a_gps_service_request_becomes_the_referral_it_describes() -> None:
    """A GP's urgent ServiceRequest becomes referral.submitted with its placer id, the contained patient and the urgency."""
    referral = read(service_request())
    assert isinstance(referral, Referral)
    event = referral.event
    assert (event.referral_id, event.trust.value, event.source, event.urgency) == ("GP-BT-2026-000123", "belfast", ReferralSource.GP,
                                                                                  Urgency.URGENT)
    assert (event.hc_number, event.patient_name, event.date_of_birth) == ("943 476 5919", "Alex Morgan", date(1990, 4, 12))
    assert event.submitted_at == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert event.ed_arrived_at is None


@pytest.mark.parametrize(("priority", "urgency"), [("stat", 1), ("asap", 4), ("urgent", 2), ("routine", 3)])
def test_each_fhir_priority_becomes_its_mhsds_urgency_code(priority: str, urgency: int) -> None:
    """stat is an emergency, asap very urgent, urgent urgent, routine routine."""
    assert read(service_request(priority=priority)).event.urgency == urgency
    assert PRIORITY_URGENCY[priority] == urgency


def test_an_ed_referral_carries_the_time_the_person_arrived() -> None:
    """From an ED, the arrival-time extension becomes ed_arrived_at."""
    event = read(ed_request(), ED).event
    assert event.source is ReferralSource.EMERGENCY_DEPARTMENT and event.urgency is Urgency.EMERGENCY
    assert event.ed_arrived_at == datetime(2026, 11, 26, 7, 10, tzinfo=UTC)


def test_without_category_or_authored_on_the_callers_own_route_trust_and_the_time_received_are_used() -> None:
    """No category, performer or authoredOn: the calling system's route and Trust, and now."""
    resource = service_request()
    for absent in ("category", "performer", "authoredOn"):
        del resource[absent]
    event = read(resource).event
    assert (event.source, event.trust.value, event.submitted_at) == (ReferralSource.GP, "belfast", NOW)


def test_the_trust_named_as_performer_is_the_one_referred_to() -> None:
    event = read(service_request(performer=[{"identifier": {"system": TRUST_SYSTEM, "value": "northern"}}])).event
    assert event.trust.value == "northern"


def test_a_patient_requester_is_a_known_patient_referring_themselves() -> None:
    """A requester that is the patient (no category) is the known-patient route, if the system may refer so."""
    from dataclasses import replace

    resource = service_request(requester={"reference": "#patient"})
    del resource["category"]
    assert isinstance(read(resource), Refusal)  # a GP system may not refer as the patient
    cmht_line = replace(GP, routes=(ReferralSource.GP, ReferralSource.KNOWN_PATIENT))
    assert read(resource, cmht_line).event.source is ReferralSource.KNOWN_PATIENT


def test_the_name_is_its_text_when_given_and_the_hc_number_is_spaced() -> None:
    resource = patient_changed(service_request(hc="943-476-5919"), name=[{"text": "  Alex   Morgan "}])
    event = read(resource).event
    assert (event.patient_name, event.hc_number) == ("Alex Morgan", "943 476 5919")


def test_a_resend_has_the_same_fingerprint_and_another_patient_another() -> None:
    """The fingerprint leaves out the send time, so a resend matches; another patient does not."""
    first = read(service_request()).fingerprint
    assert read(service_request(authoredOn="2026-11-26T09:45:00+00:00")).fingerprint == first
    assert read(service_request(hc="4010232137")).fingerprint != first


@pytest.mark.parametrize(("sent", "status", "code", "expression"), [
    (b"{not json", 400, "structure", None),
    (b"[]", 400, "invalid", "resourceType"),
    (body({"resourceType": "Patient"}), 400, "invalid", "resourceType"),
    (body(service_request(intent=None)), 400, "required", "ServiceRequest.intent"),
    (body(service_request(priority=5)), 400, "value", "ServiceRequest.priority"),
    (body(service_request(unknownElement=1)), 400, "structure", "ServiceRequest.unknownElement"),
    (body(service_request(authoredOn="26/11/2026")), 400, "value", "ServiceRequest.authoredOn"),
    (body(service_request(contained=[{"resourceType": "NotAResource"}])), 400, "structure", "ServiceRequest"),
    (body(service_request(status="draft")), 422, "value", "ServiceRequest.status"),
    (body(service_request(intent="proposal")), 422, "value", "ServiceRequest.intent"),
    (body(service_request(priority=None)), 422, "required", "ServiceRequest.priority"),
    (body(service_request(priority="whenever")), 422, "value", "ServiceRequest.priority"),
    (body(service_request(identifier=None)), 422, "required", "ServiceRequest.identifier"),
    (body(service_request(identifier=[{"value": "A-1"}, {"value": "B-2"}])), 422, "value", "ServiceRequest.identifier"),
    (body(service_request(referral_id="not an id!")), 422, "value", "ServiceRequest.identifier"),
    (body(service_request(subject=None)), 422, "required", "ServiceRequest.subject"),
    (body(service_request(subject={"reference": "Patient/123"})), 422, "value", "ServiceRequest.subject.reference"),
    (body(service_request(hc="9434765918")), 422, "value", "ServiceRequest.contained[0].identifier"),
    (body(service_request(hc="943476591")), 422, "value", "ServiceRequest.contained[0].identifier"),
    (body(patient_changed(service_request(), identifier=[{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": HC}])),
     422, "required", "ServiceRequest.contained[0].identifier"),
    (body(patient_changed(service_request(), name=[])), 422, "required", "ServiceRequest.contained[0].name"),
    (body(patient_changed(service_request(), birthDate="1990")), 422, "value", "ServiceRequest.contained[0].birthDate"),
    (body(patient_changed(service_request(), name=[{"text": "A" * 201}])), 422, "value", "ServiceRequest.contained[0].name"),
    (body(service_request(authoredOn="2026-11")), 422, "value", "ServiceRequest.authoredOn"),
    (body(service_request(category=[{"coding": [{"system": SOURCE_SYSTEM, "code": "neighbour"}]}])), 422, "value",
     "ServiceRequest.category"),
    (body(service_request(category=[{"coding": [{"system": SOURCE_SYSTEM, "code": "emergency-department"}]}])), 422,
     "business-rule", "ServiceRequest.category"),
    (body(service_request(performer=[{"identifier": {"system": TRUST_SYSTEM, "value": "leinster"}}])), 422, "value",
     "ServiceRequest.performer"),
])
def test_a_bad_request_is_refused_naming_the_element(sent: bytes, status: int, code: str, expression: str | None) -> None:
    """Malformed or not a ServiceRequest: 400; against carepath's rules (the check digit too): 422; the element named."""
    found = refusal(sent)
    assert found.status == status
    issue = found.outcome()["issue"][0]
    assert (issue["code"], issue.get("expression", [None])[0]) == (code, expression), issue
    assert issue["diagnostics"]


@pytest.mark.parametrize(("arrived", "status", "code", "expression"), [
    (None, 422, "required", ED_ARRIVAL),
    ("2026-11-26", 422, "value", ED_ARRIVAL),  # a FHIR dateTime, but no time of day
    ("2026-11-26T07:10:00", 400, "value", "ServiceRequest.extension[0].valueDateTime"),  # FHIR needs the zone with a time
])
def test_an_ed_referral_without_a_full_arrival_time_is_refused(arrived: str | None, status: int, code: str, expression: str) -> None:
    """An ED referral must say when the person arrived, as a time with its zone."""
    found = refusal(ed_request(arrived=arrived), ED)
    issue = found.outcome()["issue"][0]
    assert (found.status, issue["code"], issue["expression"]) == (status, code, [expression])


def test_every_problem_is_reported_at_once() -> None:
    """Several faults: one issue for each, so the integrator fixes them in one go."""
    found = refusal(service_request(status="draft", priority=None, hc="1234567890"))
    assert {issue["expression"][0] for issue in found.outcome()["issue"]} == {
        "ServiceRequest.status", "ServiceRequest.priority", "ServiceRequest.contained[0].identifier"}


@pytest.mark.parametrize("resource", [
    service_request(hc="9434765918"),
    patient_changed(service_request(), birthDate="1990-13-45"),
    patient_changed(service_request(), name=[{"text": "Alex Morgan" * 30}]),
    service_request(referral_id="Alex Morgan 9434765919"),
])
def test_no_refusal_echoes_the_patients_data(resource) -> None:
    """What is refused is said without the H&C number, the name or the date of birth."""
    text = json.dumps(refusal(resource).outcome())
    for datum in ("9434765918", "943 476 5918", "Alex", "Morgan", "1990-13-45", "9434765919"):
        assert datum not in text


def test_the_answer_is_a_valid_fhir_task_with_no_patient_data() -> None:
    """The 201's body validates as a FHIR Task and carries carepath's id, the referrer's id, and no patient datum."""
    from fhir.resources.R4B.task import Task

    referral = read(service_request())
    task = accepted_task("5b0e8a52-6f4c-4c4e-9a53-0e6f2a1d7c11", referral, GP, NOW)
    Task.model_validate(task)
    assert task["id"] == "5b0e8a52-6f4c-4c4e-9a53-0e6f2a1d7c11"
    assert task["basedOn"][0]["identifier"]["value"] == "GP-BT-2026-000123"
    text = json.dumps(task)
    assert HC not in text and "943 476 5919" not in text and "Morgan" not in text and "1990" not in text


def test_the_hc_number_system_is_the_documented_one() -> None:
    assert HC_NUMBER_SYSTEM == "https://carepath.example/fhir/Id/hc-number"
