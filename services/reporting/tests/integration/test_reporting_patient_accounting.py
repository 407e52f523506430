"""Write-offs and the patient's credit, consumed from invoicing's topic: other adjustments in revenue,
less A/R, and the revenue report reconciling A/R to the cent. Its own small history (not conftest's):

  Jan 10  INV-A self-pay, service Jan 10: $200.   INV-B Acme, service Jan 10: $100.
  Jan 20  $50 of INV-A written off as charity.
  Jan 25  Acme pays INV-B: $60 paid, CO-45 $20, PR-1 $20.
  Feb 01  The patient pays $170 on INV-A: $150 applied, $20 credit, applied to INV-B the same day.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from billing_events.contracts.base import Event
from billing_testing import builders
from billing_testing.harness import ServiceHarness, publish_events
from billing_testing.http import get_json
from reporting.entrypoints import SERVICE

ACME = "payer-acme"


def at(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(15), UTC)


@pytest.fixture
async def books(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        line = builders.invoice_line
        history: list[tuple[datetime, list[Event]]] = [
            (
                at("2026-01-10"),
                [
                    builders.payer_registered(ACME),
                    builders.invoice_issued(
                        "inv-a",
                        encounter_id="enc-a",
                        payer_id=None,
                        coverage_id=None,
                        service_date=date(2026, 1, 10),
                        lines=(line(1, "99203", 20000),),
                    ),
                    builders.invoice_issued(
                        "inv-b",
                        encounter_id="enc-b",
                        payer_id=ACME,
                        service_date=date(2026, 1, 10),
                        lines=(line(1, "99213", 10000),),
                    ),
                ],
            ),
            (at("2026-01-20"), [builders.write_off_posted("inv-a", "patient-1", 5000, reason="charity")]),
            (
                at("2026-01-25"),
                [
                    builders.insurance_payment_posted(
                        "inv-b",
                        ACME,
                        lines=(builders.posted_line(1, 6000, ("CO", "45", 2000), ("PR", "1", 2000)),),
                        posted_on=date(2026, 1, 25),
                    )
                ],
            ),
            (
                at("2026-02-01"),
                [
                    builders.patient_payment_received(
                        "pay-1",
                        "patient-1",
                        "inv-a",
                        17000,
                        applied_cents=15000,
                        received_on=date(2026, 2, 1),
                    ),
                    builders.patient_credit_applied("inv-b", "patient-1", 2000, applied_on=date(2026, 2, 1)),
                ],
            ),
        ]
        for occurred_at, events in history:
            await publish_events(kafka_bootstrap, topic_prefix, events, occurred_at=occurred_at)
        await harness.drain()
        yield harness


async def test_write_offs_and_credit_show_in_revenue_and_ar(books: ServiceHarness) -> None:
    api = books.client(roles=["biller"])
    january = await get_json(api, "/reports/ar-aging", as_of="2026-01-31")
    # INV-A: 200 - 50 charity = 150; INV-B: 100 - 60 - 20 = 20, the patient's. All self-pay.
    assert january["total_cents"] == 17000
    assert {row["payer_name"]: row["total_cents"] for row in january["rows"]} == {"Self-pay": 17000}

    revenue = await get_json(
        api, "/reports/revenue", **{"from": "2026-01-01", "to": "2026-01-31", "group_by": "payer"}
    )
    figures = {
        r["group_name"]: (
            r["gross_charges_cents"],
            r["other_adjustments_cents"],
            r["contractual_adjustments_cents"],
        )
        for r in revenue["rows"]
    }
    assert figures == {"Self-pay": (20000, 5000, 0), "Acme Health": (10000, 0, 2000)}
    assert revenue["reconciliation"]["reconciled"] is True

    february = await get_json(api, "/reports/ar-aging", as_of="2026-02-28")
    assert february["total_cents"] == 0  # 150 paid on INV-A, 20 of credit on INV-B
    paid = await get_json(
        api, "/reports/revenue", **{"from": "2026-02-01", "to": "2026-02-28", "group_by": "payer"}
    )
    assert paid["totals"]["patient_payments_cents"] == 17000  # 150 applied + 20 credit applied
    assert (paid["reconciliation"]["opening_ar_cents"], paid["reconciliation"]["closing_ar_cents"]) == (
        17000,
        0,
    )
    assert paid["reconciliation"]["reconciled"] is True
