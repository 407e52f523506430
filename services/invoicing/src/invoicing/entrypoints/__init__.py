"""Invoicing as a runnable service: `billing serve|consume|relay invoicing`."""

from __future__ import annotations

from collections.abc import Callable

from billing_service.runtime import Runtime, ServiceDefinition
from invoicing.adapters.projections import OWN_TABLES, PROJECTIONS_SQL, rebuild
from invoicing.entrypoints.accounting_api import router as accounting_router
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
    routers=lambda: [router, accounting_router],
    subscriptions=subscriptions,
    # The statement run (30/60/90-day reminders) on a timer, POST /statements/run on demand; and the
    # institutional bills whose bill hold has passed.
    workers=workers,
    schema_sql=PROJECTIONS_SQL,
    # Invoices, accounts and fee schedules come from invoicing's own log; the read models of other
    # services' data (coverages, payers) come from their topics through the subscriptions.
    rebuild_from_log=rebuild_own_views,
    log_tables=OWN_TABLES,
    # Opens the patient's sealed name and address to print their statement (nothing else).
    decrypts_phi=True,
)
