"""The AsyncAPI document is current, says what the contracts say, and is valid to a real AsyncAPI parser."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from contracts import EVENT_TYPES, TOPICS
from contracts.access import writers
from contracts.asyncapi import ASYNCAPI, DEAD_LETTER_HEADERS, DEAD_LETTER_MESSAGE, document, render, stale
from contracts.generate import SCHEMAS

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "tools" / "asyncapi"


@pytest.fixture(scope="module")
def asyncapi() -> dict:
    return document()


def validate(path: Path) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    assert node, "the AsyncAPI check needs Node.js (18 or later)"
    assert (VALIDATOR / "node_modules" / "@asyncapi" / "parser").is_dir(), "run `make setup` (npm ci in tools/asyncapi)"
    return subprocess.run([node, str(VALIDATOR / "validate.mjs"), str(path)], capture_output=True, text=True, timeout=60)


def test_the_committed_asyncapi_document_is_up_to_date():
    """`make schemas` has been run after the last change to an event, a topic or a principal."""
    assert not stale(), "contracts/asyncapi.yaml is out of date: run `make schemas`"


def test_every_topic_is_a_channel_carrying_exactly_its_event_types(asyncapi):
    channels = asyncapi["channels"]
    assert sorted(channels) == sorted(topic.name for topic in TOPICS)
    for name, cls in EVENT_TYPES.items():
        channel = channels[cls.topic.name]
        assert channel["address"] == f"{{prefix}}.{cls.topic.name}"
        assert channel["messages"][name] == {"$ref": f"#/components/messages/{name}"}
    carried = {name for channel in channels.values() for name in channel["messages"]}
    assert carried == set(EVENT_TYPES) | {DEAD_LETTER_MESSAGE}


def test_every_message_has_its_schema_its_headers_its_key_and_an_example(asyncapi):
    for name in EVENT_TYPES:
        message = asyncapi["components"]["messages"][name]
        assert message["payload"] == {"$ref": f"schemas/{name}.json"} and (SCHEMAS / f"{name}.json").is_file()
        assert message["headers"]["properties"]["ce_type"]["const"] == name
        assert {"ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "ce_correlationid"} <= set(message["headers"]["required"])
        example = message["examples"][0]
        assert example["headers"]["ce_subject"] in message["bindings"]["kafka"]["key"]["examples"]
        assert EVENT_TYPES[name].model_validate(example["payload"]).key == example["headers"]["ce_subject"]


def test_who_sends_on_a_channel_is_exactly_who_may_write_its_topic(asyncapi):
    """The operations are contracts/access.py: a principal sends on a topic only if its ACLs let it write there."""
    for topic in TOPICS:
        senders = sorted(
            name.removeprefix(f"{topic.name}.send.")
            for name, operation in asyncapi["operations"].items()
            if operation["channel"] == {"$ref": f"#/channels/{topic.name}"} and operation["action"] == "send"
        )
        assert senders == sorted(writers(topic)), topic.name


def test_the_dead_letter_headers_are_those_the_consumer_adds():
    written = set(re.findall(r'"(dlq_\w+)":', (ROOT / "shared" / "runtime" / "consumer.py").read_text()))
    assert written == set(DEAD_LETTER_HEADERS)


def test_the_yaml_is_json_strings_in_block_style():
    """Every string is quoted as JSON, so no value reads as a number, a boolean or a date; keys that could, are quoted."""
    text = render({"asyncapi": "3.0.0", "info": {"on": "yes", "when": "2026-11-26", "n": [1, {"a": None, "b": []}], "x-y.z": "\u2028"}})
    assert text == (
        'asyncapi: "3.0.0"\n'
        "info:\n"
        '  "n":\n'
        "    - 1\n"
        "    - a: null\n"
        "      b: []\n"
        '  "on": "yes"\n'
        '  when: "2026-11-26"\n'
        '  x-y.z: "\\u2028"\n'
    )


def test_the_document_is_valid_to_the_asyncapi_parser():
    """@asyncapi/parser reads contracts/asyncapi.yaml and every payload schema it refers to, and finds no error."""
    checked = validate(ASYNCAPI)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"valid AsyncAPI 3.0.0, {len(TOPICS)} channels, {len(EVENT_TYPES) + 1} messages" in checked.stdout


def test_the_parser_refuses_a_document_that_breaks_the_spec(tmp_path):
    """The check can fail: an operation with a 2.x action is refused, naming the operation."""
    broken = document()
    broken["operations"]["referral.inbound.send.gp-system"]["action"] = "publish"
    shutil.copytree(SCHEMAS, tmp_path / "schemas")
    (tmp_path / "asyncapi.yaml").write_text(render(broken))
    checked = validate(tmp_path / "asyncapi.yaml")
    assert checked.returncode == 1
    assert "error: operations.referral.inbound.send.gp-system.action" in checked.stdout


def test_the_parser_refuses_a_payload_schema_that_is_not_json_schema(tmp_path):
    """The payload schemas are checked too, through their references."""
    shutil.copytree(SCHEMAS, tmp_path / "schemas")
    schema = tmp_path / "schemas" / "carepath.referral.submitted.v1.json"
    schema.write_text(schema.read_text().replace('"type": "string"', '"type": "text"', 1))
    (tmp_path / "asyncapi.yaml").write_text(ASYNCAPI.read_text())
    checked = validate(tmp_path / "asyncapi.yaml")
    assert checked.returncode == 1
    assert '"type" property must be equal to one of the allowed values' in checked.stdout
