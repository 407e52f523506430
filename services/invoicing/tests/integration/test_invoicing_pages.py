"""GET /invoices pages through billing_service.pages: every invoice once, in issue order, whatever the
page size, filters kept across pages; bad cursors and limits are a 422 naming the field. The read
model is filled directly: this is about reading it, not about how it is kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from billing_testing.harness import ServiceHarness
from invoicing.entrypoints import SERVICE

TENANT = "tenant-a"


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        async with harness.runtime.pool.acquire() as db:
            for n, position in enumerate((40, 10, 30, 20, 50)):
                await db.execute(
                    "INSERT INTO invoicing_invoices (tenant, invoice_id, first_position, last_position, "
                    "encounter_id, patient_id, coding_version, service_date, status, total_charge_cents, "
                    "paid_cents, adjustment_cents, patient_responsibility_cents, balance_cents, document) "
                    "VALUES ($1, $2, $3, $3, 'e', $4, 1, '2026-04-01', 'open', 100, 0, 0, 0, 100, $5)",
                    TENANT,
                    f"invoice-{position}",
                    position,
                    "p-odd" if n % 2 else "p-even",
                    {"invoice_id": f"invoice-{position}"},
                )
        yield harness


async def _walk(client: Any, limit: int, **params: str) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/invoices", params=query)).json()
        assert set(body) == {"items", "next_cursor"}
        ids += [item["invoice_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids


async def test_invoices_page_through_in_issue_order(svc: ServiceHarness) -> None:
    biller = svc.client(["biller"], tenant=TENANT)
    in_order = [f"invoice-{p}" for p in (10, 20, 30, 40, 50)]
    for limit in (1, 2, 5, 200):
        assert await _walk(biller, limit) == in_order
    assert await _walk(biller, 1, patient_id="p-even") == ["invoice-30", "invoice-40", "invoice-50"]
    assert (await biller.get("/invoices")).json()["next_cursor"] is None


async def test_a_bad_cursor_or_limit_is_refused_with_the_field_named(svc: ServiceHarness) -> None:
    biller = svc.client(["biller"], tenant=TENANT)
    old = "aToxMA=="  # base64 of "i:10", the cursor invoicing gave out before
    for params in ({"cursor": old}, {"cursor": "nope"}, {"limit": "0"}, {"limit": "201"}, {"limit": "x"}):
        answer = await biller.get("/invoices", params=params)
        assert answer.status_code == 422
        assert [e["field"] for e in answer.json()["errors"]] == list(params)
