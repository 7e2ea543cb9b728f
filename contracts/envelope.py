"""The envelope every carepath message carries: CloudEvents 1.0 attributes, in binary mode.

On Kafka the attributes travel as `ce_`-prefixed headers and the event itself is the JSON
value, so any CloudEvents tool can read a carepath topic. `correlationid` ties together every
event of one journey; `causationid` is the id of the event that caused this one.

`traceparent` is CloudEvents' distributed-tracing extension: the W3C Trace Context of the span
that sent the event, so one referral is one trace across every service. A value not in the W3C
form is ignored (the receiver starts a new trace), never refused: W3C Trace Context asks that of
a receiver, and a sender's tracing fault is no reason to lose a referral. carepath does not carry
`tracestate`: a tracing vendor's free text has no place on carepath's topics, where it could hold
anything at all.
"""

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.base import Timestamp, Uuid


# Version 00 of W3C Trace Context: version, trace id, parent (span) id, flags, in lower-case hex.
# An all-zero trace or parent id is invalid too; so is any other version (carepath reads only 00
# and starts a new trace on anything else, which the specification allows).
TRACEPARENT = r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
_TRACEPARENT = re.compile(TRACEPARENT)
_ZERO_TRACE, _ZERO_PARENT = "0" * 32, "0" * 16
TRACEPARENT_MAX_LENGTH = 512  # room for later versions' fields; the bound every envelope string has


def valid_traceparent(value: object) -> bool:
    """Whether a value is a W3C traceparent carepath will continue (version 00, ids not all zero)."""
    if not isinstance(value, str) or _TRACEPARENT.fullmatch(value) is None:
        return False
    _, trace_id, parent_id, _ = value.split("-")
    return trace_id != _ZERO_TRACE and parent_id != _ZERO_PARENT


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: Uuid = Field(description="Unique id of this event (a Uuid).", examples=["1b4e28ba-2fa1-11d2-883f-0016d3cca427"])
    source: str = Field(
        pattern=r"^/[A-Za-z0-9/._-]{1,120}$",
        max_length=121,
        description="Who produced the event, as a URI reference.",
        examples=["/carepath/referral", "/trust/belfast/gp-system"],
    )
    type: str = Field(max_length=128, description="The event type and version.", examples=["carepath.referral.accepted.v1"])
    specversion: Literal["1.0"] = Field(default="1.0", description="CloudEvents version.", examples=["1.0"])
    time: Timestamp = Field(description="When the event happened.", examples=["2026-11-26T09:30:00+00:00"])
    subject: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$",
        max_length=64,
        description="The pseudonymous patient id (or, for an inbound referral, the referral id).",
        examples=["5b0e8a52-6f4c-4c4e-9a53-0e6f2a1d7c11"],
    )
    datacontenttype: Literal["application/json"] = Field(
        default="application/json", description="Media type of the value.", examples=["application/json"]
    )
    correlationid: Uuid = Field(
        description="Shared by every event of one journey.", examples=["9c3b0f0e-8d6a-4e4b-9f1a-3a2b1c0d9e8f"]
    )
    causationid: Uuid | None = Field(
        default=None,
        description="Id of the event that caused this one; absent for an event from outside carepath.",
        examples=["1b4e28ba-2fa1-11d2-883f-0016d3cca427"],
    )
    # Any text up to the bound is accepted, so the schema states no pattern: a malformed
    # traceparent is no error in the event, only a trace that cannot be continued (W3C Trace
    # Context). Longer is refused as any over-long attribute is.
    traceparent: str | None = Field(
        default=None,
        max_length=TRACEPARENT_MAX_LENGTH,
        description="W3C Trace Context of the span that sent the event (CloudEvents distributed-tracing extension): "
        "version 00, `00-<trace id: 32 lower-case hex>-<parent id: 16 lower-case hex>-<flags: 2 hex>`, ids not all zero. "
        "Any other value is ignored, never refused: the event starts a new trace.",
        examples=["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
    )

    @field_validator("traceparent", mode="before")
    @classmethod
    def _ignore_malformed_traceparent(cls, value: Any) -> Any:
        """W3C Trace Context: a receiver ignores a malformed traceparent and starts a new trace."""
        malformed = isinstance(value, str) and len(value) <= TRACEPARENT_MAX_LENGTH and not valid_traceparent(value)
        return None if malformed else value
