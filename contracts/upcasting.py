"""How a breaking change is made without breaking anyone: a new version of the event beside the
old, and one small function that reads an old payload as the new one.

    class VisitRequestedV2(Event): type_name = "visit.requested"; version = 2 ...

    @upcaster(VisitRequested, VisitRequestedV2)
    def upcast_v1_v2(payload: dict) -> dict:
        return payload | {"window": "any"}

The old version stays defined (its schema stays published, so a sender still on it is checked
against what it sends, and the compatibility gate keeps it registered). The codec decodes an
old-version event against its own schema, then upcasts it, step by step, to the newest version,
so handlers are written for the newest alone and a sender moves to it when it is ready. An
upcaster is pure and total: it may only add, rename or derive fields from the payload it is
given; what it returns is validated as the new version, so a mistake in one is an event refused
(dead-lettered with the reason), never one handled half-read.
"""

import json
from collections.abc import Callable, Iterable
from typing import Any

from contracts.base import Event

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_UPCASTERS: dict[type[Event], tuple[type[Event], Upcaster]] = {}


def upcaster(old: type[Event], new: type[Event]) -> Callable[[Upcaster], Upcaster]:
    """Registers `upcast_vN_vN+1(payload)`: how version N of an event reads as version N+1."""
    if old.type_name != new.type_name or new.version != old.version + 1 or old.topic != new.topic:
        raise TypeError(f"an upcaster goes from one version of an event to the next, on its topic: "
                        f"not {old.cloudevents_type()} to {new.cloudevents_type()}")
    if old in _UPCASTERS:
        raise TypeError(f"{old.cloudevents_type()} has an upcaster already")

    def register(function: Upcaster) -> Upcaster:
        _UPCASTERS[old] = (new, function)
        return function

    return register


def newest(kind: type[Event]) -> type[Event]:
    """The version an event of this kind is handled as: the last its upcasters lead to."""
    while kind in _UPCASTERS:
        kind = _UPCASTERS[kind][0]
    return kind


def upcast(event: Event) -> Event:
    """The event as its newest version reads it (itself, when it is the newest)."""
    while type(event) in _UPCASTERS:
        new, function = _UPCASTERS[type(event)]
        payload = function(event.model_dump(mode="json"))
        event = new.model_validate_json(json.dumps(payload), strict=True)
    return event


def superseded() -> dict[type[Event], type[Event]]:
    """Each event version that has a newer one, and the next."""
    return {old: new for old, (new, _) in _UPCASTERS.items()}


def unread_versions(events: Iterable[type[Event]]) -> list[str]:
    """Each older version of an event among `events` with no upcaster to the next: handlers are
    written for the newest alone, so a sender still on it would have its events go unhandled."""
    by_name: dict[str, list[type[Event]]] = {}
    for kind in events:
        by_name.setdefault(kind.type_name, []).append(kind)
    problems = []
    for versions in by_name.values():
        latest = max(kind.version for kind in versions)
        problems.extend(
            f"{kind.cloudevents_type()}: an older version with no upcaster to v{kind.version + 1} "
            f"(`contracts.upcasting.upcaster`): readers of it would stop working"
            for kind in sorted(versions, key=lambda kind: kind.version)
            if kind.version < latest and _UPCASTERS.get(kind, (None,))[0] is None
        )
    return problems
