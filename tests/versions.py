"""Two versions of an event that exists only in tests, with the upcaster between them: how the
tests see an old version read as the new without a real event having to break. Defined on entry
to `example_versions()` and forgotten on exit, so no other test (the schemas, the masking
allow-list) ever sees them."""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import Field

from contracts import base, upcasting
from contracts.base import Event
from contracts.topics import VISIT_OUTCOMES


@dataclass(frozen=True)
class Versions:
    v1: type[Event]
    v2: type[Event]
    v3: type[Event]


@contextlib.contextmanager
def example_versions(*, upcast_to_v3: bool = True) -> Iterator[Versions]:
    class ExampleNotedV1(Event):
        """Version 1: the minutes seen, as a number."""

        type_name = "test.example-noted"
        version = 1
        topic = VISIT_OUTCOMES

        patient_id: UUID
        minutes: int = Field(ge=0, le=600)

    class ExampleNotedV2(Event):
        """Version 2, a breaking change: the time seen in seconds, and who saw them (required)."""

        type_name = "test.example-noted"
        version = 2
        topic = VISIT_OUTCOMES

        patient_id: UUID
        seconds: int = Field(ge=0, le=36_000)
        seen_by: str = Field(min_length=1, max_length=32)

    class ExampleNotedV3(Event):
        """Version 3: who saw them as a list."""

        type_name = "test.example-noted"
        version = 3
        topic = VISIT_OUTCOMES

        patient_id: UUID
        seconds: int = Field(ge=0, le=36_000)
        seen_by: tuple[str, ...] = Field(min_length=1)

    @upcasting.upcaster(ExampleNotedV1, ExampleNotedV2)
    def upcast_v1_v2(payload: dict[str, Any]) -> dict[str, Any]:
        seconds = {"seconds": payload["minutes"] * 60, "seen_by": "unknown (v1)"}
        return {name: value for name, value in payload.items() if name != "minutes"} | seconds

    if upcast_to_v3:
        @upcasting.upcaster(ExampleNotedV2, ExampleNotedV3)
        def upcast_v2_v3(payload: dict[str, Any]) -> dict[str, Any]:
            return payload | {"seen_by": [payload["seen_by"]]}

    kinds = (ExampleNotedV1, ExampleNotedV2, ExampleNotedV3)
    try:
        yield Versions(*kinds)
    finally:
        for kind in kinds:
            base._DEFINED.pop(kind.cloudevents_type(), None)
            upcasting._UPCASTERS.pop(kind, None)
