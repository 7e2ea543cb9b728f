"""The compatibility gate: within one event version a release may widen the contract, never narrow it."""

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.compatibility import RELEASED, breaking_changes, current_set, narrowed, read_set

ROOT = Path(__file__).resolve().parents[2]
NAME = "carepath.test.happened.v1"


def event(**changes) -> dict:
    """A small released event as pydantic publishes one: an enum in $defs, an optional field, a rule."""
    schema = {
        "$defs": {"Trust": {"enum": ["belfast", "western"], "type": "string"}},
        "additionalProperties": True,
        "allOf": [{"if": {"properties": {"urgency": {"const": 1}}, "required": ["urgency"]},
                   "then": {"required": ["reason"], "properties": {"reason": {"not": {"type": "null"}}}}}],
        "properties": {
            "patient_id": {"type": "string", "format": "uuid", "maxLength": 36},
            "trust": {"$ref": "#/$defs/Trust"},
            "urgency": {"type": "integer", "minimum": 1, "maximum": 4},
            "reason": {"anyOf": [{"type": "string", "maxLength": 200}, {"type": "null"}], "default": None},
            "shifts": {"type": "array", "maxItems": 10, "items": {"type": "object", "properties": {"starts_at": {"type": "string"}},
                                                                   "required": ["starts_at"]}},
        },
        "required": ["patient_id", "trust", "urgency", "shifts"],
        "type": "object",
        "x-topic": "test.events",
    }
    for change in changes.values():
        change(schema)
    return schema


def problems(new: dict) -> list[str]:
    return breaking_changes({NAME: event()}, {NAME: new})


def test_the_current_contracts_are_compatible_with_the_released_set():
    """The gate in `make test`: nothing released has been broken (make a new version instead)."""
    assert breaking_changes(read_set(RELEASED), current_set()) == []


def test_an_unchanged_event_passes():
    assert problems(event()) == []


@pytest.mark.parametrize("change, named", [
    (lambda s: s["properties"].pop("urgency"), "field `urgency` was removed"),
    (lambda s: s["properties"]["shifts"]["items"]["properties"].pop("starts_at"), "field `shifts[].starts_at` was removed"),
    (lambda s: (s["properties"].update(ward={"type": "string"}), s["required"].append("ward")), "field `ward` is new and required"),
    (lambda s: s["required"].append("reason"), "field `reason` is now required"),
    (lambda s: s["properties"]["patient_id"].update(type="integer"), "field `patient_id`: type narrowed: string no longer accepted (now integer)"),
    (lambda s: s["properties"]["urgency"].update(type="string"), "field `urgency`: type narrowed: integer no longer accepted (now string)"),
    (lambda s: s["properties"].update(reason={"type": "string", "maxLength": 200}), "field `reason`: type narrowed: null no longer accepted (now string)"),
    (lambda s: s["$defs"]["Trust"]["enum"].remove("western"), 'field `trust`: value "western" no longer accepted'),
    (lambda s: s["properties"]["patient_id"].update(enum=["x"]), "field `patient_id`: now limited to \"x\""),
    (lambda s: s["properties"]["patient_id"].update(maxLength=32), "field `patient_id`: maxLength lowered from 36 to 32"),
    (lambda s: s["properties"]["patient_id"].update(minLength=36), "field `patient_id`: minLength 36 added"),
    (lambda s: s["properties"]["reason"]["anyOf"][0].update(maxLength=100), "field `reason`: maxLength lowered from 200 to 100"),
    (lambda s: s["properties"]["urgency"].update(minimum=2), "field `urgency`: minimum raised from 1 to 2"),
    (lambda s: s["properties"]["urgency"].update(maximum=3), "field `urgency`: maximum lowered from 4 to 3"),
    (lambda s: s["properties"]["shifts"].update(maxItems=5), "field `shifts`: maxItems lowered from 10 to 5"),
    (lambda s: s["properties"]["patient_id"].update(pattern="^[0-9a-f-]+$"), "field `patient_id`: pattern added"),
    (lambda s: s["properties"]["patient_id"].update(format="uri"), "field `patient_id`: format changed"),
    (lambda s: s.update(additionalProperties=False), "fields it does not know are no longer accepted"),
    (lambda s: s["allOf"].append({"if": {"properties": {"trust": {"const": "western"}}, "required": ["trust"]},
                                  "then": {"required": ["reason"]}}), 'a new rule: when trust="western", reason required'),
    (lambda s: s.update({"x-topic": "other.events"}), "topic changed from test.events to other.events"),
])
def test_each_breaking_change_is_named(change, named):
    """A change that would refuse what the released version accepted fails the gate, naming the event and field."""
    assert f"{NAME}: {named}" in problems(event(change=change))


