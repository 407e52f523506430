"""Rebuild the reporting projections from the beginning of every topic (`billing replay reporting`)."""

from __future__ import annotations

from collections.abc import Callable

from billing_events.consumer import replay
from billing_service.runtime import Runtime
from reporting.adapters.projections import projection_subscription


async def rebuild(runtime: Runtime, progress: Callable[[int, int], None] | None = None) -> int:
    """Empty the fact tables and apply every event up to the current end of each topic; returns how
    many records were read. Stop the reporting consumers first; they resume after the replayed end.
    `progress(done, total)` is called after each batch."""
    return await replay(runtime.store, runtime.kafka, projection_subscription(), progress=progress)
