"""The published schemas and strict decoding agree, and every event has a size it cannot exceed.

Services decode every inbound event with `cls.model_validate_json(value, strict=True)`; a Trust
integrator checks its events against `contracts/schemas/`. For each event type, hundreds of
mutations of a whole example (every field dropped, given the wrong type, spelt another way,
pushed past its bounds; every conditional rule on and off) must get the same verdict from both.
"""

import json
import math
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from functools import cache
from itertools import combinations
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin
from uuid import UUID

import pytest
from annotated_types import Le, MaxLen
from jsonschema import Draft202012Validator, ValidationError, validators
from pydantic import AwareDatetime, BaseModel
from pydantic import ValidationError as ModelRefused

from contracts import EVENT_TYPES, AddressedCopy, AssessmentShared, Envelope
from contracts.base import NOT_BLANK
from contracts.copies import CIPHERTEXT_MAX_LENGTH
from contracts.generate import SCHEMAS, example

LARGEST_EVENT_BYTES = 900_000  # under Kafka's 1 MiB message, with room for headers and batch framing
NONCE_AND_TAG = 12 + 16

DOCUMENTS: dict[str, type[BaseModel]] = {**EVENT_TYPES, "envelope": Envelope}


def published(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.json").read_text())


# --- the schema's verdict, as any JSON Schema validator would give it -----------------------


@cache
def _ecma_262(pattern: str) -> re.Pattern[str]:
    """JSON Schema patterns are ECMA 262, where `$` matches only at the very end; Python's `re`
    (and so the jsonschema library) also lets it match before a final newline."""
    translated, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        translated.append(char)
    return re.compile("".join(translated))


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _ecma_262(pattern).search(instance):
        yield ValidationError(f"does not match {pattern!r}")


SchemaValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})
FORMATS = Draft202012Validator.FORMAT_CHECKER


def test_the_format_checker_checks_the_formats_the_models_check() -> None:
    """Without rfc3339-validator installed, jsonschema silently stops checking date-time."""
    assert {"date-time", "date", "uuid"} <= set(FORMATS.checkers)
    assert not FORMATS.conforms("2026-02-30T09:30:00Z", "date-time")


def schema_verdict(validator: Any, document: Any) -> bool:
    return validator.is_valid(document)


def model_verdict(cls: type[BaseModel], document: Any) -> bool:
    try:
        cls.model_validate_json(json.dumps(document), strict=True)
    except ModelRefused:
        return False
    return True


# --- reading the schema -------------------------------------------------------------------------


def deref(node: dict, root: dict) -> dict:
    while "$ref" in node:
        target = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
    return node


def value_schema(node: dict, root: dict) -> dict:
    """The schema of a field's value other than null."""
    node = deref(node, root)
    if "anyOf" in node:
        [value] = [deref(option, root) for option in node["anyOf"] if option.get("type") != "null"]
        return {**value, **{key: given for key, given in node.items() if key != "anyOf"}}
    return node


def is_type(schema: dict, kind: str) -> bool:
    return schema.get("type") == kind


def scalar(schema: dict) -> Any:
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    return {
        "date-time": "2026-11-26T09:30:00+00:00",
        "date": "2026-11-26",
        "uuid": "0b6f8d3e-2a1c-4e5f-9a8b-7c6d5e4f3a2b",
    }.get(schema.get("format"), {"string": "text", "integer": max(1, schema.get("minimum", 1)), "boolean": False}[schema["type"]])


def first_example(node: dict, schema: dict) -> Any:
    return next((e for e in node.get("examples", []) + schema.get("examples", []) if e is not None), None)


def whole(node: dict, root: dict) -> Any:
    """A valid value with every nested object filled in, so nested fields get mutated too."""
    schema = value_schema(node, root)
    if is_type(schema, "object") and "properties" in schema:
        return {name: whole(field, root) for name, field in schema["properties"].items()}
    if is_type(schema, "array"):
        count = max(1, schema.get("minItems", 0))
        items = value_schema(schema["items"], root)
        if is_type(items, "object"):
            return [whole(schema["items"], root)] * count
        given = first_example(node, schema)
        return given if given and len(given) >= count else [whole(schema["items"], root)] * count
    given = first_example(node, schema)
    return given if given is not None else scalar(schema)


# --- mutations ----------------------------------------------------------------------------------

DROP = object()
JsonPath = tuple[str | int, ...]


