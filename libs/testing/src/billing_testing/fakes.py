"""In-memory stand-ins for the unit of work's log side, so application handlers (policies, imports,
ingestion) get fast unit tests beside their integration tests. Same rules as the PostgreSQL store:
appends at a stale version conflict, positions are gap-free across streams, envelopes carry the
payload as JSON so `envelope.event()` parses it back exactly as a consumer would."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from billing_events.contracts.base import Event
from billing_events.envelope import EventEnvelope, Metadata
from billing_events.errors import VersionConflict


class InMemoryEventSession:
    def __init__(self, source: str) -> None:
        self.source = source
        self.streams: dict[str, list[EventEnvelope]] = {}
        self.log: list[EventEnvelope] = []
        self.locks: set[str] = set()

    async def load(self, stream_id: str) -> list[EventEnvelope]:
        return list(self.streams.get(stream_id, []))

    async def load_many(self, stream_ids: Sequence[str]) -> dict[str, list[EventEnvelope]]:
        return {stream_id: list(self.streams.get(stream_id, [])) for stream_id in stream_ids}

    async def preload(self, stream_ids: Sequence[str]) -> None:
        return None  # every load is from memory here

    def holds(self, lock: str) -> bool:
        return lock in self.locks

    def took(self, lock: str) -> None:
        self.locks.add(lock)

    async def append(
        self,
        stream_id: str,
        stream_type: str,
        expected_version: int | None,
        events: Sequence[Event],
        metadata: Metadata,
    ) -> list[EventEnvelope]:
        stream = self.streams.setdefault(stream_id, [])
        if expected_version is not None and expected_version != len(stream):
            raise VersionConflict(stream_id, expected_version)
        now = datetime.now(UTC)
        appended = [
            EventEnvelope(
                event_id=str(uuid.uuid4()),
                event_type=event.event_type,
                version=event.version,
                source=self.source,
                stream_id=stream_id,
                tenant=metadata.tenant,
                occurred_at=now,
                payload=event.model_dump(mode="json"),
                metadata=metadata.as_dict(),
                position=len(self.log) + 1 + offset,
                stream_version=len(stream) + 1 + offset,
            )
            for offset, event in enumerate(events)
        ]
        stream.extend(appended)
        self.log.extend(appended)
        return appended

    def events(self, stream_id: str | None = None) -> list[Event]:
        """The typed events of one stream, or of the whole log, in order."""
        envelopes = self.log if stream_id is None else self.streams.get(stream_id, [])
        return [envelope.event() for envelope in envelopes]
