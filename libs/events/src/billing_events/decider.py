"""The decider pattern: an aggregate is an initial state and two pure functions.

    decide(command, state) -> events      (raises a named domain error to refuse)
    evolve(state, event) -> state

`execute` is the one place that loads a stream, folds it, decides and appends at the loaded version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from billing_events.contracts.base import Event
from billing_events.envelope import EventEnvelope, Metadata
from billing_events.store import Session

C = TypeVar("C")
S = TypeVar("S")


@dataclass(frozen=True)
class Decider(Generic[C, S]):
    initial: S
    decide: Callable[[C, S], Sequence[Event]]
    evolve: Callable[[S, Event], S]
    stream_type: str

    def fold(self, events: Iterable[Event], state: S | None = None) -> S:
        current = self.initial if state is None else state
        for event in events:
            current = self.evolve(current, event)
        return current


async def load_state(session: Session, decider: Decider[C, S], stream_id: str) -> tuple[S, int]:
    history = await session.load(stream_id)
    return decider.fold(e.event() for e in history), len(history)


async def execute(
    session: Session,
    decider: Decider[C, S],
    stream_id: str,
    command: C,
    metadata: Metadata,
    *,
    expected_version: int | None = None,
) -> tuple[S, list[EventEnvelope]]:
    """Decide on the stream's current state and append. With `expected_version` (If-Match), a stream
    that moved on raises VersionConflict even before deciding."""
    state, version = await load_state(session, decider, stream_id)
    if expected_version is not None and expected_version != version:
        from billing_events.store import VersionConflict

        raise VersionConflict(stream_id, expected_version)
    events = decider.decide(command, state)
    appended = await session.append(stream_id, decider.stream_type, version, events, metadata)
    return decider.fold(events, state), appended
