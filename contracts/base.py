"""The base of every carepath event, and the vocabulary shared by several of them."""

import re
from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from contracts.topics import Topic

# Marks a field that identifies a person or carries clinical text. Such fields never appear
# in keys, headers or logs, and `carepath tail` masks them.
SENSITIVE: dict[str, Any] = {"x-sensitive": True}

# Services decode with `model_validate_json(..., strict=True)`, and the published JSON Schema
# must accept exactly what that accepts. Pydantic reads more spellings of ids, times and days
# than JSON Schema's formats allow (a UUID without hyphens, a time without seconds, a string of
# digits as epoch seconds), so each is pinned to one spelling that the model checks and the
# schema publishes as a pattern, for validators that do not check formats. Years are 1900-2099:
# nothing carepath records happened, or will happen, outside them.
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_DATE = r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_HOURS_MINUTES = r"([01][0-9]|2[0-3]):[0-5][0-9]"
_DATETIME = rf"{_DATE}T{_HOURS_MINUTES}:[0-5][0-9](\.[0-9]{{1,9}})?(Z|[+-]{_HOURS_MINUTES})"

# A string that is not blank: one character Python's str.strip() would keep. The whitespace is
# listed, not written `\s`, because `\s` means different sets in Python, Rust (pydantic) and
# ECMA 262 (JSON Schema); listed, all three agree with each other and with `.strip()`.
NOT_BLANK = r"[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"

# The largest integer carepath stores (a PostgreSQL `integer`); no count or version comes near it.
MAX_INTEGER = 2_147_483_647


def _spelled(body: str, read: Callable[[str], Any], what: str) -> BeforeValidator:
    spelling = re.compile(body)

    def check(text: Any) -> Any:
        if not isinstance(text, str):
            return text  # a datetime, date or UUID from Python code; JSON has only text
        if spelling.fullmatch(text):
            # Read here rather than by pydantic: once a validator has seen the value, strict
            # mode refuses text. The pattern leaves only a day the month lacks to refuse.
            try:
                return read(text)
            except ValueError:
                pass
        raise ValueError(f"{what} is not in the published format")  # never echo the value

    return BeforeValidator(check)


def _json_integer(value: Any) -> Any:
    # JSON has one kind of number: JSON Schema counts 4.0 as the integer 4 and true as no number
    # at all, while strict pydantic refuses 4.0 and reads true as 1 for an IntEnum.
    if isinstance(value, bool):
        raise ValueError("a number is required, not true or false")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Uuid = Annotated[
    UUID,
    _spelled(_UUID, UUID, "a UUID"),
    WithJsonSchema({"type": "string", "format": "uuid", "pattern": f"^{_UUID}$", "maxLength": 36}),
]
Timestamp = Annotated[
    AwareDatetime,
    _spelled(_DATETIME, datetime.fromisoformat, "a date and time"),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": f"^{_DATETIME}$", "maxLength": 35}),
]
Day = Annotated[
    date,
    _spelled(_DATE, date.fromisoformat, "a date"),
    WithJsonSchema({"type": "string", "format": "date", "pattern": f"^{_DATE}$", "maxLength": 10}),
]
Integer = Annotated[int, BeforeValidator(_json_integer)]


def optional_integer(ge: int, le: int = MAX_INTEGER) -> Any:
    """An Integer that may be null. Its bounds go inside the type: given on the Field, pydantic
    publishes them as `ge`/`le`, words JSON Schema does not know, instead of minimum/maximum."""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_json_integer)] | None


def bounded_str(max_length: int) -> Any:
    """A string of at most `max_length` characters, for the items of a list."""
    return Annotated[str, Field(max_length=max_length)]


def whole_numbers(enum: type) -> Any:
    """An IntEnum read the way JSON Schema reads its `enum` of integers."""
    return Annotated[enum, BeforeValidator(_json_integer)]


def rules(*conditions: dict[str, Any]) -> dict[str, Any]:
    """A model's cross-field rules, for `json_schema_extra`: each one is also a `model_validator`
    on the model, so the published schema and the service refuse the same events."""
    return {"allOf": list(conditions)}


def when(**values: Any) -> dict[str, Any]:
    """The `if` of a conditional rule: every named field is present with this value."""
    return {"properties": {name: {"const": value} for name, value in values.items()}, "required": list(values)}


def present(name: str, not_blank: bool = False) -> dict[str, Any]:
    """The `then` of a rule that requires a field: given, not null (and, for text, not blank)."""
    # The field's own schema already says it is text, and how long; this says only "given".
    value: dict[str, Any] = {"not": {"type": "null"}}
    if not_blank:
        value["pattern"] = NOT_BLANK
    return {"required": [name], "properties": {name: value}}


def is_blank(text: str | None) -> bool:
    return not (text or "").strip()


class Trust(StrEnum):
    """The five Health and Social Care Trusts of Northern Ireland."""

    BELFAST = "belfast"
    NORTHERN = "northern"
    SOUTH_EASTERN = "south-eastern"
    SOUTHERN = "southern"
    WESTERN = "western"


_DEFINED: dict[str, type["Event"]] = {}  # every event class by CloudEvents type, as it is defined


class Event(BaseModel):
    """A fact that happened, in the past tense. Frozen; readers ignore fields they do not know.

    Subclasses set `type_name`, `version` and `topic`. The CloudEvents type of an event is
    `carepath.<type_name>.v<version>`; a breaking change is a new version plus an upcaster.
    Defining an event registers it (`defined_events`): there is no list to keep by hand.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", use_enum_values=False)

    type_name: ClassVar[str]
    version: ClassVar[int] = 1
    topic: ClassVar[Topic]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not hasattr(cls, "type_name"):
            return  # a shared base (`AddressedCopy`), not an event of its own
        if not isinstance(getattr(cls, "topic", None), Topic):
            raise TypeError(f"{cls.__name__} has no topic: every event says which topic carries it")
        earlier = _DEFINED.setdefault(cls.cloudevents_type(), cls)
        if earlier is not cls:
            raise TypeError(f"{cls.__name__} and {earlier.__name__} are both {cls.cloudevents_type()}")

    @classmethod
    def cloudevents_type(cls) -> str:
        return f"carepath.{cls.type_name}.v{cls.version}"

    @property
    def key(self) -> str:
        """The Kafka key and CloudEvents subject: the pseudonymous patient id."""
        return str(getattr(self, "patient_id"))


def defined_event(cloudevents_type: str) -> type[Event] | None:
    """The event class of this CloudEvents type, if one is defined."""
    return _DEFINED.get(cloudevents_type)


def defined_events() -> dict[str, type[Event]]:
    """Every event class defined so far, by CloudEvents type (`contracts.registry` defines them all)."""
    return dict(_DEFINED)


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
    return Field(description=f"When {what} (RFC 3339, with an offset).", examples=["2026-11-26T09:30:00+00:00"])


__all__ = [
    "MAX_INTEGER",
    "NOT_BLANK",
    "SENSITIVE",
    "BaseModel",
    "ConfigDict",
    "AwareDatetime",
    "Day",
    "Event",
    "Field",
    "Integer",
    "Timestamp",
    "Trust",
    "UUID",
    "Uuid",
    "at_field",
    "bounded_str",
    "datetime",
    "defined_events",
    "episode_id_field",
    "is_blank",
    "optional_integer",
    "patient_id_field",
    "present",
    "rules",
    "when",
    "whole_numbers",
]
