"""Invoicing's background work beside the consumers: the periodic statement run, and institutional
bills whose bill hold has passed.

A stay is billed by the event that completes it (discharge, coding or its first charge) when no hold
applies; with a hold of N days nothing happens on that day, so a worker looks for discharged, coded,
unbilled stays now and then and bills those whose hold is over.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from billing_events.envelope import Metadata
from billing_service.runtime import Runtime
from billing_service.workers import Worker, every
from invoicing.adapters import accounting_queries
from invoicing.adapters.projections import PostgresViews, postgres_unit
from invoicing.application import accounting, handlers
from invoicing.settings import invoicing_settings

log = logging.getLogger(__name__)
ACTOR = "invoicing-statement-run"
BILL_HOLD_ACTOR = "invoicing-bill-hold"


async def statement_run_once(runtime: Runtime) -> int:
    """Every tenant's statement run as of today (UTC); returns the statements issued."""
    today = datetime.now(UTC).date()
    async with runtime.pool.acquire() as connection:
        tenants = await accounting_queries.tenants_to_dun(connection)
    issued = 0
    for tenant in tenants:
        async with runtime.pool.acquire() as connection:
            patients = await accounting_queries.patients_to_dun(connection, tenant)
        run = await accounting.run_statements(
            runtime.store, postgres_unit, Metadata(tenant=tenant, actor=ACTOR), patients, today
        )
        issued += run.statements_issued
    if issued:
        log.info("statement run", extra={"tenants": len(tenants), "statements_issued": issued})
    return issued


async def release_held_bills(runtime: Runtime) -> int:
    """Bill every stay whose hold is over; each in its own transaction. Returns the bills issued."""
    settings = invoicing_settings()
    today = datetime.now(UTC).date()
    async with runtime.pool.acquire() as connection:
        waiting = await PostgresViews(connection).stays_to_bill(None)
    issued = 0
    for tenant, encounter_id in waiting:
        async with runtime.store.session() as session:
            state = await handlers.bill_stay_if_ready(
                postgres_unit(session),
                Metadata(tenant=tenant, actor=BILL_HOLD_ACTOR),
                encounter_id,
                today,
                settings.bill_hold_days,
            )
        issued += state is not None
    return issued


def workers(runtime: Runtime) -> list[Worker]:
    settings = invoicing_settings()
    return [
        every(
            "invoicing-statement-run",
            settings.statement_run_interval_seconds,
            lambda: statement_run_once(runtime),
        ),
        every(
            "invoicing-bill-hold", settings.bill_release_interval_seconds, lambda: release_held_bills(runtime)
        ),
    ]
