"""The compatibility gate: the contracts as they are now, against the last released set kept in
contracts/released/, so that no release breaks an integrator within an event version.

Within one version (one CloudEvents type, and the envelope) a release may widen, never narrow:
- a field may not be removed (at any depth), and no field may become required;
- a type may not narrow: a JSON type no longer accepted (string -> integer, null refused), an
  enum value removed, a const or enum put on a value that had none, a tighter bound (minimum,
  maximum, exclusive ones, minLength, maxLength, minItems, maxItems), uniqueItems, or a
  pattern, format, multipleOf or `not` added or changed (whether one pattern accepts everything
  another does is not decided: any change counts);
- no new cross-field rule (an `if`/`then` in `allOf`), and unknown fields stay allowed;
- the event keeps its topic.
Adding an optional field, an enum value, or loosening a bound or a rule is allowed. A breaking
change is a new version (`vN+1`) beside the old one: a released type must still decode, so it
stays registered, and it needs an upcaster to the next (`contracts.upcasting`), by which the
codec reads it as the newest version for handlers written for that alone.

`python -m contracts.compatibility` runs the gate (the test suite does too); `--release` records
the current schemas as the released set, after the gate passes.
"""

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from contracts.base import defined_events
from contracts.generate import expected_schemas
from contracts.upcasting import unread_versions

RELEASED = Path(__file__).parent / "released"

Schema = dict[str, Any]

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_EXACT = ("pattern", "format", "multipleOf", "not")


def read_set(directory: Path = RELEASED) -> dict[str, Schema]:
    """A set of schemas by name (CloudEvents type, or `envelope`), from `<name>.json` files."""
    return {path.name.removesuffix(".json"): json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))}


def current_set() -> dict[str, Schema]:
    """The schemas of every registered event type and the envelope, as the code defines them now."""
    return {name.removesuffix(".json"): json.loads(text) for name, text in expected_schemas().items()}


def breaking_changes(released: Mapping[str, Schema], current: Mapping[str, Schema]) -> list[str]:
    """Every way `current` breaks a reader or writer of `released`, each naming the event and field."""
    problems = []
    for name, old in sorted(released.items()):
        new = current.get(name)
        if new is None:
            problems.append(f"{name}: released, and no longer registered: an old version must stay readable "
                            "(keep its class beside its successor)")
            continue
        if old.get("x-topic") != new.get("x-topic"):
            problems.append(f"{name}: topic changed from {old.get('x-topic')} to {new.get('x-topic')}")
        problems.extend(f"{name}: {problem}" for problem in narrowed(old, new))
    return problems


def narrowed(old: Schema, new: Schema) -> list[str]:
    """What `new` refuses that `old` accepted, for two whole schemas (their `$defs` resolved)."""
    return _compare(old, new, "", (old, new), set())


def _compare(old: Schema, new: Schema, where: str, roots: tuple[Schema, Schema], seen: set) -> list[str]:
    refs = (old.get("$ref"), new.get("$ref"))
    if refs != (None, None):
        if refs in seen:
            return []  # a recursive model: this pair is being compared further up
        seen = seen | {refs}
    old, new = _resolved(old, roots[0]), _resolved(new, roots[1])
    old_choices, new_choices = _alternatives(old), _alternatives(new)
    if len(old_choices) > 1 or len(new_choices) > 1:
        problems = []
        for choice in old_choices:
            # Each alternative the old schema accepted must still be accepted by one of the new ones.
            found = [_compare(choice, candidate, where, roots, seen) for candidate in new_choices]
            if all(found):
                problems.extend(min(found, key=len))
        return problems
    return _compare_one(old, new, where, roots, seen)


def _compare_one(old: Schema, new: Schema, where: str, roots: tuple[Schema, Schema], seen: set) -> list[str]:
    field = f"field `{where}`: " if where else ""
    old_types, new_types = _types(old), _types(new)
    if new_types is not None:
        if old_types is None:
            return [f"{field}now only {_listed(new_types)}, where any type was accepted"]
        lost = {kind for kind in old_types if not (kind in new_types or kind == "integer" and "number" in new_types)}
        if lost:
            return [f"{field}type narrowed: {_listed(lost)} no longer accepted (now {_listed(new_types)})"]
    problems = _values(old, new, field) + _bounds(old, new, field)
    problems.extend(_object(old, new, where, roots, seen))
    if "items" in old or "items" in new:
        problems.extend(_compare(_schema(old.get("items")), _schema(new.get("items")), f"{where}[]", roots, seen))
    for index, (was, now) in enumerate(zip(old.get("prefixItems", ()), new.get("prefixItems", ()))):
        problems.extend(_compare(was, now, f"{where}[{index}]", roots, seen))
    return problems


def _values(old: Schema, new: Schema, field: str) -> list[str]:
    old_values, new_values = _allowed(old), _allowed(new)
    if new_values is None:
        return []
    if old_values is None:
        return [f"{field}now limited to {_listed(new_values)}"]
    return [f"{field}value {value} no longer accepted" for value in old_values if value not in new_values]


