"""Who may read the reports over the practice's history (conftest.py): per tenant, reading roles only."""

from __future__ import annotations

import httpx

from billing_testing.harness import ServiceHarness
from billing_testing.http import get_json


async def test_reports_are_per_tenant_and_only_for_reading_roles(svc: ServiceHarness) -> None:
    other = await get_json(
        svc.client(roles=["auditor"], tenant="tenant-b"), "/reports/ar-aging", as_of="2025-01-31"
    )
    assert [(row["payer_key"], row["total_cents"]) for row in other["rows"]] == [("payer-other", 99999)]

    assert (await svc.client(roles=["admin"]).get("/reports/kpis")).status_code == 200
    forbidden = await svc.client(roles=["front_desk", "coder"]).get("/reports/ar-aging")
    assert forbidden.status_code == 403
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.app), base_url="http://service")
    async with anonymous:
        assert (await anonymous.get("/reports/denials")).status_code == 401
        assert (await anonymous.get("/dashboard")).status_code == 401
        assert (await anonymous.get("/")).status_code == 200  # the page alone holds no data
    reversed_range = await svc.client(roles=["biller"]).get(
        "/reports/revenue", params={"from": "2025-02-01", "to": "2025-01-01"}
    )
    assert reversed_range.status_code == 422
    assert reversed_range.json()["errors"][0]["field"] == "from"
