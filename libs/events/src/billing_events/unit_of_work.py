"""The unit of work: what one command or one consumed event may touch, in one transaction.

Every service's application layer receives the same shape: `unit.session`, the service's event log
in this transaction (load a stream, append to it), and `unit.views`, the service's own read models on
the same transaction. Both commit together or not at all. The shape is a Protocol at the log side so
that application handlers run against an in-memory fake in unit tests
(`billing_testing.fakes.InMemoryEventSession`) and against PostgreSQL everywhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from billing_events.contracts.base import Event
from billing_events.envelope import EventEnvelope, Metadata

V = TypeVar("V")


class EventSession(Protocol):
    """The log as a command sees it (billing_events.store.Session is the PostgreSQL one)."""

    async def load(self, stream_id: str) -> list[EventEnvelope]: ...

    async def load_many(self, stream_ids: Sequence[str]) -> dict[str, list[EventEnvelope]]: ...

    async def preload(self, stream_ids: Sequence[str]) -> None: ...

    def holds(self, lock: str) -> bool: ...

    def took(self, lock: str) -> None: ...

    async def append(
        self,
        stream_id: str,
        stream_type: str,
        expected_version: int | None,
        events: Sequence[Event],
        metadata: Metadata,
    ) -> list[EventEnvelope]: ...


@dataclass(frozen=True)
class UnitOfWork(Generic[V]):
    session: EventSession
    views: V
