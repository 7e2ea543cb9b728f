"""The gateway's HTTP face: FHIR R4 over HTTPS for Trust systems that will not write Kafka.

`POST /fhir/ServiceRequest` reads the referral (services/gateway/domain.py), queues
`referral.submitted` in the gateway's outbox with the calling system as its source, and only
then answers 201 with a Task under carepath's id. A resend, under the same identifier or the same
`Idempotency-Key`, gets the answer first given and queues nothing. Every call needs the calling
system's bearer token (services/gateway/callers.py) and is logged, without patient data.
"""

import json
import re
import time
from dataclasses import dataclass
from typing import Protocol
from uuid import uuid4

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts import Envelope, Event
from services.gateway.callers import Callers
from services.gateway.domain import Issue, Refusal, accepted_task, operation_outcome, read_referral, refused
from services.gateway.store import Answer, fingerprint
from shared.runtime.clock import Clock

log = structlog.get_logger()

FHIR_JSON = "application/fhir+json"
MAX_BODY_BYTES = 256 * 1024
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")


class Desk(Protocol):
    """Where an accepted request is kept with its event, in one transaction."""

    async def accept(self, caller: str, keys: list[str], answer: Answer, event: Event, envelope: Envelope) -> Answer:
        """Keeps the answer under every key and queues the event; if a key is taken, keeps and
        queues nothing and returns the answer kept under it."""
        ...


@dataclass(frozen=True)
class GatewaySettings:
    max_body_bytes: int = MAX_BODY_BYTES


def create_app(callers: Callers, desk: Desk, clock: Clock, settings: GatewaySettings = GatewaySettings()) -> Starlette:
    """The gateway's web application. Nothing connects here: the desk is already wired."""
    endpoints = _Endpoints(callers, desk, clock, settings)
    routes = [
        Route("/healthz", endpoints.healthz, methods=["GET"]),
        Route("/fhir/ServiceRequest", endpoints.create_service_request, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_problem})
    return Logged(app)


class _Endpoints:
    def __init__(self, callers: Callers, desk: Desk, clock: Clock, settings: GatewaySettings) -> None:
        self.callers, self.desk, self.clock, self.settings = callers, desk, clock, settings

    async def healthz(self, request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")

    async def create_service_request(self, request: Request) -> Response:
        caller = self.callers.authenticate(request.headers.get("authorization"))
        if caller is None:
            return _outcome(refused(401, "login", None, "A valid bearer token for the calling system is needed."),
                            {"www-authenticate": 'Bearer realm="carepath"'})
        request.scope["carepath.caller"] = caller.name
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in (FHIR_JSON, "application/json"):
            return _outcome(refused(415, "not-supported", None, f"Send the resource as {FHIR_JSON}."))
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.settings.max_body_bytes:
            return _outcome(refused(413, "too-long", None, f"A ServiceRequest may be at most {self.settings.max_body_bytes} bytes."))
        key = request.headers.get("idempotency-key")
        if key is not None and not IDEMPOTENCY_KEY.match(key):
            return _outcome(refused(400, "value", None, "Idempotency-Key must be 1 to 128 printable ASCII characters, no spaces."))
        body = await request.body()
        if len(body) > self.settings.max_body_bytes:
            return _outcome(refused(413, "too-long", None, f"A ServiceRequest may be at most {self.settings.max_body_bytes} bytes."))
        now = self.clock.now()
        referral = read_referral(body, caller, now)
        if isinstance(referral, Refusal):
            request.scope["carepath.issues"] = [f"{issue.code}@{issue.expression}" for issue in referral.issues]
            return _outcome(referral)
        event = referral.event
        envelope = Envelope(id=uuid4(), source=caller.source, type=event.cloudevents_type(), time=now, subject=event.key,
                            correlationid=uuid4(), traceparent=_traceparent(request))
        event_id = str(envelope.id)
        answer = Answer(fingerprint(referral.fingerprint), envelope.id, 201, f"Task/{event_id}",
                        json.dumps(accepted_task(event_id, referral, caller, now)))
        keys = [f"identifier:{event.referral_id}"] + ([f"idempotency-key:{key}"] if key is not None else [])
        kept = await self.desk.accept(caller.name, keys, answer, event, envelope)
        request.scope["carepath.event_id"] = str(kept.event_id)
        if kept.fingerprint != answer.fingerprint:
            return _outcome(refused(409, "duplicate", "ServiceRequest.identifier",
                                    "This system already sent a different referral under this identifier or Idempotency-Key."))
        request.scope["carepath.resent"] = kept.event_id != envelope.id
        return Response(kept.response, status_code=kept.status, media_type=FHIR_JSON,
                        headers={"location": str(request.base_url).rstrip("/") + "/fhir/" + kept.location})


def _traceparent(request: Request) -> str | None:
    value = request.headers.get("traceparent")
    return value if value is not None and len(value) <= 512 else None


def _outcome(refusal: Refusal, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(refusal.outcome()), status_code=refusal.status, media_type=FHIR_JSON, headers=headers)


async def _http_problem(request: Request, error: Exception) -> Response:
    status = getattr(error, "status_code", 500)
    code = {404: "not-found", 405: "not-supported"}.get(status, "exception")
    return Response(json.dumps(operation_outcome(Issue(code, None, f"{request.method} {request.url.path} is not offered here."))),
                    status_code=status, media_type=FHIR_JSON)


class Logged:
    """Logs every call once it is answered: who called, what, the status and how long it took;
    the issues found by their element paths. Never the body, a header's value or a patient datum."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            log.info("gateway.request", method=scope["method"], path=scope["path"], status=status,
                     caller=scope.get("carepath.caller"), event_id=scope.get("carepath.event_id"),
                     resent=scope.get("carepath.resent"), issues=scope.get("carepath.issues"),
                     ms=round((time.perf_counter() - started) * 1000, 1))

