"""FHIR ServiceRequests as Trust systems send them to the gateway, for its tests."""

import copy
import json
from typing import Any

from contracts import Trust
from contracts.referral import ReferralSource
from services.gateway.callers import Callers, digest
from services.gateway.domain import ED_ARRIVAL_EXTENSION, HC_NUMBER_SYSTEM, SOURCE_SYSTEM, TRUST_SYSTEM, Caller

GP = Caller("belfast-gp-system", "/trust/belfast/gp-system", Trust.BELFAST, (ReferralSource.GP,))
ED = Caller("belfast-ed-system", "/trust/belfast/ed-system", Trust.BELFAST, (ReferralSource.EMERGENCY_DEPARTMENT,))
TOKENS = {GP.name: "gp-token-" + "g" * 40, ED.name: "ed-token-" + "e" * 40}
CALLERS = Callers(((GP, digest(TOKENS[GP.name])), (ED, digest(TOKENS[ED.name]))))
HC = "9434765919"  # a valid H&C number (check digit 9)


def service_request(referral_id: str = "GP-BT-2026-000123", hc: str = HC, **changes: Any) -> dict[str, Any]:
    """A GP's urgent referral of Alex Morgan, contained as a Patient, with its placer identifier."""
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PLAC"}]},
                        "system": "https://gp.example/belfast/referrals", "value": referral_id}],
        "status": "active",
        "intent": "order",
        "priority": "urgent",
        "category": [{"coding": [{"system": SOURCE_SYSTEM, "code": "gp"}]}],
        "contained": [{"resourceType": "Patient", "id": "patient",
                       "identifier": [{"system": HC_NUMBER_SYSTEM, "value": hc}],
                       "name": [{"use": "official", "given": ["Alex"], "family": "Morgan"}], "birthDate": "1990-04-12"}],
        "subject": {"reference": "#patient"},
        "requester": {"reference": "Practitioner/gp-1", "display": "Dr A GP"},
        "performer": [{"identifier": {"system": TRUST_SYSTEM, "value": "belfast"}}],
        "reasonCode": [{"text": "Low mood, not sleeping, talking of ending it"}],
        "authoredOn": "2026-11-26T09:30:00+00:00",
    }
    resource.update(changes)
    return resource


def ed_request(referral_id: str = "ED-BT-2026-000456", arrived: str | None = "2026-11-26T07:10:00+00:00") -> dict[str, Any]:
    resource = service_request(referral_id, priority="stat",
                               category=[{"coding": [{"system": SOURCE_SYSTEM, "code": "emergency-department"}]}])
    if arrived is not None:
        resource["extension"] = [{"url": ED_ARRIVAL_EXTENSION, "valueDateTime": arrived}]
    return resource


def patient_changed(resource: dict[str, Any], **fields: Any) -> dict[str, Any]:
    changed = copy.deepcopy(resource)
    changed["contained"][0].update(fields)
    return changed


def body(resource: Any) -> bytes:
    return json.dumps(resource).encode()
