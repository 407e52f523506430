"""Long-running work beside the consumers: the periodic statement run."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from billing_events.consumer import describe_error
from billing_events.envelope import Metadata
from billing_service.runtime import Runtime
from invoicing.adapters import accounting_queries
from invoicing.adapters.projections import postgres_unit
from invoicing.application import accounting
from invoicing.settings import InvoicingSettings

log = logging.getLogger(__name__)
ACTOR = "invoicing-statement-run"


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


def workers(runtime: Runtime) -> list[Callable[[asyncio.Event], object]]:
    interval = InvoicingSettings().statement_run_interval_seconds

    async def statement_run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await statement_run_once(runtime)
            except Exception as error:
                # The next round tries again; the reason names the error type only (no patient data).
                log.warning("statement run failed", extra={"error": describe_error(error)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    return [statement_run]
