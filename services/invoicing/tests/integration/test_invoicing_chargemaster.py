"""PUT /chargemaster and POST /encounters/{id}/charges on the real servers: a 60,000-row chargemaster in
one CSV, staged in parts and priced from; a file with bad lines refused whole; charges priced at their
service date, once per Idempotency-Key."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from billing_testing.harness import ServiceHarness
from invoicing.adapters.projections import rebuild
from invoicing.entrypoints import SERVICE

pytestmark = pytest.mark.integration

HEADER = "charge_code,description,revenue_code,hcpcs,amount_cents\n"
SNAPSHOT = {
    "versions": "SELECT tenant, effective_from, row_count, position FROM invoicing_chargemaster_versions "
    "ORDER BY effective_from",
    "rows": "SELECT * FROM invoicing_chargemaster_rows ORDER BY effective_from, charge_code",
    "charges": "SELECT * FROM invoicing_encounter_charges ORDER BY encounter_id, line_number",
}


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        yield harness


def big_chargemaster(count: int, price_of_room: int) -> str:
    lines = [HEADER, f"RB-MED,Room and board medical/surgical,0120,,{price_of_room}\n"]
    lines += [f"SUP{n:06d},Supply item {n},0270,,{100 + n % 5000}\n" for n in range(count - 2)]
    lines.append("OR-1H,Operating room first hour,0360,27130,850050\n")
    return "".join(lines)


async def test_a_sixty_thousand_row_chargemaster_imports_and_prices_charges(svc: ServiceHarness) -> None:
    admin = svc.client(["admin"])
    started = time.perf_counter()
    answer = await admin.put(
        "/chargemaster?effective_from=2026-01-01",
        content=big_chargemaster(60_000, 200000),
        headers={"Content-Type": "text/csv"},
    )
    seconds = time.perf_counter() - started
    assert answer.status_code == 200, answer.text
    assert answer.json()["row_count"] == 60_000 and answer.json()["created"] is True
    print(f"chargemaster import of 60,000 rows: {seconds:.1f} s")
    async with svc.runtime.pool.acquire() as db:
        staged = await db.fetchval(
            "SELECT count(*) FROM events WHERE event_type LIKE '%ChargemasterRowsStaged%'"
        )
        stored = await db.fetchval("SELECT count(*) FROM invoicing_chargemaster_rows")
    # 60,000 rows at 1,000 per part.
    assert (staged, stored) == (60, 60_000)
    # The same file again changes nothing.
    again = await admin.put(
        "/chargemaster?effective_from=2026-01-01",
        content=big_chargemaster(60_000, 200000),
        headers={"Content-Type": "text/csv"},
    )
    assert again.json()["created"] is False
    # From March, a room costs 2,100.00.
    march = await admin.put(
        "/chargemaster",
        json={
            "effective_from": "2026-03-01",
            "rows": [
                {
                    "charge_code": "RB-MED",
                    "description": "Room",
                    "revenue_code": "0120",
                    "amount_cents": 210000,
                },
                {
                    "charge_code": "OR-1H",
                    "description": "OR",
                    "revenue_code": "0360",
                    "hcpcs": "27130",
                    "amount_cents": 850050,
                },
            ],
        },
    )
    assert march.status_code == 200, march.text

    encounter = str(uuid.uuid4())
    nurse = svc.client(["front_desk"])
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {
        "lines": [
            {"charge_code": "RB-MED", "units": 2, "service_date": "2026-02-27"},
            {"charge_code": "rb-med", "units": 1, "service_date": "2026-03-01"},
            {"charge_code": "OR-1H", "units": 1, "service_date": "2026-03-01"},
        ]
    }
    captured = await nurse.post(f"/encounters/{encounter}/charges", json=body, headers=key)
    assert captured.status_code == 201, captured.text
    # February: 2 x 2,000.00 = 4,000.00 (January's version); March: 2,100.00 (March's) and 8,500.50.
    assert [line["charge_cents"] for line in captured.json()["lines"]] == [400000, 210000, 850050]
    assert captured.json()["total_charge_cents"] == 400000 + 210000 + 850050 == 1460050
    repeated = await nurse.post(f"/encounters/{encounter}/charges", json=body, headers=key)
    assert repeated.json() == captured.json()
    async with svc.runtime.pool.acquire() as db:
        lines = await db.fetchval(
            "SELECT count(*) FROM invoicing_encounter_charges WHERE encounter_id = $1", encounter
        )
        live = [await db.fetch(SNAPSHOT[table]) for table in SNAPSHOT]
    assert lines == 3
    # Rebuilt from the log (staged parts included), the chargemaster and the charges equal the live ones.
    await rebuild(svc.runtime.store)
    async with svc.runtime.pool.acquire() as db:
        rebuilt = [await db.fetch(SNAPSHOT[table]) for table in SNAPSHOT]
    assert [len(rows) for rows in rebuilt] == [2, 60_002, 3]
    assert [[dict(r) for r in rows] for rows in rebuilt] == [[dict(r) for r in rows] for rows in live]


async def test_a_chargemaster_with_bad_lines_is_refused_whole_naming_each(svc: ServiceHarness) -> None:
    text = HEADER + "RB-MED,Room,0120,,200000\nBAD,,0120,,100\nLAB,Panel,99,,100\nRB-MED,Again,0120,,5\n"
    answer = await svc.client(["admin"]).put(
        "/chargemaster?effective_from=2026-01-01", content=text, headers={"Content-Type": "text/csv"}
    )
    assert answer.status_code == 422
    fields = {error["field"] for error in answer.json()["errors"]}
    assert fields == {"line 3.description", "line 4.revenue_code", "line 5.charge_code"}
    async with svc.runtime.pool.acquire() as db:
        assert await db.fetchval("SELECT count(*) FROM invoicing_chargemaster_rows") == 0
    # Only an admin imports; a charge code the chargemaster lacks refuses the capture.
    forbidden = await svc.client(["biller"]).put(
        "/chargemaster", json={"effective_from": "2026-01-01", "rows": []}
    )
    assert forbidden.status_code == 403
    unknown = await svc.client(["biller"]).post(
        f"/encounters/{uuid.uuid4()}/charges",
        json={"lines": [{"charge_code": "NOPE", "units": 1, "service_date": "2026-03-01"}]},
    )
    assert unknown.status_code == 422
    assert [error["field"] for error in unknown.json()["errors"]] == ["lines.0.charge_code"]