def _bounds(old: Schema, new: Schema, field: str) -> list[str]:
    problems = []
    for word in _LOWER_BOUNDS + _UPPER_BOUNDS:
        if word not in new:
            continue
        if word not in old:
            problems.append(f"{field}{word} {new[word]} added")
        elif new[word] > old[word] if word in _LOWER_BOUNDS else new[word] < old[word]:
            problems.append(f"{field}{word} {'raised' if word in _LOWER_BOUNDS else 'lowered'} from {old[word]} to {new[word]}")
    for word in _EXACT:
        if word in new and _text(new[word]) != _text(old.get(word)):
            problems.append(f"{field}{word} {'changed' if word in old else 'added'}")
    if new.get("uniqueItems") and not old.get("uniqueItems"):
        problems.append(f"{field}uniqueItems added")
    if any(word in new and _text(new.get(word)) != _text(old.get(word)) for word in ("if", "then", "else")):
        problems.append(f"{field}a new or changed rule (if/then/else)")
    return problems


def _object(old: Schema, new: Schema, where: str, roots: tuple[Schema, Schema], seen: set) -> list[str]:
    problems = []
    old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
    inside = f"{where}." if where else ""
    for name in old_fields:
        if name not in new_fields:
            problems.append(f"field `{inside}{name}` was removed")
        else:
            problems.extend(_compare(old_fields[name], new_fields[name], f"{inside}{name}", roots, seen))
    for name in sorted(set(new.get("required", ())) - set(old.get("required", ()))):
        said = "is now required" if name in old_fields else "is new and required"
        problems.append(f"field `{inside}{name}` {said}")
    old_others, new_others = old.get("additionalProperties", True), new.get("additionalProperties", True)
    field = f"field `{where}`: " if where else ""
    if new_others is False and old_others is not False:
        problems.append(f"{field}fields it does not know are no longer accepted")
    elif isinstance(new_others, dict):
        if old_others is True:
            problems.append(f"{field}fields it does not know are now constrained")
        elif isinstance(old_others, dict):
            problems.extend(_compare(old_others, new_others, f"{inside}*", roots, seen))
    known = {_text(rule) for rule in old.get("allOf", ())}
    problems.extend(f"{field}a new rule: {_rule(rule)}" for rule in new.get("allOf", ()) if _text(rule) not in known)
    return problems


def _resolved(schema: Schema, root: Schema) -> Schema:
    """A schema with its local `$ref` (`#/$defs/...`) followed; words beside the `$ref` are kept."""
    while "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = {**target, **{word: value for word, value in schema.items() if word != "$ref"}}
    return schema


def _alternatives(schema: Schema) -> list[Schema]:
    choices = schema.get("anyOf") or schema.get("oneOf")
    if not choices:
        return [schema]
    rest = {word: value for word, value in schema.items() if word not in ("anyOf", "oneOf")}
    return [{**rest, **choice} for choice in choices]


def _types(schema: Schema) -> set[str] | None:
    if "type" in schema:
        kinds = schema["type"]
        return set(kinds) if isinstance(kinds, list) else {kinds}
    values = _allowed(schema)
    return {_json_type(json.loads(value)) for value in values} if values is not None else None


def _allowed(schema: Schema) -> list[str] | None:
    """The values allowed, as JSON text (so 1 and true stay apart), when the schema lists them."""
    if "const" in schema:
        return [_text(schema["const"])]
    if "enum" in schema:
        return [_text(value) for value in schema["enum"]]
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def _schema(value: Any) -> Schema:
    return value if isinstance(value, dict) else {} if value in (None, True) else {"not": {}}


def _rule(rule: Schema) -> str:
    then = rule.get("then", {})
    if "if" in rule and then.get("required"):
        given = ", ".join(f"{name}={_text(value.get('const'))}" for name, value in rule["if"].get("properties", {}).items())
        return f"when {given or 'a condition holds'}, {', '.join(then['required'])} required"
    return _text(rule)


def _listed(values: set[str] | list[str]) -> str:
    return " or ".join(sorted(values))


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def release(directory: Path = RELEASED) -> None:
    """Records the current schemas as the released set (a release; never with breaking changes)."""
    directory.mkdir(exist_ok=True)
    for name, text in expected_schemas().items():
        (directory / name).write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--release", action="store_true", help="record the current schemas as the released set")
    parser.add_argument("--released", type=Path, default=RELEASED, help="the released set to compare with")
    arguments = parser.parse_args()
    released = read_set(arguments.released)
    problems = breaking_changes(released, current_set()) + unread_versions(defined_events().values())
    if problems:
        print(f"breaking changes against {arguments.released} (make a new version instead):", *problems, sep="\n  ")
        sys.exit(1)
    if arguments.release:
        release(arguments.released)
        print(f"recorded {len(current_set())} schemas in {arguments.released}")
    else:
        print(f"compatible with the {len(released)} released schemas in {arguments.released}")


if __name__ == "__main__":
    main()
