"""The base of every carepath event, and the vocabulary shared by several of them."""

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.topics import Topic

# Marks a field that identifies a person or carries clinical text. Such fields never appear
# in keys, headers or logs, and `carepath tail` masks them.
SENSITIVE: dict[str, Any] = {"x-sensitive": True}


class Trust(StrEnum):
    """The five Health and Social Care Trusts of Northern Ireland."""

    BELFAST = "belfast"
    NORTHERN = "northern"
    SOUTH_EASTERN = "south-eastern"
    SOUTHERN = "southern"
    WESTERN = "western"


class Event(BaseModel):
    """A fact that happened, in the past tense. Frozen; readers ignore fields they do not know.

    Subclasses set `type_name`, `version` and `topic`. The CloudEvents type of an event is
    `carepath.<type_name>.v<version>`; a breaking change is a new version plus an upcaster.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", use_enum_values=False)

    type_name: ClassVar[str]
    version: ClassVar[int] = 1
    topic: ClassVar[Topic]

    @classmethod
    def cloudevents_type(cls) -> str:
        return f"carepath.{cls.type_name}.v{cls.version}"

    @property
    def key(self) -> str:
        """The Kafka key and CloudEvents subject: the pseudonymous patient id."""
        return str(getattr(self, "patient_id"))


def patient_id_field() -> Any:
    return Field(
        description="Pseudonymous patient id assigned by carepath; never the H&C number.",
        examples=["5b0e8a52-6f4c-4c4e-9a53-0e6f2a1d7c11"],
    )


def episode_id_field() -> Any:
    return Field(
        description="The episode of care this belongs to, opened when a referral is accepted.",
        examples=["0c9d7d3e-1f7a-4c55-9a7b-2f1f0b8e4a90"],
    )


def at_field(what: str) -> Any:
    return Field(description=f"When {what} (ISO 8601 with offset).", examples=["2026-11-26T09:30:00+00:00"])


__all__ = [
    "SENSITIVE",
    "BaseModel",
    "ConfigDict",
    "AwareDatetime",
    "Event",
    "Field",
    "Trust",
    "UUID",
    "at_field",
    "datetime",
    "episode_id_field",
    "patient_id_field",
]
