"""Every event type carepath knows, by CloudEvents type. An event registers itself when its class
is defined (`contracts.base.Event`); importing every module of this package defines them all, so
an event cannot be left out of the registry, the schemas or the contract tests."""

import importlib
import pkgutil

import contracts
from contracts.base import Event, defined_event, defined_events

for _module in pkgutil.iter_modules(contracts.__path__):
    if _module.name not in {"asyncapi", "compatibility", "generate", "registry"}:  # tools, not contracts
        importlib.import_module(f"contracts.{_module.name}")

EVENT_TYPES: dict[str, type[Event]] = defined_events()


def event_class(cloudevents_type: str) -> type[Event] | None:
    return defined_event(cloudevents_type)
