"""Finance through its HTTP API against real Kafka and PostgreSQL: cost centres, expenses, the
all-or-nothing GL import, reversals, budgets, assets and their depreciation on billing.finance.*."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from billing_events.contracts.finance import ExpenseRecorded, ExpenseReversed
from billing_testing.harness import ServiceHarness, envelopes, read_topic
from finance.adapters.projections import rebuild
from finance.entrypoints import SERVICE

pytestmark = pytest.mark.integration
CSV = {"Content-Type": "text/csv"}
HEADER = "incurred_on,amount_cents,category,cost_center,vendor,memo\n"


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        yield harness


async def test_expenses_imports_reversals_budgets_and_assets(svc: ServiceHarness, topic_prefix: str) -> None:
    finance = svc.client(["finance"])
    for code, kind in (("CARD", "department"), ("ADMIN", "overhead")):
        answer = await finance.post("/cost-centers", json={"code": code, "name": code.title(), "kind": kind})
        assert answer.status_code == 201, answer.text
    duplicate = await finance.post("/cost-centers", json={"code": "CARD", "name": "x", "kind": "department"})
    assert duplicate.status_code == 409
    assigned = await finance.put("/cost-centers/CARD/providers", json={"provider_ids": ["prov-1", "prov-2"]})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["changed"] is True
    centers = (await finance.get("/cost-centers")).json()["items"]
    assert {c["code"]: c["provider_ids"] for c in centers} == {"ADMIN": [], "CARD": ["prov-1", "prov-2"]}
    missing = await finance.put("/cost-centers/NOPE/providers", json={"provider_ids": []})
    assert missing.status_code == 404

    one = await finance.post(
        "/expenses",
        json={
            "incurred_on": "2025-01-31",
            "amount_cents": 250000,
            "category": "supplies",
            "cost_center": "CARD",
        },
    )
    assert one.status_code == 201, one.text
    expense_id = one.json()["expense_id"]

    # One bad line among good ones: 422 naming it, and nothing of the file is stored.
    bad = HEADER + "2025-01-31,1000,supplies,CARD,,\n2025-01-31,-5,supplies,ORTHO,,\n2025-02-31,7,x,CARD,,\n"
    refused = await finance.post("/expenses/import", content=bad, headers=CSV)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == [
        "line 3: amount_cents",
        "line 3: cost_center",
        "line 4: incurred_on",
        "line 4: category",
    ]
    listed = await finance.get("/expenses", params={"from": "2025-01-01", "to": "2025-12-31"})
    assert [e["expense_id"] for e in listed.json()["items"]] == [expense_id]

    good = (
        HEADER + "2025-01-31,1000,supplies,CARD,Medline,\n2025-01-31,300000,facilities,ADMIN,Landlord,rent\n"
    )
    imported = await finance.post("/expenses/import", content=good, headers=CSV)
    assert imported.status_code == 201, imported.text
    assert imported.json()["expenses"] == 2
    # The list pages with the platform's one helper: one expense a page, each once, in order.
    window: dict[str, str | int] = {"from": "2025-01-01", "to": "2025-12-31", "limit": 1}
    first = (await finance.get("/expenses", params=window)).json()
    second = (await finance.get("/expenses", params={**window, "cursor": first["next_cursor"]})).json()
    third = (await finance.get("/expenses", params={**window, "cursor": second["next_cursor"]})).json()
    walked = [page["items"][0]["expense_id"] for page in (first, second, third)]
    assert walked[0] == expense_id
    assert sorted(walked[1:]) == sorted(imported.json()["expense_ids"])
    assert third["next_cursor"] is None
    stale = await finance.get("/expenses", params={**window, "cursor": "2"})
    assert stale.status_code == 422
    assert [e["field"] for e in stale.json()["errors"]] == ["cursor"]

    reversal = await finance.post(f"/expenses/{expense_id}/reversal", json={"reason": "wrong month"})
    assert reversal.status_code == 201, reversal.text
    again = await finance.post(f"/expenses/{expense_id}/reversal", json={"reason": "again"})
    assert again.status_code == 409
    other_tenant = svc.client(["finance"], tenant="tenant-b")
    assert (
        await other_tenant.post(f"/expenses/{expense_id}/reversal", json={"reason": "x"})
    ).status_code == 404

    budget = await finance.put(
        "/budgets/2025", json={"rows": [{"cost_center": "CARD", "month": 1, "amount_cents": 200000}]}
    )
    assert budget.status_code == 200, budget.text
    assert (await finance.get("/budgets/2025")).json()["rows"][0]["amount_cents"] == 200000

    # $1,000.00 over 3 months: 33,334 + 33,333 + 33,333 cents.
    asset = await finance.post(
        "/assets",
        json={
            "name": "ECG cart",
            "cost_cents": 100000,
            "acquired_on": "2025-01-10",
            "useful_life_months": 3,
            "cost_center": "CARD",
            "code": "93000",
            "monthly_volume": 20,
        },
    )
    assert asset.status_code == 201, asset.text
    assert asset.json()["depreciation_months"] == 3

    biller = svc.client(["biller"])
    assert (
        await biller.post("/cost-centers", json={"code": "X", "name": "X", "kind": "overhead"})
    ).status_code == 403

    # Published on billing.finance.expense: 1 + 2 imported + 3 depreciation recorded, 1 reversal.
    await svc.published()
    records = envelopes(
        await read_topic(
            svc.settings.kafka_bootstrap_servers, f"{topic_prefix}billing.finance.expense", expect=7
        )
    )
    events = [e.event() for e in records]
    recorded = [e for e in events if isinstance(e, ExpenseRecorded)]
    assert sorted(e.amount_cents for e in recorded if e.source == "depreciation") == [33333, 33333, 33334]
    assert [e.expense_id for e in events if isinstance(e, ExpenseReversed)] == [expense_id]

    # The views rebuilt from the log equal the live ones.
    async with svc.runtime.pool.acquire() as connection:
        before = [dict(r) for r in await connection.fetch("SELECT * FROM fin_expenses ORDER BY expense_id")]
    await rebuild(svc.runtime.store)
    async with svc.runtime.pool.acquire() as connection:
        after = [dict(r) for r in await connection.fetch("SELECT * FROM fin_expenses ORDER BY expense_id")]
    strip = [{k: v for k, v in r.items() if k != "seq"} for r in before]
    assert strip == [{k: v for k, v in r.items() if k != "seq"} for r in after]
