"""Errors a handler raises on purpose. Their messages go to logs and the dead-letter topic,
so they must name the problem without quoting patient data."""

from typing import Protocol, TypeVar
from uuid import UUID


class InvalidEvent(Exception):
    """The event is well-formed but can never be processed (e.g. an H&C number that fails its
    check digit). It is dead-lettered at once, without retries, and nothing is written."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotYetKnown(Exception):
    """The event refers to something this service has not heard of yet, perhaps because the
    event announcing it is still on another topic (topics are not ordered with each other).
    It is parked in the service's database and handled when what it needs has arrived; it is
    never dead-lettered for lateness alone (see `shared.runtime.consumer`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _OfAPatient(Protocol):
    patient_id: UUID


E = TypeVar("E", bound=_OfAPatient)


def named_episode(episode: E | None, patient_id: UUID, not_yet: str) -> E:
    """The episode an event names, as every service checks it: not known here yet, the event
    waits for it (`not_yet` says what has not arrived); another patient's, the event is refused."""
    if episode is None:
        raise NotYetKnown(not_yet)
    if episode.patient_id != patient_id:
        raise InvalidEvent("the episode belongs to a different patient")
    return episode
