"""The CSV answers of every report over the practice's history (conftest.py): the same figures as JSON."""

from __future__ import annotations

from billing_testing.harness import ServiceHarness
from billing_testing.http import get_csv, get_json

ACME, BLUE = "payer-acme", "payer-blue"  # the history's payers


async def test_every_report_answers_csv_with_the_same_figures(svc: ServiceHarness) -> None:
    api = svc.client(roles=["auditor"])

    aging = await get_csv(api, "/reports/ar-aging", as_of="2025-03-04")
    assert [
        (r["payer_name"], r["days_0_30_cents"], r["days_31_60_cents"], r["total_cents"]) for r in aging
    ] == [
        ("Acme Health", "16000", "18000", "34000"),
        ("Blue Plains", "0", "15000", "15000"),
    ]

    params = {"from": "2025-01-01", "to": "2025-04-30", "group_by": "payer"}
    revenue_rows = await get_csv(api, "/reports/revenue", **params)
    revenue_json = await get_json(api, "/reports/revenue", **params)
    assert len(revenue_rows) == len(revenue_json["rows"]) == 7
    for name in ("net_charges_cents", "payments_cents", "adjustments_cents"):
        assert sum(int(r[name]) for r in revenue_rows) == revenue_json["totals"][name]

    reasons = await get_csv(
        api, "/reports/denials", **{"from": "2025-01-01", "to": "2025-04-30", "view": "reasons"}
    )
    assert [(r["reason"], r["amount_cents"]) for r in reasons] == [("CO-50", "15000"), ("CO-97", "1000")]
    payers = await get_csv(api, "/reports/denials", **{"from": "2025-01-01", "to": "2025-04-30"})
    assert [(r["payer_key"], r["denied_claims"], r["denial_rate_by_dollars_percent"]) for r in payers] == [
        (ACME, "0", "0.00"),
        (BLUE, "1", "100.00"),
        ("all", "1", "30.61"),
    ]

    kpis = {r["kpi"]: r for r in await get_csv(api, "/reports/kpis", as_of="2025-04-30", window_days=120)}
    assert kpis["days_in_ar"]["value"] == "61.6"
    assert (kpis["days_in_ar"]["numerator"], kpis["days_in_ar"]["denominator"]) == ("39000", "76000")
    assert kpis["clean_claim_rate"]["value"] == "80.00"
