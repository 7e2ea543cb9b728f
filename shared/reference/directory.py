"""Loads and validates the service directory, and picks signposts from it.

A directory with an error is refused as a whole at load, with a message naming the entry and
the field, so a typo can never turn into a person being signposted nowhere.
"""

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from contracts import DirectoryEntry, ServiceKind, Signpost, Trust

DIRECTORY_FILE = Path(__file__).parent / "data" / "directory.toml"
# Every Trust must offer at least these, so every decline can name two real alternatives.
REQUIRED_KINDS = (ServiceKind.HTCR, ServiceKind.CMHT, ServiceKind.CRISIS_LINE, ServiceKind.GP, ServiceKind.EMERGENCY_DEPARTMENT)


class DirectoryError(ValueError):
    """The directory file is wrong; the message says where."""


@dataclass(frozen=True)
class Directory:
    entries: tuple[DirectoryEntry, ...]

    def for_trust(self, trust: Trust) -> tuple[DirectoryEntry, ...]:
        return tuple(entry for entry in self.entries if trust in entry.trusts)

    def signposts(self, trust: Trust, kinds: Iterable[ServiceKind]) -> tuple[Signpost, ...]:
        """The Trust's entries of each kind, in the order the kinds are asked for."""
        entries = self.for_trust(trust)
        return tuple(Signpost.of(entry) for kind in kinds for entry in entries if entry.kind is kind)


def load_directory(path: Path = DIRECTORY_FILE) -> Directory:
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise DirectoryError(f"{path.name}: not valid TOML: {error}") from None
    items = raw.get("entry")
    if not isinstance(items, list) or not items:
        raise DirectoryError(f"{path.name}: no [[entry]] tables")
    problems, entries = [], []
    for number, item in enumerate(items, start=1):
        label = f"entry {item.get('id')!r} (#{number})" if isinstance(item.get("id"), str) else f"entry #{number}"
        try:
            entries.append(DirectoryEntry.model_validate(item))
        except ValidationError as error:
            problems += [f"{label}: field {_field(e['loc'])!r}: {_message(e)}" for e in _first_cause(error.errors())]
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            problems.append(f"entry {entry.id!r}: field 'id': used by more than one entry")
        seen.add(entry.id)
    directory = Directory(tuple(entries))
    if not problems:
        for trust in Trust:
            kinds = {entry.kind for entry in directory.for_trust(trust)}
            problems += [f"Trust {trust.value!r} has no {kind.value!r} entry" for kind in REQUIRED_KINDS if kind not in kinds]
    if problems:
        raise DirectoryError(f"{path.name} rejected:\n  " + "\n  ".join(problems))
    return directory


def _first_cause(errors: list) -> list:
    """Drops a list's 'too short' when one of its items was the problem (a bad Trust name)."""
    item_fields = {e["loc"][0] for e in errors if len(e["loc"]) > 1}
    return [e for e in errors if not (e["type"] == "too_short" and e["loc"][0] in item_fields)]


def _field(loc: tuple) -> str:
    return ".".join(str(part) for part in loc)


def _message(error: dict) -> str:
    if error["type"] == "enum" and error["loc"][0] == "trusts":
        return f"unknown Trust {error['input']!r} (one of: {', '.join(t.value for t in Trust)})"
    if error["type"] == "missing":
        return "missing"
    return error["msg"]
