"""Writes a JSON Schema for every event and for the envelope into contracts/schemas/.

`python -m contracts.generate` writes them; `--check` exits 1 when a committed schema is
out of date (the test suite runs the same comparison).
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from contracts.envelope import Envelope
from contracts.registry import EVENT_TYPES

SCHEMAS = Path(__file__).parent / "schemas"


class ContractSchema(GenerateJsonSchema):
    """Pydantic's schema, plus what a Trust integrator needs said out loud: a model that
    ignores fields it does not know (every event: readers are tolerant) allows them."""

    def model_schema(self, schema: core_schema.ModelSchema) -> dict[str, Any]:
        json_schema = super().model_schema(schema)
        if schema["cls"].model_config.get("extra", "ignore") == "ignore":
            json_schema["additionalProperties"] = True
        return json_schema


def example(cls: type[BaseModel]) -> dict[str, Any]:
    """A whole event (or envelope) made of the first example of each of its fields."""
    return {name: info.examples[0] for name, info in cls.model_fields.items() if info.examples}


def schema_of(cls: type[BaseModel]) -> dict[str, Any]:
    schema = cls.model_json_schema(schema_generator=ContractSchema)
    schema["examples"] = [example(cls)]
    return schema


def expected_schemas() -> dict[str, str]:
    """File name -> JSON text, for every event type and the envelope."""
    documents = {"envelope.json": _document(schema_of(Envelope), "carepath envelope")}
    for cloudevents_type, cls in EVENT_TYPES.items():
        schema = schema_of(cls)
        schema["x-cloudevents-type"] = cloudevents_type
        schema["x-topic"] = cls.topic.name
        documents[f"{cloudevents_type}.json"] = _document(schema, cloudevents_type)
    return documents


def _document(schema: dict, title: str) -> str:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": title, **schema}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def stale_schemas(directory: Path = SCHEMAS) -> list[str]:
    """Names of schema files that are missing, different, or no longer generated."""
    expected = expected_schemas()
    present = {path.name for path in directory.glob("*.json")}
    stale = [
        name
        for name, text in expected.items()
        if not (directory / name).exists() or (directory / name).read_text() != text
    ]
    return sorted(stale + sorted(present - expected.keys()))


def write_schemas(directory: Path = SCHEMAS) -> None:
    directory.mkdir(exist_ok=True)
    expected = expected_schemas()
    for path in directory.glob("*.json"):
        if path.name not in expected:
            path.unlink()
    for name, text in expected.items():
        (directory / name).write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if committed schemas are out of date")
    if parser.parse_args().check:
        stale = stale_schemas()
        if stale:
            print("out of date (run `make schemas`):", *stale, sep="\n  ")
            sys.exit(1)
        return
    write_schemas()
    print(f"wrote {len(expected_schemas())} schemas to {SCHEMAS}")


if __name__ == "__main__":
    main()
