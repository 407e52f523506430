"""A/R aging over the practice's history (conftest.py): what was outstanding on past days, aged from
the date of service, per payer."""

from __future__ import annotations

from typing import Any

from billing_testing.harness import ServiceHarness
from billing_testing.http import get_json


def aging_table(report: dict[str, Any]) -> dict[str, list[int]]:
    return {row["payer_name"]: list(row["buckets_cents"].values()) for row in report["rows"]}


async def test_aging_as_of_past_days_matches_the_hand_computed_figures(svc: ServiceHarness) -> None:
    api = svc.client(roles=["biller"])

    # --- A/R aging as of past days: what was outstanding then, aged from the date of service.
    january = await get_json(api, "/reports/ar-aging", as_of="2025-01-31")
    # INV-1 $180, 21 days; INV-3 $150 (INV-2 voided, recoded), 11 days. Tenant-b's $999.99 is not here.
    assert aging_table(january) == {"Acme Health": [18000, 0, 0, 0, 0], "Blue Plains": [15000, 0, 0, 0, 0]}
    assert january["total_cents"] == 33000

    february = await get_json(api, "/reports/ar-aging", as_of="2025-02-28")
    # INV-4 $160 at 14 days; INV-3 $150 at 39 days (the denial posted nothing); INV-1: 180 - 120 - 40
    # leaves the $20 coinsurance with the patient, 49 days.
    assert aging_table(february) == {
        "Acme Health": [16000, 0, 0, 0, 0],
        "Blue Plains": [0, 15000, 0, 0, 0],
        "Self-pay": [0, 2000, 0, 0, 0],
    }
    assert february["total_cents"] == 33000

    reversed_day = await get_json(api, "/reports/ar-aging", as_of="2025-03-04")
    # The reversal put all of INV-1's $180 back on Acme (53 days), beside INV-4 (18 days).
    assert aging_table(reversed_day) == {
        "Acme Health": [16000, 18000, 0, 0, 0],
        "Blue Plains": [0, 15000, 0, 0, 0],
    }
    assert reversed_day["total_cents"] == 49000

    march = await get_json(api, "/reports/ar-aging", as_of="2025-03-31")
    # INV-1: 180 - 110 - 50 - 20 (patient) = 0. INV-3 at 70 days. INV-4: 160 - 100 - 40 = 20 for the
    # patient, 45 days. INV-5 $200 self-pay, 26 days.
    assert aging_table(march) == {"Blue Plains": [0, 0, 15000, 0, 0], "Self-pay": [20000, 2000, 0, 0, 0]}
    assert march["total_cents"] == 37000

    june = await get_json(api, "/reports/ar-aging", as_of="2025-06-30")
    # INV-6 $220 at 90 days; INV-5 200 - 50 = $150 at 117 days; INV-4's $20 at 136 days.
    assert aging_table(june) == {"Blue Plains": [0, 0, 22000, 0, 0], "Self-pay": [0, 0, 0, 15000, 2000]}
    assert june["totals"]["buckets_cents"] == {
        "0-30": 0,
        "31-60": 0,
        "61-90": 22000,
        "91-120": 15000,
        "120+": 2000,
    }
    assert june["total_cents"] == 39000
