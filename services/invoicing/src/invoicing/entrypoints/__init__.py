"""Invoicing as a runnable service: `billing serve|consume|relay invoicing`."""

from __future__ import annotations

from collections.abc import Callable

from billing_service.runtime import Runtime, ServiceDefinition
from invoicing.adapters.projections import PROJECTIONS_SQL, rebuild
from invoicing.entrypoints.api import router
from invoicing.entrypoints.consumers import subscriptions
from invoicing.entrypoints.workers import workers


async def rebuild_own_views(runtime: Runtime, progress: Callable[[int, int], None]) -> int:
    applied = await rebuild(runtime.store)
    progress(applied, applied)
    return applied


SERVICE = ServiceDefinition(
    name="invoicing",
    port=8003,
    title="Invoicing: fee schedules, invoices, payments and patient statements",
    routers=lambda: [router],
    subscriptions=subscriptions,
    schema_sql=PROJECTIONS_SQL,
    workers=workers,
    # Invoices, accounts and fee schedules come from invoicing's own log; the read models of other
    # services' data (coverages, payers) come from their topics through the subscriptions.
    rebuild_from_log=rebuild_own_views,
)
