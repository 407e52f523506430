"""Invoicing's background work: institutional bills whose bill hold has passed.

A stay is billed by the event that completes it (discharge, coding or its first charge) when no hold
applies; with a hold of N days nothing happens on that day, so this worker looks for discharged,
coded, unbilled stays now and then and bills those whose hold is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from billing_events.envelope import Metadata
from billing_service.runtime import Runtime
from invoicing.adapters.projections import PostgresViews, postgres_unit
from invoicing.application import handlers
from invoicing.settings import invoicing_settings

log = logging.getLogger(__name__)
ACTOR = "invoicing-bill-hold"


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
                Metadata(tenant=tenant, actor=ACTOR),
                encounter_id,
                today,
                settings.bill_hold_days,
            )
        issued += state is not None
    return issued


def workers(runtime: Runtime) -> list[Callable[[asyncio.Event], object]]:
    interval = invoicing_settings().bill_release_interval_seconds

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await release_held_bills(runtime)
            except Exception as error:  # the next round tries again; the type only (no patient data)
                log.warning("bill hold round failed", extra={"error": type(error).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    return [run]