def replaced(document: Any, path: JsonPath, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(document, dict):
        copy = dict(document)
        new = replaced(copy[head], rest, value) if rest else value
        if new is DROP:
            del copy[head]
        else:
            copy[head] = new
        return copy
    copy = list(document)
    copy[head] = replaced(copy[head], rest, value)
    return copy


def get(document: Any, path: JsonPath) -> Any:
    for step in path:
        document = document[step]
    return document


ANY_FIELD = [None, "4", 4, 4.0, 4.5, -1, True, False, "no", "yes", "true", "", [], {}, 1_700_000_000, "1700000000"]
BLANKS = [" ", "   \t\n", "\u00a0", "\x1c\x1d", "\u3000", "\ufeff", "\x00"]


def datetime_spellings(value: str) -> list[Any]:
    """The same instant written every way a sender might, right and wrong."""
    moment = datetime.fromisoformat(value)
    utc = moment.astimezone(timezone.utc)
    day, clock = utc.strftime("%Y-%m-%d"), utc.strftime("%H:%M:%S")
    later = moment.astimezone(timezone(timedelta(hours=1))).strftime("%Y-%m-%dT%H:%M:%S")
    return [
        f"{day}T{clock}Z",
        f"{day}T{clock}+00:00",
        f"{day}T{clock}-00:00",
        f"{later}+01:00",
        f"{day}T{clock}.5Z",
        f"{day}T{clock}.123456789Z",
        f"{day}T{clock}.1234567890Z",
        f"{day}T{clock}.Z",
        f"{day}t{clock}z",
        f"{day} {clock}Z",
        f"{day}T{clock[:5]}Z",
        f"{day}T{clock}",
        f"{day}T{clock}+0000",
        f"{day}T{clock}+00",
        f"{day}T{clock}+00:60",
        f"{day}T{clock}+24:00",
        f"{day}T{clock},5Z",
        f"{day}T{clock}Z\n",
        f" {day}T{clock}Z",
        f"{day}",
        f"{day}T24:00:00Z",
        f"{day}T23:59:60Z",
        f"{day.replace('-', '')}T{clock.replace(':', '')}Z",
        f"2026-02-29T{clock}Z",
        f"2026-13-01T{clock}Z",
        f"+{day}T{clock}Z",
        f"1899-12-31T{clock}Z",
        f"2100-01-01T{clock}Z",
        f"{day}T{clock}\u0660Z",
        int(utc.timestamp()),
        str(int(utc.timestamp())),
        float(utc.timestamp()),
    ]


def uuid_spellings(value: str) -> list[Any]:
    hex_digits = value.replace("-", "")
    return [
        value.upper(),
        hex_digits,
        "{" + value + "}",
        "urn:uuid:" + value,
        value[:-1],
        value + "0",
        value + "\n",
        "00000000-0000-0000-0000-000000000000",
        value[:8] + value[9:13] + "-" + value[13:],
        int(hex_digits, 16),
    ]


DATE_SPELLINGS = [
    "2026-11-27",
    "2028-02-29",
    "2026-02-29",
    "2026-11-27T00:00:00",
    "2026-11-27T00:00:00Z",
    "20261127",
    "2026-1-27",
    "2026-W48-5",
    "2026-331",
    "+2026-11-27",
    "0000-01-01",
    "1899-12-31",
    "1900-01-01",
    "2099-12-31",
    "2100-01-01",
    "2026-11-27\n",
    "27/11/2026",
    1_700_000_000,
]


def mutations(
    value: Any, node: dict, root: dict, in_object: bool, spaced: Callable[[int], list] | None
) -> Iterator[Any]:
    """Values to put where `value` is: every wrong type, every other spelling, every bound."""
    schema = value_schema(node, root)
    if in_object:
        yield DROP
    yield from ANY_FIELD
    if is_type(schema, "string"):
        yield from (blank * max(1, schema.get("minLength", 1)) for blank in BLANKS)
        yield from schema.get("enum", [])
        if isinstance(value, str):
            yield from [value + "\n", "\n" + value, value + " ", value.upper(), value + "x", value + "\u0660"]
        if "maxLength" in schema:
            yield from ["a" * schema["maxLength"], "a" * (schema["maxLength"] + 1)]
            if isinstance(value, str) and value:
                yield (value * schema["maxLength"])[: schema["maxLength"]]
                yield (value * schema["maxLength"])[: schema["maxLength"] + 1]
        if schema.get("minLength", 0) > 1:
            yield "a" * (schema["minLength"] - 1)
        if schema.get("format") == "date-time":
            yield from datetime_spellings(value if isinstance(value, str) else scalar(schema))
        if schema.get("format") == "uuid":
            yield from uuid_spellings(value if isinstance(value, str) else scalar(schema))
        if schema.get("format") == "date":
            yield from DATE_SPELLINGS
    if is_type(schema, "integer"):
        yield from schema.get("enum", [])
        for bound in (schema.get("minimum"), schema.get("maximum")):
            if bound is not None:
                yield from [bound - 1, bound, bound + 1, float(bound), float(bound + 1), str(bound)]
        yield from [0, 1, 5, 2**31, 2**70, 1e20, -0.0]
    if is_type(schema, "boolean"):
        yield from [0, 1, "false", "True", "n"]
    if is_type(schema, "array") and isinstance(value, list):
        item = value[0] if value else whole(schema["items"], root)
        counts = {0, 1, 2, schema.get("minItems", 0) - 1, schema.get("minItems", 0), schema.get("maxItems", 3)}
        counts |= {schema.get("maxItems", 3) + 1}
        for count in sorted(c for c in counts if c >= 0):
            yield spaced(count) if spaced else [item] * count
        yield [item, None]
        yield [item, "x"]
        yield [item, {}]
        yield [[item]]
    if is_type(schema, "object") and isinstance(value, dict):
        yield {**value, "an_unknown_field": 1}
        yield {name: None for name in schema.get("properties", {})}
        yield [value]
        yield json.dumps(value)


def combined_documents(document: dict, root: dict) -> Iterator[dict]:
    """Rules tying fields together, found without reading the schema's own rules: every value of
    one or two of the event's enum and yes/no fields, each with every optional field in turn
    left out, null or blank. A rule the model has and the schema lacks, or the other way round,
    shows up as a disagreement."""
    choices: dict[str, list] = {}
    for name, node in root["properties"].items():
        schema = value_schema(node, root)
        if is_type(schema, "boolean"):
            choices[name] = [True, False]
        elif "enum" in schema:
            choices[name] = list(schema["enum"])
    optional = [name for name in root["properties"] if name not in root.get("required", [])]
    settings = [{}, *({name: value} for name in choices for value in choices[name])]
    for first, second in combinations(choices, 2):
        settings += [{first: a, second: b} for a in choices[first] for b in choices[second]]
    for setting in settings:
        switched = {**document, **setting}
        yield switched
        for name in optional:
            if name not in setting:
                yield {key: value for key, value in switched.items() if key != name}
                yield {**switched, name: None}
                yield {**switched, name: " " * 10}


def shifts_a_day_apart(count: int) -> list[dict]:
    start = datetime(2026, 11, 27, 8, tzinfo=timezone.utc)
    return [
        {"starts_at": (start + timedelta(days=i)).isoformat(), "ends_at": (start + timedelta(days=i, hours=12)).isoformat()}
        for i in range(count)
    ]


# Lists whose items copied n times would break a rule JSON Schema cannot state (see
# MODEL_ONLY_RULES): filled with distinct items instead.
SPACED: dict[tuple[str, JsonPath], Callable[[int], list]] = {
    ("carepath.rota.shifts-rostered.v1", ("shifts",)): shifts_a_day_apart,
}


def focused(value: Any, path: JsonPath, node: dict, root: dict, top: bool = True) -> Any:
    """The document with, below the event's own fields, only the nested objects and lists on
    `path` kept where the others are optional: a mutation deep in one assessment section need
    not validate all thirteen again (it keeps this test fast)."""
    if not path:
        return value
    schema = value_schema(node, root)
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        required = set(schema.get("required", []))
        kept = {
            key: item
            for key, item in value.items()
            if top or key in required or not isinstance(item, dict | list)
        }
        kept[head] = focused(value[head], rest, schema["properties"][head], root, top=False)
        return kept
    copy = list(value)
    copy[head] = focused(value[head], rest, schema["items"], root, top=False)
    return copy


def documents(name: str, root: dict) -> Iterator[tuple[JsonPath, Any]]:
    base = whole(root, root)
    yield (), base
    yield (), {**base, "a_field_from_a_newer_version": {"any": ["thing"]}}

    def walk(path: JsonPath, node: dict, in_object: bool) -> Iterator[tuple[JsonPath, Any]]:
        value = get(base, path)
        around = focused(base, path, root, root)
        for mutated in mutations(value, node, root, in_object, SPACED.get((name, path))):
            yield path, replaced(around, path, mutated)
        schema = value_schema(node, root)
        if isinstance(value, dict):
            for field, field_node in schema.get("properties", {}).items():
                if field in value:
                    yield from walk((*path, field), field_node, True)
        if isinstance(value, list) and value and "items" in schema:
            yield from walk((*path, 0), schema["items"], False)

    for field, node in root["properties"].items():
        yield from walk((field,), node, True)
    for document in combined_documents(base, root):
        yield ("(rule)",), document


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_strict_decoding_accepts_exactly_what_the_published_schema_accepts(name: str) -> None:
    """A mutated event is refused by the service if and only if the published schema refuses it."""
    cls, root = DOCUMENTS[name], published(name)
    validator = SchemaValidator(root, format_checker=FORMATS)
    base = whole(root, root)
    assert schema_verdict(validator, base) and model_verdict(cls, base), "the whole example is valid"
    disagreements, checked = [], 0
    for path, document in documents(name, root):
        checked += 1
        by_schema, by_model = schema_verdict(validator, document), model_verdict(cls, document)
        if by_schema != by_model:
            shown = json.dumps(get(document, path) if path and path[0] != "(rule)" and _has(document, path) else document)
            disagreements.append(f"{'.'.join(map(str, path))} = {shown[:120]}: schema {by_schema}, model {by_model}")
    assert checked > 100
    assert not disagreements, f"{len(disagreements)} of {checked} disagree:\n" + "\n".join(disagreements[:40])


def _has(document: Any, path: JsonPath) -> bool:
    try:
        get(document, path)
    except (KeyError, IndexError, TypeError):
        return False
    return True


# Cross-field rules JSON Schema cannot state (it cannot compare two values): the model alone
# refuses these, and the schema's descriptions say so in words.
MODEL_ONLY_RULES = [
    ("carepath.consent.recorded.v1", {"valid_from": "2027-06-01T00:00:00+00:00"}, "valid_until must be after valid_from"),
    (
        "carepath.rota.shifts-rostered.v1",
        {"shifts": [*shifts_a_day_apart(1), {"starts_at": "2026-11-27T19:00:00+00:00", "ends_at": "2026-11-28T01:00:00+00:00"}]},
        "shifts overlap",
    ),
    (
        "carepath.rota.shifts-rostered.v1",
        {"shifts": [{"starts_at": "2026-11-27T20:00:00+00:00", "ends_at": "2026-11-27T08:00:00+00:00"}]},
        "a shift must end after it starts, within 24 hours",
    ),
    (
        "carepath.rota.shifts-rostered.v1",
        {"shifts": [{"starts_at": "2026-11-27T08:00:00+00:00", "ends_at": "2026-11-28T08:00:01+00:00"}]},
        "a shift must end after it starts, within 24 hours",
    ),
]


@pytest.mark.parametrize(("name", "change", "reason"), MODEL_ONLY_RULES)
def test_the_only_rules_the_schema_cannot_state(name: str, change: dict, reason: str) -> None:
    """Comparing two fields is beyond JSON Schema: these few rules are the model's alone."""
    root = published(name)
    document = {**whole(root, root), **change}
    assert schema_verdict(SchemaValidator(root, format_checker=FORMATS), document)
    with pytest.raises(ModelRefused, match=reason):
        DOCUMENTS[name].model_validate_json(json.dumps(document), strict=True)


def test_not_blank_means_what_str_strip_means() -> None:
    """The pattern the schemas use for "not blank" keeps exactly what `.strip()` keeps."""
    not_blank = re.compile(NOT_BLANK)
    assert [chr(c) for c in range(0x10000) if bool(not_blank.search(chr(c))) == chr(c).isspace()] == []


# --- examples -----------------------------------------------------------------------------------


def examples_in(node: Any, root: dict, where: str = "") -> Iterator[tuple[str, dict, Any]]:
    if isinstance(node, dict):
        for given in node.get("examples", []):
            schema = {key: value for key, value in node.items() if key != "examples"}
            yield where or "(event)", {**schema, "$defs": root.get("$defs", {})}, given
        for key, value in node.items():
            if key != "examples":
                yield from examples_in(value, root, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from examples_in(value, root, f"{where}/{index}")


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_example_in_a_schema_is_valid_under_that_schema(name: str) -> None:
    """Examples a Trust integrator copies from the schema pass the schema, and the service."""
    root = published(name)
    failing = [
        f"{where}: {given!r}"[:200]
        for where, schema, given in examples_in(root, root)
        if not SchemaValidator(schema, format_checker=FORMATS).is_valid(given)
    ]
    assert failing == []
    assert root["examples"] == [example(DOCUMENTS[name])]
    assert model_verdict(DOCUMENTS[name], root["examples"][0])


# --- bounds -------------------------------------------------------------------------------------


def nodes(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from nodes(value)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_string_list_and_number_has_an_upper_bound(name: str) -> None:
    """No Trust system can send a 50 MB string, a million-item list or a thousand-digit number."""
    unbounded = []
    for node in nodes(published(name)):
        kind = node.get("type")
        if kind == "string" and "maxLength" not in node and "enum" not in node and "const" not in node:
            unbounded.append(node)
        if kind == "array" and "maxItems" not in node:
            unbounded.append(node)
        if kind == "integer" and "maximum" not in node and "enum" not in node:
            unbounded.append(node)
    assert unbounded == []


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_pattern_means_the_same_in_python_rust_and_json_schema(name: str) -> None:
    r"""`\d`, `\w`, `\s` and `\b` take other scripts' characters in Python and Rust, not in ECMA 262."""
    patterns = [node["pattern"] for node in nodes(published(name)) if isinstance(node.get("pattern"), str)]
    assert [p for p in patterns if re.search(r"\\[dDwWsSbB]", p)] == []


def largest(annotation: Any, metadata: list[Any] = ()) -> Any:
    """The largest value of a type: strings and lists at their maximum length, numbers at their
    maximum. Free text is made of a control character, which JSON writes as six bytes
    (`\\u0001`); text bound by a pattern is ASCII letters, digits and punctuation, one byte each."""
    if get_origin(annotation) is Annotated:
        inner, *extra = get_args(annotation)
        more = [item for entry in extra for item in getattr(entry, "metadata", [entry])]
        return largest(inner, [*metadata, *more])
    if get_origin(annotation) in (Union, UnionType):
        [inner] = [arg for arg in get_args(annotation) if arg is not NoneType]
        return largest(inner, metadata)
    max_length = next((m.max_length for m in metadata if isinstance(m, MaxLen)), None)
    if get_origin(annotation) is tuple:
        item, _ = get_args(annotation)
        assert max_length is not None, f"a list of {item} without a maximum length"
        return tuple(largest(item) for _ in range(max_length))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.model_construct(
            **{name: largest(info.annotation, info.metadata) for name, info in annotation.model_fields.items()}
        )
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return max(annotation, key=lambda member: len(str(member.value)))
    if annotation is bool:
        return False
    if annotation is int:
        [maximum] = [m.le for m in metadata if isinstance(m, Le)] or [None]
        assert maximum is not None, "a number without a maximum"
        return maximum
    if annotation is UUID:
        return UUID(int=2**128 - 1)
    if annotation in (datetime, AwareDatetime):
        return datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-11, minutes=-30)))
    if annotation is date:
        return date(2026, 12, 31)
    if annotation is str:
        assert max_length is not None, "a string without a maximum length"
        patterned = any(getattr(m, "pattern", None) for m in metadata)
        return ("A" if patterned else "\x01") * max_length
    raise AssertionError(f"no largest value for {annotation}")


