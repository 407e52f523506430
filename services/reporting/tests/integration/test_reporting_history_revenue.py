"""Revenue over the practice's history (conftest.py): by payer and month, by code, by provider, and
the reconciliation of its totals with the A/R aging."""

from __future__ import annotations

from billing_testing.harness import ServiceHarness
from billing_testing.http import get_json


async def test_revenue_matches_the_hand_computed_figures(svc: ServiceHarness) -> None:
    api = svc.client(roles=["biller"])

    # --- Revenue by payer and month.
    revenue = await get_json(
        api, "/reports/revenue", **{"from": "2025-01-01", "to": "2025-04-30", "group_by": "payer"}
    )
    table = {
        (r["period"], r["group_name"]): (
            r["gross_charges_cents"],
            r["voided_charges_cents"],
            r["insurance_payments_cents"],
            r["patient_payments_cents"],
            r["contractual_adjustments_cents"],
        )
        for r in revenue["rows"]
    }
    assert table == {
        ("2025-01", "Acme Health"): (18000, 0, 0, 0, 0),
        ("2025-01", "Blue Plains"): (22000 + 15000, 22000, 0, 0, 0),  # INV-2, its void, INV-3
        ("2025-02", "Acme Health"): (16000, 0, 12000, 0, 4000),  # INV-4; C1 paid
        ("2025-03", "Acme Health"): (
            0,
            0,
            -12000 + 11000 + 10000,
            0,
            -4000 + 5000 + 4000,
        ),  # reversal, C1, C4
        ("2025-03", "Self-pay"): (20000, 0, 0, 2000, 0),  # INV-5; INV-1's patient
        ("2025-04", "Blue Plains"): (22000, 0, 9000, 0, 6000),  # INV-6; C3 paid
        ("2025-04", "Self-pay"): (0, 0, 0, 5000, 0),
    }
    # (February's denial posted only zeros, so Blue Plains has no February row.)
    totals = revenue["totals"]
    assert totals["net_charges_cents"] == 113000 - 22000
    assert totals["payments_cents"] == 30000 + 7000
    assert totals["adjustments_cents"] == 15000
    # 0 + 91000 - 37000 - 15000 = 39000, the aging total at the end of April.
    assert revenue["reconciliation"] == {
        "opening_ar_cents": 0,
        "closing_ar_cents": 39000,
        "expected_closing_ar_cents": 39000,
        "reconciled": True,
    }

    by_code = await get_json(
        api, "/reports/revenue", **{"from": "2025-03-01", "to": "2025-03-31", "group_by": "code"}
    )
    codes = {
        r["group_key"]: (
            r["gross_charges_cents"],
            r["insurance_payments_cents"],
            r["contractual_adjustments_cents"],
            r["patient_payments_cents"],
        )
        for r in by_code["rows"]
    }
    assert codes == {
        "99203": (20000, 0, 0, 0),
        "99213": (0, -10000 + 9000 + 10000, -3000 + 4000 + 3000, 0),  # reversal, C1 again, C4
        "81002": (0, 0, 1000, 0),  # the denied line's CO-97
        "unassigned": (0, 0, 0, 2000),  # a patient's payment names no line
        # 36415: -2000 + 2000 paid and -1000 + 1000 adjusted cancel out: no row.
    }

    by_provider = await get_json(
        api, "/reports/revenue", **{"from": "2025-01-01", "to": "2025-04-30", "group_by": "provider"}
    )
    providers: dict[str, list[int]] = {}
    for r in by_provider["rows"]:
        sums = providers.setdefault(r["group_name"], [0, 0, 0])
        sums[0] += r["net_charges_cents"]
        sums[1] += r["payments_cents"]
        sums[2] += r["adjustments_cents"]
    assert providers == {
        "Ada Osler": [18000 + 16000, 12000 - 12000 + 11000 + 10000 + 2000, 4000 - 4000 + 5000 + 4000],
        "Ben Lister": [22000 - 22000 + 15000 + 20000 + 22000, 9000 + 5000, 6000],
    }
