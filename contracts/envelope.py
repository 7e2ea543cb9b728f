"""The envelope every carepath message carries: CloudEvents 1.0 attributes, in binary mode.

On Kafka the attributes travel as `ce_`-prefixed headers and the event itself is the JSON
value, so any CloudEvents tool can read a carepath topic. `correlationid` ties together every
event of one journey; `causationid` is the id of the event that caused this one.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.base import Timestamp, Uuid


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
