"""A report's memory is bounded (issue 16): a report that would read more of its tenant's facts than
REPORTING_MAX_FACTS allows is refused with 422 before any row is read, instead of growing the pod."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from billing_testing.harness import ServiceHarness
from reporting.settings import reporting_settings


@pytest.fixture
def four_facts_at_most(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("REPORTING_MAX_FACTS", "4")
    reporting_settings.cache_clear()
    yield
    reporting_settings.cache_clear()


async def test_a_report_past_the_fact_limit_is_refused_with_422_and_one_within_it_answers(
    svc: ServiceHarness, four_facts_at_most: None
) -> None:
    api = svc.client(roles=["biller"])

    # 2025-01-11: INV-1 issued (1 invoice), claim-1 created (1 claim), ready and submitted (2 steps):
    # 1 + 1 + 2 = 4 facts, within the limit.
    within = await api.get("/reports/ar-aging", params={"as_of": "2025-01-11"})
    assert within.status_code == 200, within.text
    assert within.json()["total_cents"] == 18000  # INV-1's $180.00

    # 2025-01-31: INV-1, INV-2 (and its void), INV-3, their claims and steps: more than 4.
    for path, params, field in (
        ("/reports/ar-aging", {"as_of": "2025-01-31"}, "as_of"),
        ("/reports/revenue", {"from": "2025-01-01", "to": "2025-01-31"}, "to"),
        ("/reports/denials", {"from": "2025-01-01", "to": "2025-01-31"}, "to"),
    ):
        refused = await api.get(path, params=params)
        assert refused.status_code == 422, (path, refused.text)
        (error,) = refused.json()["errors"]
        assert error["field"] == field
        assert "more than the 4 one request may hold" in error["message"]