def encoded_size(model: BaseModel) -> int:
    return len(model.model_dump_json().encode())


def sealed_length(content_size: int) -> int:
    return 4 * math.ceil((content_size + NONCE_AND_TAG) / 3)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_the_largest_possible_event_of_every_type_fits_in_a_kafka_message(name: str) -> None:
    """Every string at its longest and every list at its fullest, the event is still under 900 kB."""
    cls = EVENT_TYPES[name]
    biggest = largest(cls)
    assert encoded_size(biggest) < LARGEST_EVENT_BYTES


@pytest.mark.parametrize("cls", sorted({cls for cls in EVENT_TYPES.values() if issubclass(cls, AddressedCopy)}, key=str))
def test_the_largest_possible_content_of_a_copy_fits_in_its_sealed_ciphertext(cls: type[AddressedCopy]) -> None:
    """A whole assessment (or summary, or carer information) at its largest, sealed, fits the bound."""
    content = largest(cls.content_type)
    assert sealed_length(encoded_size(content)) <= CIPHERTEXT_MAX_LENGTH


def test_the_largest_assessment_is_the_content_the_ciphertext_bound_was_chosen_for() -> None:
    """The bound is not slack: a whole assessment at its largest uses most of it."""
    used = sealed_length(encoded_size(largest(AssessmentShared.content_type)))
    assert 0.8 * CIPHERTEXT_MAX_LENGTH < used <= CIPHERTEXT_MAX_LENGTH