@pytest.mark.parametrize("change", [
    lambda s: s["properties"].update(ward={"type": "string", "maxLength": 40}),
    lambda s: s["$defs"]["Trust"]["enum"].append("northern"),
    lambda s: s["properties"]["patient_id"].update(maxLength=64),
    lambda s: s["properties"]["patient_id"].pop("format"),
    lambda s: s["properties"]["urgency"].update(type="number"),
    lambda s: s["properties"]["urgency"].update(maximum=5),
    lambda s: s["required"].remove("urgency"),
    lambda s: s["allOf"].clear(),
    lambda s: s["properties"].update(patient_id={"anyOf": [{"type": "string", "maxLength": 36}, {"type": "null"}]}),
], ids=["optional field added", "enum value added", "maxLength raised", "format dropped", "integer to number",
        "maximum raised", "required field made optional", "rule dropped", "null accepted too"])
def test_widening_passes(change):
    assert problems(event(change=change)) == []


def test_a_new_event_type_or_version_beside_the_old_one_passes():
    assert breaking_changes({NAME: event()}, {NAME: event(), "carepath.test.happened.v2": {}}) == []


def test_a_released_version_must_still_decode():
    """A v1 replaced by a v2 must stay registered: the codec reads only registered types."""
    found = breaking_changes({NAME: event()}, {"carepath.test.happened.v2": event()})
    assert found == [f"{NAME}: released, and no longer registered: an old version must stay readable "
                     "(keep its class beside its successor)"]


def test_a_recursive_schema_is_compared_without_looping():
    tree = {"$defs": {"Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                                                                "label": {"type": "string"}}}},
            "$ref": "#/$defs/Node"}
    pruned = copy.deepcopy(tree)
    pruned["$defs"]["Node"]["properties"].pop("label")
    assert narrowed(tree, tree) == []
    assert narrowed(tree, pruned) == ["field `label` was removed"]


def test_the_gate_over_a_scratch_copy_names_the_removed_required_field(tmp_path):
    """The released set, copied, with a required field taken out of one event: the gate names that field."""
    current = tmp_path / "current"
    shutil.copytree(RELEASED, current)
    path = current / "carepath.referral.accepted.v1.json"
    schema = json.loads(path.read_text())
    assert "episode_id" in schema["required"]
    schema["required"].remove("episode_id")
    del schema["properties"]["episode_id"]
    path.write_text(json.dumps(schema))
    assert breaking_changes(read_set(RELEASED), read_set(current)) == [
        "carepath.referral.accepted.v1: field `episode_id` was removed"
    ]


def test_the_gate_command_fails_when_the_released_set_lacked_a_now_required_field(tmp_path):
    """`python -m contracts.compatibility --released DIR` exits 1 and names the event and field."""
    released = tmp_path / "released"
    shutil.copytree(RELEASED, released)
    path = released / "carepath.referral.accepted.v1.json"
    schema = json.loads(path.read_text())
    schema["required"].remove("episode_id")
    del schema["properties"]["episode_id"]
    path.write_text(json.dumps(schema))
    run = subprocess.run([sys.executable, "-m", "contracts.compatibility", "--released", str(released)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "carepath.referral.accepted.v1: field `episode_id` is new and required" in run.stdout
