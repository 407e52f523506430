"""Rebuild the reporting projections from the beginning of every topic (`billing replay reporting`)."""

from __future__ import annotations

from collections.abc import Callable

from billing_events.consumer import replay
from billing_service.runtime import Runtime
from reporting.adapters.finance_projections import finance_subscription
from reporting.adapters.projections import projection_subscription


async def rebuild(runtime: Runtime, progress: Callable[[int, int], None] | None = None) -> int:
    """Empty the fact tables (finance's too) and apply every event up to the current end of each topic;
    returns how many records were read. Stop the reporting consumers first; they resume after the
    replayed end. `progress(done, total)` is called after each batch."""
    facts = await replay(runtime.store, runtime.kafka, projection_subscription(), progress=progress)

    def after_facts(done: int, total: int) -> None:
        if progress is not None:
            progress(facts + done, facts + total)

    return facts + await replay(runtime.store, runtime.kafka, finance_subscription(), progress=after_facts)
