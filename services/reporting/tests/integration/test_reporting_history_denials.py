"""Denials over the practice's history (conftest.py): rates by count and dollars, top reasons, by payer."""

from __future__ import annotations

from billing_testing.harness import ServiceHarness
from billing_testing.http import get_json


async def test_denials_match_the_hand_computed_figures(svc: ServiceHarness) -> None:
    api = svc.client(roles=["biller"])

    # --- Denials: first adjudications C1 (paid, $180), C3 (denied, $150), C4 (partially paid, $160).
    denials = await get_json(api, "/reports/denials", **{"from": "2025-01-01", "to": "2025-04-30"})
    assert (denials["adjudicated_claims"], denials["denied_claims"]) == (3, 1)
    assert denials["denial_rate_by_count"] == {"numerator": 1, "denominator": 3, "percent": "33.33"}
    # 15000 / (18000 + 15000 + 16000) = 0.30612...
    assert denials["denial_rate_by_dollars"] == {"numerator": 15000, "denominator": 49000, "percent": "30.61"}
    assert [(r["reason"], r["claims"], r["amount_cents"]) for r in denials["top_reasons"]] == [
        ("CO-50", 1, 15000),
        ("CO-97", 1, 1000),
    ]
    assert [(p["payer_name"], p["denial_rate_by_count"]["percent"]) for p in denials["by_payer"]] == [
        ("Acme Health", "0.00"),
        ("Blue Plains", "100.00"),
    ]
    assert (denials["front_end_rejections"], denials["reversals"], denials["denied_lines"]) == (1, 1, 1)
