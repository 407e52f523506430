"""The decider pattern: an aggregate is an initial state and two pure functions.

    decide(command, state) -> events      (raises a named domain error to refuse)
    evolve(state, event) -> state

`execute` is the one place that runs a command: every service's commands and policies go through it.
In one transaction (the caller's Session) it

    locks (optional hook)  ->  loads the stream  ->  checks the tenant and the expected version
    ->  decides  ->  seals (optional hook)  ->  appends at the loaded version  ->  projects (hook)

Why append before projecting: the append is where a concurrent writer of the same stream loses
(VersionConflict), so a losing command has touched no read-model row; the projection sees the
envelopes with their log positions; and a transaction that takes the log's head lock before any
read-model row never holds such a row while it waits for that lock (no deadlock between a consumer
batch and an HTTP command). Everything in the Session commits together or not at all.

A service whose sessions keep appends for commit (Session.at_commit: claims) takes the head last
instead, once every other lock of the transaction is held, so the same holds; a losing command's
read-model rows then roll back with the transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from billing_events.contracts.base import Event
from billing_events.envelope import EventEnvelope, Metadata
from billing_events.errors import VersionConflict

if TYPE_CHECKING:
    from billing_events.unit_of_work import EventSession

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


class StreamOfAnotherTenant(Exception):
    """The stream exists but belongs to another tenant: to the caller it does not exist."""

    def __init__(self, stream_id: str) -> None:
        super().__init__("the stream belongs to another tenant")
        self.stream_id = stream_id


@dataclass(frozen=True)
class Outcome(Generic[S]):
    """What a command did: the state before and after, the events decided and their envelopes."""

    before: S
    after: S
    version: int  # the stream's version before the command
    events: tuple[Event, ...]
    appended: list[EventEnvelope]
    first_position: int  # log position of the stream's first event (0 for an empty stream)

    @property
    def changed(self) -> bool:
        return bool(self.appended)

    @property
    def new_version(self) -> int:
        return self.version + len(self.events)

    @property
    def last_position(self) -> int:
        return (self.appended[-1].position or 0) if self.appended else 0


Lock = Callable[[], Awaitable[object]]
Seal = Callable[[list[Event]], Awaitable[list[Event]]]
Project = Callable[["Outcome[S]"], Awaitable[None]]
CommandFor = Callable[[S], Awaitable["C | None"]]


def _state_of(decider: Decider[C, S], history: Sequence[EventEnvelope]) -> tuple[S, int]:
    return decider.fold(e.event() for e in history), len(history)


async def load_state(session: EventSession, decider: Decider[C, S], stream_id: str) -> tuple[S, int]:
    return _state_of(decider, await session.load(stream_id))


async def load_states(
    session: EventSession, decider: Decider[C, S], stream_ids: Sequence[str]
) -> dict[str, tuple[S, int]]:
    """`load_state` of several streams of one kind, read in one round trip."""
    histories = await session.load_many(stream_ids)
    return {stream_id: _state_of(decider, history) for stream_id, history in histories.items()}


async def execute(
    session: EventSession,
    decider: Decider[C, S],
    stream_id: str,
    command: C | CommandFor[S, C],
    metadata: Metadata,
    *,
    expected_version: int | None = None,
    lock: Lock | None = None,
    seal: Seal | None = None,
    project: Project[S] | None = None,
    new_stream: bool = False,
) -> Outcome[S]:
    """Run one command on one stream (see the module's docstring for the order and why).

    `command` is the command, or an async function of the loaded state that returns it (None: do
    nothing) for commands that need the current state to be built. `expected_version` (If-Match)
    raises VersionConflict when the stream moved on, before deciding. `lock` serialises writers of
    the stream before it is loaded; `seal` encrypts what the events carry before they are stored;
    `project` brings the service's read models up to date, in the same transaction, after the append.
    `new_stream`: the command made the stream's id up (a new UUID), so there is nothing to load; were
    the stream there after all, the append at version 0 would be a VersionConflict.
    """
    if lock is not None:
        await lock()
    history = [] if new_stream else await session.load(stream_id)
    if any(envelope.tenant != metadata.tenant for envelope in history):
        raise StreamOfAnotherTenant(stream_id)
    version = len(history)
    if expected_version is not None and expected_version != version:
        raise VersionConflict(stream_id, expected_version)
    state = decider.fold(envelope.event() for envelope in history)
    first_position = (history[0].position or 0) if history else 0
    decided_command = await command(state) if callable(command) else command
    if decided_command is None:
        return Outcome(state, state, version, (), [], first_position)
    events = list(decider.decide(decided_command, state))
    if not events:
        return Outcome(state, state, version, (), [], first_position)
    after = decider.fold(events, state)
    stored = await seal(events) if seal is not None else events
    appended = await session.append(stream_id, decider.stream_type, version, stored, metadata)
    if not history:
        first_position = appended[0].position or 0
    outcome = Outcome(state, after, version, tuple(events), appended, first_position)
    if project is not None:
        await project(outcome)
    return outcome
