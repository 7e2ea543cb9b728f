"""What an operator's screen shows of an event: only fields known to be safe; every other field is
masked, and a field nobody has classified fails this test before it can print in the clear."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from pydantic import BaseModel

from contracts import AssessmentSections, AssessmentSubmitted, Envelope, NotificationSent, WardDischargeRecorded
from contracts.base import defined_events
from contracts.registry import EVENT_TYPES
from tools.eventlog import LoggedEvent, one_line
from tools.masking import MASK, MASKED, MASKED_MODELS, SHOWN_ANYWHERE, SHOWN_IN, masked, nested, shown

EVENTS = sorted(EVENT_TYPES.values(), key=lambda event: event.cloudevents_type())
assert set(EVENTS) == set(defined_events().values())


def sensitive(model: type[BaseModel], name: str) -> bool:
    extra = model.model_fields[name].json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("x-sensitive"))


def declared_masked(model: type[BaseModel], name: str) -> bool:
    return any(f"{cls.__name__}.{name}" in MASKED for cls in model.__mro__)


def leaves(model: type[BaseModel], seen: set[type] | None = None) -> Iterator[tuple[type[BaseModel], str]]:
    """Every field printed as a value, in this model and the models it holds (a wholly masked
    model, an assessment section, is one value)."""
    seen = set() if seen is None else seen
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        inner = nested(info.annotation)
        if inner is None or inner in MASKED_MODELS:
            yield model, name
        else:
            yield from leaves(inner, seen)


def every_leaf() -> list[tuple[type[BaseModel], str]]:
    seen: set[type] = set()
    return [leaf for event in EVENTS for leaf in leaves(event, seen)]


def test_every_field_of_every_event_is_classified_as_shown_or_masked() -> None:
    """A field added to a contract without a decision in tools/masking.py fails here (it is
    masked meanwhile): shown, listed as masked, or marked x-sensitive by its contract."""
    unclassified = sorted(
        f"{model.__name__}.{name}" for model, name in every_leaf()
        if not (shown(model, name) or declared_masked(model, name) or sensitive(model, name)
                or nested(model.model_fields[name].annotation) in MASKED_MODELS)
    )
    assert unclassified == []


def test_no_field_is_both_shown_and_masked_and_none_marked_sensitive_is_shown() -> None:
    """The two lists never disagree, nor the allow-list with a contract's own x-sensitive mark."""
    both = sorted(f"{m.__name__}.{n}" for m, n in every_leaf() if shown(m, n) and (declared_masked(m, n) or sensitive(m, n)))
    assert both == []


def test_the_lists_name_only_fields_that_exist() -> None:
    """A renamed or removed field does not leave a stale entry behind to match a new one by chance."""
    models = {model.__name__: model for event in EVENTS for model in _models(event)}
    named = [entry.split(".", 1) for entry in SHOWN_IN | MASKED]
    missing = sorted(f"{m}.{n}" for m, n in named if m not in models or n not in models[m].model_fields)
    anywhere = {name for event in EVENTS for model in _models(event) for name in model.model_fields}
    assert missing == [] and sorted(SHOWN_ANYWHERE - anywhere) == []


def _models(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    yield from (cls for cls in model.__mro__ if isinstance(cls, type) and issubclass(cls, BaseModel) and cls is not BaseModel)
    for info in model.model_fields.values():
        inner = nested(info.annotation)
        if inner is not None:
            yield from _models(inner)


def assert_nothing_unshown_in_clear(model: type[BaseModel], data: dict[str, Any]) -> None:
    for name, info in model.model_fields.items():
        inner, value = nested(info.annotation), data[name]
        if inner is not None and inner not in MASKED_MODELS:
            for item in value if isinstance(value, list) else [value] if value is not None else []:
                assert_nothing_unshown_in_clear(inner, item)
        elif inner is not None:
            assert value in (None, MASK), f"{model.__name__}.{name}"
        elif not shown(model, name):
            assert value == MASK, f"{model.__name__}.{name} printed {value!r}"


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event.cloudevents_type())
def test_an_event_made_from_its_contracts_examples_prints_only_fields_known_safe(event: type) -> None:
    """Every event type, filled with its contract's examples: each field not on the allow-list is masked."""
    example = event.model_validate({
        name: info.examples[0] for name, info in event.model_fields.items() if info.examples and info.examples[0] is not None
    })
    assert_nothing_unshown_in_clear(event, masked(example))


def line_for(event) -> str:
    envelope = Envelope(id=uuid4(), source="/carepath/test", type=event.cloudevents_type(), time=datetime.now(UTC),
                        subject=event.key, correlationid=uuid4())
    return one_line(LoggedEvent("carepath.x", 0, 1, {}, envelope, event, None))


def test_diagnoses_codes_flags_warning_signs_and_interpreter_language_are_masked() -> None:
    """An ICD-10 code, a personality-disorder or learning-disability flag, warning signs and the
    interpreter's language never print, though their contracts mark none of them sensitive."""
    sections = AssessmentSections.model_validate({
        "diagnoses": {"conditions": [{"name": "Emotionally unstable personality disorder", "code": "F60.3"}],
                      "personality_disorder": True, "learning_disability": True},
        "crisis_plan": {"warning_signs": ["stops eating", "gives possessions away"], "what_to_do": "Call the team",
                        "who_to_contact": ["HTCR duty line"]},
        "communication_needs": {"needs": ["short sentences"], "accessible_information": ["easy read"], "interpreter_language": "Tigrinya"},
    })
    submitted = AssessmentSubmitted(
        assessment_id=uuid4(), patient_id=uuid4(), episode_id=uuid4(), outcome="home-treatment", outcome_reason="Acute crisis",
        assessed_by="staff-0042", assessed_at=datetime.now(UTC), sections=sections,
    )
    line = line_for(submitted)
    for clear in ("F60.3", "personality", "stops eating", "possessions", "Tigrinya", "easy read", "HTCR duty line", "personality_disorder"):
        assert clear not in line
    assert '"diagnoses":"•••"' in line and '"crisis_plan":"•••"' in line and '"risk":null' in line
    assert '"outcome":"home-treatment"' in line and '"assessed_by":"staff-0042"' in line


def test_the_text_of_a_notification_and_the_name_of_a_ward_are_masked() -> None:
    """What carepath tells a person, and the ward a patient left, never print; who and when do."""
    patient = uuid4()
    note = NotificationSent(recipient="patient", patient_id=patient, episode_id=uuid4(), kind="care-plan",
                            text="Niamh will visit you at 10:00 at 4 Elm Row", sent_at=datetime.now(UTC))
    ward = WardDischargeRecorded(discharge_id=uuid4(), patient_id=patient, trust="northern", ward="Holywell Hospital, Ward 3",
                                 discharged_at=datetime.now(UTC))
    note_line, ward_line = line_for(note), line_for(ward)
    assert "Niamh" not in note_line and "Elm Row" not in note_line and '"kind":"care-plan"' in note_line
    assert "Holywell" not in ward_line and "Ward 3" not in ward_line and '"trust":"northern"' in ward_line


def test_a_field_of_a_model_nobody_classified_is_masked() -> None:
    """Fail safe: a field the lists do not know prints masked, whatever its value."""

    class Newer(BaseModel):
        patient_id: str
        favourite_colour: str

    assert masked(Newer(patient_id="p-1", favourite_colour="green")) == {"patient_id": "p-1", "favourite_colour": MASK}

