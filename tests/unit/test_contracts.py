"""The contracts are documentation for Trust integrators: they must be complete and current."""

import pytest

from contracts import EVENT_TYPES, TOPICS, Envelope
from contracts.generate import stale_schemas


@pytest.mark.parametrize("cloudevents_type", sorted(EVENT_TYPES))
def test_every_event_field_has_a_description_and_an_example(cloudevents_type: str) -> None:
    """An integrator who never reads Python can still understand every field."""
    cls = EVENT_TYPES[cloudevents_type]
    assert cls.__doc__ and cls.version >= 1
    for name, info in cls.model_fields.items():
        assert info.description, f"{cls.__name__}.{name} has no description"
        assert info.examples, f"{cls.__name__}.{name} has no example"


def test_every_envelope_attribute_has_a_description_and_an_example() -> None:
    for name, info in Envelope.model_fields.items():
        assert info.description and info.examples, name


@pytest.mark.parametrize("cloudevents_type", sorted(EVENT_TYPES))
def test_events_are_frozen(cloudevents_type: str) -> None:
    assert EVENT_TYPES[cloudevents_type].model_config.get("frozen") is True


def test_the_committed_json_schemas_are_up_to_date() -> None:
    """`make schemas` has been run after the last change to an event model."""
    assert stale_schemas() == []


def test_every_topic_has_at_least_six_partitions() -> None:
    assert all(topic.partitions >= 6 for topic in TOPICS)


def test_sensitive_fields_are_marked_in_the_schemas() -> None:
    """Identifying and clinical fields are flagged so tools can mask them."""
    schema = EVENT_TYPES["carepath.referral.submitted.v1"].model_json_schema()
    assert schema["properties"]["hc_number"].get("x-sensitive") is True
    assert schema["properties"]["patient_name"].get("x-sensitive") is True
    assert "x-sensitive" not in schema["properties"]["urgency"]
