"""Claims' three lists page through billing_service.pages: every row once, in order, whatever the
page size; a cursor works only on the list that gave it out. The read models are filled directly:
this is about reading them, not about how they are kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from billing_testing.harness import ServiceHarness
from claims.entrypoints import SERVICE

TENANT = "tenant-a"
AT = dt.datetime(2026, 5, 1, 9, 30, 0, 123456, tzinfo=dt.UTC)


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        yield harness


async def _fill(svc: ServiceHarness) -> None:
    denied = {
        "outcome": "denied",
        "total_charge_cents": 5000,
        "remittance_id": "r-1",
        "payer_claim_control_number": "ICN",
        "adjudicated_on": "2026-05-01",
        "claim_adjustments": [],
        "remark_codes": [],
    }
    async with svc.runtime.pool.acquire() as db:
        for n in range(7):
            await db.execute(
                "INSERT INTO claims (claim_id, tenant, invoice_id, encounter_id, patient_id, coverage_id, "
                "payer_id, billing_provider_id, rendering_provider_id, patient_control_number, service_date, "
                "codes_signature, total_charge_cents, status, adjudication, version, created_at, updated_at) "
                "VALUES ($1, $2, $3, 'e', 'p', 'c', 'payer', 'b', 'r', $4, '2026-04-01', 'sig', 5000, "
                "$5, $6, 1, $7, $7)",
                f"claim-{n}",
                "tenant-b" if n == 3 else TENANT,
                f"invoice-{n}",
                f"PCN{n}",
                "denied" if n % 2 else "ready",
                denied if n % 2 else None,
                AT,
            )
        # Arrival ties on purpose: the key goes on to the remittance, the control number and the status.
        for remittance, pcn, code, at in [
            ("r-2", "X1", "4", AT),
            ("r-1", "X2", "1", AT),
            ("r-1", "X1", "4", AT),
            ("r-1", "X1", "22", AT),
            ("r-0", "X9", "1", AT + dt.timedelta(microseconds=1)),
            ("r-0", "X0", "1", AT - dt.timedelta(days=1)),
        ]:
            await db.execute(
                "INSERT INTO unmatched_remittance_claims (tenant, remittance_id, patient_control_number, "
                "claim_status_code, charge_cents, paid_cents, payer_name, received_at) "
                "VALUES ($1, $2, $3, $4, 100, 0, 'Acme', $5)",
                TENANT,
                remittance,
                pcn,
                code,
                at,
            )


async def _walk(client: Any, path: str, limit: int, **params: str) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    cursor: str | None = None
    while True:
        query = {**params, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        answer = await client.get(path, params=query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"items", "next_cursor"}
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages


async def test_every_list_pages_through_each_row_once_in_order(svc: ServiceHarness) -> None:
    await _fill(svc)
    biller = svc.client(["biller"], tenant=TENANT)
    whole_claims = (await biller.get("/claims")).json()
    whole_unmatched = (await biller.get("/remittances/unmatched")).json()
    assert whole_claims["next_cursor"] is None and whole_unmatched["next_cursor"] is None
    assert [c["claim_id"] for c in whole_claims["items"]] == [f"claim-{n}" for n in (0, 1, 2, 4, 5, 6)]
    keys = [
        (u["remittance_id"], u["patient_control_number"], u["claim_status_code"])
        for u in whole_unmatched["items"]
    ]
    assert keys == [
        ("r-0", "X0", "1"),
        ("r-1", "X1", "22"),
        ("r-1", "X1", "4"),
        ("r-1", "X2", "1"),
        ("r-2", "X1", "4"),
        ("r-0", "X9", "1"),
    ]

    for limit in (1, 2, 3, 6):
        claims, pages = await _walk(biller, "/claims", limit)
        assert claims == whole_claims["items"]
        assert pages == -(-6 // limit)  # a full last page says so: no empty page after it
        unmatched, _ = await _walk(biller, "/remittances/unmatched", limit)
        assert unmatched == whole_unmatched["items"]
    ready, _ = await _walk(biller, "/claims", 1, status="ready")
    assert [c["claim_id"] for c in ready] == ["claim-0", "claim-2", "claim-4", "claim-6"]
    denials, _ = await _walk(biller, "/denials", 2)
    assert [d["claim_id"] for d in denials] == ["claim-1", "claim-5"]


async def test_a_cursor_of_another_list_or_an_old_offset_is_refused(svc: ServiceHarness) -> None:
    await _fill(svc)
    biller = svc.client(["biller"], tenant=TENANT)
    claims_cursor = (await biller.get("/claims", params={"limit": 1})).json()["next_cursor"]
    unmatched_cursor = (await biller.get("/remittances/unmatched", params={"limit": 1})).json()["next_cursor"]

    refused = [
        await biller.get("/denials", params={"cursor": claims_cursor}),
        await biller.get("/remittances/unmatched", params={"cursor": claims_cursor}),
        await biller.get("/claims", params={"cursor": unmatched_cursor}),
        await biller.get("/claims", params={"cursor": "2"}),  # the old cursors: a bare seq, an offset
        await biller.get("/remittances/unmatched", params={"cursor": "50"}),
    ]
    too_many = await biller.get("/claims", params={"limit": 201})

    for answer in refused:
        assert answer.status_code == 422
        assert [e["field"] for e in answer.json()["errors"]] == ["cursor"]
    assert too_many.status_code == 422
    assert [e["field"] for e in too_many.json()["errors"]] == ["limit"]
