"""The KPIs over the practice's history (conftest.py), at the end of April over 120 days."""

from __future__ import annotations

from billing_testing.harness import ServiceHarness
from billing_testing.http import get_json


async def test_kpis_match_the_hand_computed_figures(svc: ServiceHarness) -> None:
    api = svc.client(roles=["biller"])

    # --- KPIs at the end of April over 120 days (Jan 1 - Apr 30).
    kpis = (await get_json(api, "/reports/kpis", as_of="2025-04-30", window_days=120))["kpis"]
    values = {key: kpi["value"] for key, kpi in kpis.items()}
    assert values == {
        "days_in_ar": "61.6",  # 39000 / ((91000 charges - 15000 contractual) / 120) = 61.578...
        "clean_claim_rate": "80.00",  # C1, C3, C4, C6 clean of C1, C2, C3, C4, C6
        "first_pass_resolution_rate": "66.67",  # C1 and C4 of C1, C3, C4
        "denial_rate": "33.33",
        "denial_rate_dollars": "30.61",
        "net_collection_rate": "48.68",  # 37000 / 76000
        "average_days_to_payment": "40.8",  # (26 + 72 + 29 + 36) / 4 for INV-1, 3, 4, 5
        "aged_ar_over_90": "0.00",
    }
    assert (kpis["net_collection_rate"]["numerator"], kpis["net_collection_rate"]["denominator"]) == (
        37000,
        76000,
    )
