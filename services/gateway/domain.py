"""A FHIR R4 `ServiceRequest`, as a Trust system sends it, read into carepath's
`referral.submitted` event, or refused with an `OperationOutcome` that names each element at fault.

Pure: no I/O, no clock of its own (the caller passes `now`). The resource is validated by
`fhir.resources` (R4B, whose ServiceRequest and Patient are R4's) and then against carepath's
rules. What is refused is said without echoing the patient's data back: an `OperationOutcome`
travels through the caller's logs and ours.

How carepath reads a ServiceRequest (the README's "FHIR gateway" has an example):

| element | carepath |
|---|---|
| `identifier` | `referral_id`: the one typed `PLAC` (placer), else the only one |
| `status`, `intent` | must be `active` and `order` (or `original-order`) |
| `subject` | `{"reference": "#<id>"}` of a `contained` Patient |
| that Patient's `identifier` (system `HC_NUMBER_SYSTEM`) | `hc_number` (modulus-11 check digit) |
| its `name` (`text`, else given names and family) | `patient_name` |
| its `birthDate` | `date_of_birth` (a full date) |
| `priority` (required: an absent one is not read as routine) | `urgency`: `PRIORITY_URGENCY` |
| `category` coding in `SOURCE_SYSTEM` | `source`; else a requester that is a Patient (known-patient) or a RelatedPerson (carer-of-known-patient); else the calling system's own route |
| `performer[0].identifier` in `TRUST_SYSTEM` | `trust`; else the calling system's Trust |
| extension `ED_ARRIVAL_EXTENSION` (valueDateTime) | `ed_arrived_at`, required from an ED |
| `authoredOn` (with a time zone) | `submitted_at`; else the time the gateway received it |

`reasonCode` and `note` are accepted and not carried: `referral.submitted` has no field for the
referrer's clinical text, and no carepath service reads one yet.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from contracts import Trust
from contracts.referral import ReferralSource, ReferralSubmitted, Urgency
from shared.reference import hc_number

CAREPATH_FHIR = "https://carepath.example/fhir"
# No HSC body publishes a FHIR NamingSystem for the NI Health and Care number yet; until one
# does, carepath names it itself (one constant: changed here when the HSC's own exists).
HC_NUMBER_SYSTEM = f"{CAREPATH_FHIR}/Id/hc-number"
SOURCE_SYSTEM = f"{CAREPATH_FHIR}/CodeSystem/referral-source"  # codes: contracts.referral.ReferralSource
TRUST_SYSTEM = f"{CAREPATH_FHIR}/Id/hsc-trust"  # values: contracts.Trust
ED_ARRIVAL_EXTENSION = f"{CAREPATH_FHIR}/StructureDefinition/ed-arrival-time"
TASK_SYSTEM = f"{CAREPATH_FHIR}/Id/task"  # carepath's id of an accepted referral
PLACER = ("http://terminology.hl7.org/CodeSystem/v2-0203", "PLAC")

# FHIR request priority -> MHSDS ClinRespPriorityType. `stat` is the emergency (assessed within
# 4 hours), `asap` very urgent (4 hours), `urgent` urgent (24 hours), `routine` routine (redirected
# to the CMHT: routine is not a crisis).
PRIORITY_URGENCY = {
    "stat": Urgency.EMERGENCY,
    "asap": Urgency.VERY_URGENT,
    "urgent": Urgency.URGENT,
    "routine": Urgency.ROUTINE,
}
INTENTS = ("order", "original-order")
REQUESTER_SOURCE = {"Patient": ReferralSource.KNOWN_PATIENT, "RelatedPerson": ReferralSource.CARER_OF_KNOWN_PATIENT}
# Where each field of the event comes from, for a refusal by ReferralSubmitted's own rules.
EVENT_ELEMENTS = {
    "referral_id": "ServiceRequest.identifier",
    "trust": "ServiceRequest.performer",
    "source": "ServiceRequest.category",
    "urgency": "ServiceRequest.priority",
    "hc_number": "Patient.identifier",  # Patient: the contained one, by its path
    "patient_name": "Patient.name",
    "date_of_birth": "Patient.birthDate",
    "ed_arrived_at": f"ServiceRequest.extension('{ED_ARRIVAL_EXTENSION}')",
    "submitted_at": "ServiceRequest.authoredOn",
}


@dataclass(frozen=True)
class Caller:
    """A Trust system allowed to call the gateway: who it is as an event source, its Trust, and
    the routes it may refer by (the first is its own, used when a request names none)."""

    name: str
    source: str  # the CloudEvents source of what it sends, e.g. /trust/belfast/gp-system
    trust: Trust
    routes: tuple[ReferralSource, ...]


@dataclass(frozen=True)
class Issue:
    """One `OperationOutcome.issue`: always an error here."""

    code: str  # FHIR issue type: invalid, structure, required, value, business-rule, duplicate, login...
    expression: str | None
    diagnostics: str

    def as_fhir(self) -> dict[str, Any]:
        issue: dict[str, Any] = {"severity": "error", "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


@dataclass(frozen=True)
class Refusal:
    """A request carepath will not take: the HTTP status and why."""

    status: int  # 400 not a (valid) ServiceRequest; 422 against carepath's rules; 401, 409, 413, 415
    issues: tuple[Issue, ...]

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(*self.issues)


@dataclass(frozen=True)
class Referral:
    """A request carepath takes: the event, and what makes a resend the same request."""

    event: ReferralSubmitted

    @property
    def fingerprint(self) -> str:
        """The referral as decided on, without the time it was sent: the same request sent again
        has the same one, another patient or urgency under the same identifier has another."""
        return self.event.model_dump_json(exclude={"submitted_at"})


def operation_outcome(*issues: Issue) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [issue.as_fhir() for issue in issues]}


def refused(status: int, code: str, expression: str | None, diagnostics: str) -> Refusal:
    return Refusal(status, (Issue(code, expression, diagnostics),))


def read_referral(body: bytes, caller: Caller, now: datetime) -> Referral | Refusal:
    """The referral a ServiceRequest makes, or why it makes none."""
    try:
        resource = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return refused(400, "structure", None, "The body is not JSON.")
    if not isinstance(resource, dict) or resource.get("resourceType") != "ServiceRequest":
        return refused(400, "invalid", "resourceType", "The body must be a FHIR ServiceRequest (resourceType 'ServiceRequest').")
    request = _validated(resource)
    if isinstance(request, Refusal):
        return request
    return _read(request, caller, now)


def _validated(resource: dict[str, Any]) -> Any:
    # Imported here, not at the top: the models take a moment to build, and only this needs them.
    from fhir.resources.R4B.servicerequest import ServiceRequest

    try:
        return ServiceRequest.model_validate(resource)
    except ValidationError as error:
        issues = tuple(
            Issue("required" if "missing" in problem["type"] else "structure" if problem["type"] == "extra_forbidden" else "value",
                  _expression(problem["loc"]), _diagnostics(problem))
            for problem in error.errors()[:20]
        )
        return Refusal(400, issues)
    except Exception:  # noqa: BLE001 - fhir.resources raises KeyError, TypeError... on some malformed input
        return refused(400, "structure", "ServiceRequest", "The resource is not a valid FHIR R4 ServiceRequest.")


def _expression(loc: tuple[Any, ...]) -> str:
    path = "ServiceRequest"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _diagnostics(problem: Any) -> str:
    """The validator's words, unless they quote what was sent (which may be the patient's)."""
    given = problem.get("input")
    message = str(problem.get("msg", ""))
    if isinstance(given, (str, int, float)) and str(given) and str(given) in message:
        return "The value is not valid here."
    return message[:300] or "The value is not valid here."


def _read(request: Any, caller: Caller, now: datetime) -> Referral | Refusal:
    issues: list[Issue] = []

    def problem(status: int, code: str, expression: str, diagnostics: str) -> None:
        issues.append(Issue(code, expression, diagnostics))
        statuses.append(status)

    statuses: list[int] = []
    if request.status != "active":
        problem(422, "value", "ServiceRequest.status", "Only an active ServiceRequest is a referral: status must be 'active'.")
    if request.intent not in INTENTS:
        problem(422, "value", "ServiceRequest.intent", "A referral's intent must be 'order' or 'original-order'.")
    referral_id = _referral_id(request, problem)
    patient, at = _patient(request, problem)
    hc, name, born = _patient_details(patient, at, problem) if patient is not None else (None, None, None)
    urgency = None
    if request.priority is None:
        problem(422, "required", "ServiceRequest.priority",
                "Say how urgent the referral is: priority stat, asap, urgent or routine (it is not assumed routine).")
    elif request.priority not in PRIORITY_URGENCY:
        problem(422, "value", "ServiceRequest.priority", "priority must be one of stat, asap, urgent, routine.")
    else:
        urgency = PRIORITY_URGENCY[request.priority]
    source = _source(request, caller, problem)
    trust = _trust(request, caller, problem)
    arrived = _ed_arrival(request, problem)
    if source is ReferralSource.EMERGENCY_DEPARTMENT and not any(e.url == ED_ARRIVAL_EXTENSION for e in request.extension or []):
        problem(422, "required", f"ServiceRequest.extension('{ED_ARRIVAL_EXTENSION}')",
                "An emergency department referral needs the time the person arrived in the ED, as this extension.")
    submitted = request.authoredOn if isinstance(request.authoredOn, datetime) else None
    if request.authoredOn is not None and (submitted is None or submitted.tzinfo is None):
        problem(422, "value", "ServiceRequest.authoredOn", "authoredOn must be a date and time with a time zone.")
    if issues:
        return Refusal(max(statuses), tuple(issues))
    fields = {
        "referral_id": referral_id, "trust": trust, "source": source, "urgency": urgency, "hc_number": hc,
        "patient_name": name, "date_of_birth": born, "submitted_at": submitted or now, "ed_arrived_at": arrived,
    }
    try:
        return Referral(ReferralSubmitted(**fields))
    except ValidationError as error:
        return Refusal(422, tuple(_event_issue(found, at) for found in error.errors()))


def _event_issue(problem: Any, patient_at: str) -> Issue:
    field = str(problem["loc"][0]) if problem["loc"] else ""
    if field in EVENT_ELEMENTS:
        expression = EVENT_ELEMENTS[field].replace("Patient.", f"{patient_at}.")
        return Issue("value", expression, f"Not a valid {field.replace('_', ' ')} for carepath.")
    # A rule across fields (an ED referral without its arrival time).
    message = str(problem.get("msg", "")).removeprefix("Value error, ")
    return Issue("business-rule", f"ServiceRequest.extension('{ED_ARRIVAL_EXTENSION}')"
                 if "ed_arrived_at" in message else "ServiceRequest", message[:300])


def _referral_id(request: Any, problem: Any) -> str | None:
    identifiers = request.identifier or []
    placers = [i for i, identifier in enumerate(identifiers) if _is_placer(identifier)]
    if not identifiers:
        problem(422, "required", "ServiceRequest.identifier", "The referral needs an identifier: the referring system's own id for it.")
        return None
    if len(placers) > 1 or (not placers and len(identifiers) > 1):
        problem(422, "value", "ServiceRequest.identifier",
                "Several identifiers: mark the referring system's own id with type PLAC (placer identifier).")
        return None
    index = placers[0] if placers else 0
    value = identifiers[index].value
    if not value:
        problem(422, "required", f"ServiceRequest.identifier[{index}].value", "The identifier has no value.")
    return value


def _is_placer(identifier: Any) -> bool:
    codings = (identifier.type.coding or []) if identifier.type is not None else []
    return any((coding.system, coding.code) == PLACER for coding in codings)


def _patient(request: Any, problem: Any) -> tuple[Any, str]:
    """The contained Patient the subject refers to, and its path, for the issues about it."""
    reference = request.subject.reference if request.subject is not None else None
    if not reference:
        problem(422, "required", "ServiceRequest.subject",
                "subject must refer to the patient, as a contained Patient ('#id') with the H&C number.")
        return None, "Patient"
    for index, resource in enumerate(request.contained or []):
        if reference.startswith("#") and getattr(resource, "id", None) == reference[1:] and resource.get_resource_type() == "Patient":
            return resource, f"ServiceRequest.contained[{index}]"
    problem(422, "value", "ServiceRequest.subject.reference",
            "subject must refer to a contained Patient ('#id'): carepath keeps no patient registry to look one up in.")
    return None, "Patient"


def _patient_details(patient: Any, at: str, problem: Any) -> tuple[str | None, str | None, date | None]:
    numbers = [identifier.value for identifier in patient.identifier or [] if identifier.system == HC_NUMBER_SYSTEM]
    hc = None
    if not numbers or not numbers[0]:
        problem(422, "required", f"{at}.identifier",
                f"The patient needs their Health and Care number as an identifier with system {HC_NUMBER_SYSTEM}.")
    elif not hc_number.is_valid(numbers[0]):
        problem(422, "value", f"{at}.identifier",
                "The Health and Care number is not valid: it must be 10 digits with a correct check digit.")
    else:
        digits = hc_number.normalise(numbers[0])
        hc = f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    name = _name(patient.name or [])
    if name is None:
        problem(422, "required", f"{at}.name", "The patient's name is needed (text, or given and family names).")
    born = patient.birthDate
    if born is not None and not isinstance(born, date):
        problem(422, "value", f"{at}.birthDate", "birthDate must be a full date (year, month and day).")
        born = None
    return hc, name, born


def _name(names: list[Any]) -> str | None:
    official = sorted(names, key=lambda name: name.use != "official")
    for name in official:
        text = (name.text or " ".join([*(name.given or []), name.family or ""])).strip()
        if text:
            return " ".join(text.split())
    return None


def _source(request: Any, caller: Caller, problem: Any) -> ReferralSource | None:
    codes = [coding.code for category in request.category or [] for coding in category.coding or [] if coding.system == SOURCE_SYSTEM]
    requester = _requester_type(request)
    if codes:
        try:
            source = ReferralSource(codes[0])
        except ValueError:
            problem(422, "value", "ServiceRequest.category",
                    f"Not a referral route carepath knows: use one of {', '.join(route.value for route in ReferralSource)}.")
            return None
    else:
        source = REQUESTER_SOURCE.get(requester or "", caller.routes[0])
    if source not in caller.routes:
        problem(422, "business-rule", "ServiceRequest.category",
                f"This system may refer only as {', '.join(route.value for route in caller.routes)}.")
        return None
    return source


def _requester_type(request: Any) -> str | None:
    requester = request.requester
    if requester is None:
        return None
    if requester.type:
        return requester.type
    reference = requester.reference or ""
    if reference.startswith("#"):
        return next((resource.get_resource_type() for resource in request.contained or []
                     if getattr(resource, "id", None) == reference[1:]), None)
    return reference.split("/")[-2] if "/" in reference else None


def _trust(request: Any, caller: Caller, problem: Any) -> Trust | None:
    named = [performer.identifier.value for performer in request.performer or []
             if performer.identifier is not None and performer.identifier.system == TRUST_SYSTEM]
    if not named:
        return caller.trust
    try:
        return Trust(named[0])
    except ValueError:
        problem(422, "value", "ServiceRequest.performer",
                f"Not an HSC Trust: use one of {', '.join(trust.value for trust in Trust)}.")
        return None


def _ed_arrival(request: Any, problem: Any) -> datetime | None:
    expression = f"ServiceRequest.extension('{ED_ARRIVAL_EXTENSION}')"
    values = [extension for extension in request.extension or [] if extension.url == ED_ARRIVAL_EXTENSION]
    if not values:
        return None
    arrived = values[0].valueDateTime
    if not isinstance(arrived, datetime) or arrived.tzinfo is None:
        problem(422, "value", expression, "The ED arrival time must be a valueDateTime with a time and a time zone.")
        return None
    return arrived


def accepted_task(event_id: str, referral: Referral, caller: Caller, now: datetime) -> dict[str, Any]:
    """What the caller gets back: a FHIR Task for carepath's work on its referral, under carepath's
    id. It carries no patient data: it is kept, to answer a resend with."""
    return {
        "resourceType": "Task",
        "id": event_id,
        "identifier": [{"system": TASK_SYSTEM, "value": event_id}],
        "basedOn": [{"type": "ServiceRequest", "identifier": {"value": referral.event.referral_id}}],
        "status": "requested",
        "businessStatus": {"text": "received"},
        "intent": "order",
        "authoredOn": now.isoformat(),
        "requester": {"display": caller.name},
        "owner": {"identifier": {"system": TRUST_SYSTEM, "value": referral.event.trust.value}},
    }
