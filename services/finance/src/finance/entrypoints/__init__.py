"""The finance service as the runtime runs it (`billing serve|relay|replay finance`)."""

from __future__ import annotations

from collections.abc import Callable

from billing_service.runtime import Runtime, ServiceDefinition
from finance.adapters.projections import PROJECTION_TABLES, PROJECTIONS_SQL, rebuild
from finance.entrypoints.api import router


async def rebuild_views(runtime: Runtime, progress: Callable[[int, int], None]) -> int:
    return await rebuild(runtime.store, progress=progress)


SERVICE = ServiceDefinition(
    name="finance",
    port=8006,
    title="Finance: cost centres, expenses, budgets, capital assets",
    routers=lambda: [router],
    schema_sql=PROJECTIONS_SQL,
    # Finance consumes no topics: its views come from its own log.
    rebuild_from_log=rebuild_views,
    log_tables=PROJECTION_TABLES,
)

__all__ = ["SERVICE"]
