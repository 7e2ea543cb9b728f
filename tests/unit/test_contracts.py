"""The contracts are documentation for Trust integrators: they must be complete and current."""

from collections.abc import Iterator

import pytest

import contracts
from contracts import EVENT_TYPES, TOPICS, Envelope, Event
from contracts.generate import SCHEMAS, stale_schemas
from contracts.topics import REFERRAL_EVENTS


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


# Found by walking the classes themselves, not by asking the registry.
EVENT_CLASSES = sorted({cls for cls in _subclasses(Event) if hasattr(cls, "type_name")}, key=lambda cls: cls.cloudevents_type())


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.cloudevents_type())
def test_every_event_class_is_registered_on_a_topic_with_a_schema_and_importable_from_contracts(cls: type[Event]) -> None:
    """An event defined anywhere in contracts/ is known at run time, carried by a topic, published
    as a JSON Schema (whose examples `test_contract_strictness` validates) and exported."""
    assert EVENT_TYPES.get(cls.cloudevents_type()) is cls, f"{cls.__name__} is not in the registry"
    assert cls.topic in TOPICS
    assert (SCHEMAS / f"{cls.cloudevents_type()}.json").is_file(), "run `make schemas`"
    assert getattr(contracts, cls.__name__, None) is cls, f"{cls.__name__} is not exported from contracts"


def test_an_event_without_a_topic_is_refused_when_defined() -> None:
    with pytest.raises(TypeError, match="has no topic"):

        class Untopical(Event):  # noqa: F841 - defining it is the test
            type_name = "test.untopical"


def test_two_events_of_one_cloudevents_type_are_refused_when_defined() -> None:
    with pytest.raises(TypeError, match="are both carepath.referral.accepted.v1"):

        class Impostor(Event):  # noqa: F841 - defining it is the test
            type_name = "referral.accepted"
            topic = REFERRAL_EVENTS


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
