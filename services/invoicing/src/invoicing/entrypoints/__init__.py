"""Invoicing as a runnable service: `billing serve|consume|relay invoicing`."""

from __future__ import annotations

from collections.abc import Callable

from billing_service.runtime import Runtime, ServiceDefinition
from invoicing.adapters.patient_side import OWN_PATIENT_SIDE_TABLES, PATIENT_SIDE_SQL, rebuild_patient_side
from invoicing.adapters.projections import OWN_TABLES, PROJECTIONS_SQL, rebuild
from invoicing.entrypoints.accounting_api import router as accounting_router
from invoicing.entrypoints.api import router
from invoicing.entrypoints.consumers import subscriptions
from invoicing.entrypoints.patient_side_api import router as patient_side_router
from invoicing.entrypoints.workers import workers


async def rebuild_own_views(runtime: Runtime, progress: Callable[[int, int], None]) -> int:
    applied = await rebuild(runtime.store)
    await rebuild_patient_side(runtime.store)
    progress(applied, applied)
    return applied


SERVICE = ServiceDefinition(
    name="invoicing",
    port=8003,
    title="Invoicing: fee schedules, invoices, payments and patient statements",
    routers=lambda: [router, accounting_router, patient_side_router],
    subscriptions=subscriptions,
    # The statement run (30/60/90-day reminders) on a timer, POST /statements/run on demand; and the
    # institutional bills whose bill hold has passed.
    workers=workers,
    schema_sql=PROJECTIONS_SQL + PATIENT_SIDE_SQL,
    # Invoices, accounts and fee schedules come from invoicing's own log; the read models of other
    # services' data (coverages, payers) come from their topics through the subscriptions.
    rebuild_from_log=rebuild_own_views,
    log_tables=(*OWN_TABLES, *OWN_PATIENT_SIDE_TABLES),
    # Opens the patient's sealed name and address to print their statement; seals the household
    # size and income of financial-assistance applications under the patient's key.
    decrypts_phi=True,
)
