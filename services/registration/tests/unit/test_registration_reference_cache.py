"""Registration's views read a payer or provider once per transaction, and again after one is written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from billing_events.envelope import EventEnvelope
from registration.adapters import projections
from registration.adapters.queries import PostgresViews


class CountingConnection:
    def __init__(self) -> None:
        self.reads: list[tuple[Any, ...]] = []
        self.rows: dict[str, dict[str, Any]] = {"prov-1": {"provider_id": "prov-1", "role": "billing"}}

    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None:
        self.reads.append(args)
        return self.rows.get(args[1])


def _enrolled(provider_id: str) -> EventEnvelope:
    return EventEnvelope(
        event_id="0b6f1e1c-3b1f-4a53-9a57-2a3c8f1d4e01",
        event_type="ProviderEnrolled",
        version=1,
        source="registration",
        stream_id=provider_id,
        tenant="acme",
        occurred_at=datetime(2026, 11, 29, tzinfo=UTC),
        payload={},
        metadata={},
    )


async def test_a_provider_is_read_once_per_transaction_and_again_after_a_provider_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection = CountingConnection()
    views = PostgresViews(connection)
    first = await views.provider("acme", "prov-1")
    assert first == {"provider_id": "prov-1", "role": "billing"}
    assert first is not None
    first["role"] = "changed by a caller"  # a caller's copy: the cache keeps its own
    assert await views.provider("acme", "prov-1") == {"provider_id": "prov-1", "role": "billing"}
    assert await views.provider("acme", "prov-2") is None
    assert await views.provider("acme", "prov-2") is None
    assert len(connection.reads) == 2  # prov-1 once, prov-2 once (not found is remembered too)

    async def project(connection: Any, envelope: EventEnvelope) -> None:
        connection.rows["prov-2"] = {"provider_id": "prov-2", "role": "rendering"}

    monkeypatch.setattr(projections, "apply", project)
    await views.apply(_enrolled("prov-2"))  # enrolled in this same transaction
    assert await views.provider("acme", "prov-2") == {"provider_id": "prov-2", "role": "rendering"}
    assert len(connection.reads) == 3
