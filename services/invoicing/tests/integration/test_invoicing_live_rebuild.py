"""`billing replay invoicing` while invoicing runs: its own-log read models (fee schedules, invoices,
accounts) and its registration projection are rebuilt beside the live ones and swapped in; invoice
reads answer throughout, and the rebuilt rows equal the live ones."""

from __future__ import annotations

import asyncio
from typing import Any

from billing_service.rebuild import OWN_LOG, rebuild_live
from billing_testing import builders
from billing_testing.harness import ServiceHarness

from .test_invoicing_integration import (
    COVERAGE_ADDED,
    ENCOUNTER,
    INVOICE,
    PATIENT,
    SCHEDULE_2026,
    play,
    snapshot,
    svc,
)

__all__ = ["svc"]  # the fixture, shared with the integration tests


async def test_a_live_rebuild_answers_throughout_and_swaps_in_the_same_rows(
    svc: ServiceHarness, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await svc.client(["admin"]).put("/fee-schedules/standard", json=SCHEDULE_2026)
    await play(
        svc, kafka_bootstrap, topic_prefix, COVERAGE_ADDED, builders.encounter_coded(ENCOUNTER, PATIENT)
    )
    biller = svc.client(["biller"])
    await biller.post(
        f"/invoices/{INVOICE}/payments",
        json={"amount_cents": 1500, "method": "check", "received_on": "2026-04-02"},
        headers={"Idempotency-Key": "pay-check-1"},
    )
    live = await snapshot(svc)
    async with svc.runtime.pool.acquire() as db:
        coverages = [dict(r) for r in await db.fetch("SELECT * FROM invoicing_coverages ORDER BY 1, 2")]
    first = (await biller.get(f"/invoices/{INVOICE}")).json()
    finished = asyncio.Event()
    answers: list[tuple[int, Any]] = []

    async def read_along() -> None:
        while not finished.is_set():
            response = await biller.get(f"/invoices/{INVOICE}")
            answers.append((response.status_code, response.json()))
            await asyncio.sleep(0.005)

    async def rebuild() -> Any:
        try:
            return await rebuild_live(svc.runtime)
        finally:
            finished.set()

    report, _ = await asyncio.gather(rebuild(), read_along())

    parts = ["invoicing-registration", "invoicing-patient-side", OWN_LOG]
    assert [part.part for part in report.parts] == parts
    assert answers and {status for status, _ in answers} == {200}
    assert all(body == first for _, body in answers)
    assert await snapshot(svc) == live
    async with svc.runtime.pool.acquire() as db:
        assert [
            dict(r) for r in await db.fetch("SELECT * FROM invoicing_coverages ORDER BY 1, 2")
        ] == coverages
