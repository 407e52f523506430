"""Report days far in the past or future are refused with 422 naming the field, never a 500 (found
by schemathesis, issue 16: `to=0001-01-01` overflowed the day after)."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_testing.harness import ServiceHarness
from reporting.entrypoints import SERVICE


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/reports/revenue?period=month&group_by=code&to=0001-01-01", "to"),
        ("/reports/revenue?period=day&from=0001-02-01&to=0001-04-02", "from"),
        ("/reports/denials?to=0001-01-01", "to"),
        ("/reports/ar-aging?as_of=9999-12-31", "as_of"),
        ("/reports/kpis?as_of=0001-01-01", "as_of"),
        ("/reports/profitability?to=0001-01-01", "to"),
        ("/reports/cost-to-collect?from=0001-01-01&to=0001-02-01", "from"),
        ("/reports/budget-variance?as_of=9999-12-31", "as_of"),
    ],
)
async def test_days_out_of_range_are_refused_by_name(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path, path: str, field: str
) -> None:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path, consume=False
    ) as svc:
        response = await svc.client(roles=["biller", "finance"]).get(path)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
