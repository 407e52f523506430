"""Profitability, cost to collect, budget variance and decision support over one known history played
onto the real topics (revenue-cycle and finance events with their event times), against figures
worked out by hand; a reversal, a late expense, CSV, a rebuild from the topics, and the dashboard's
finance section in a real browser. A second test drives the finance service itself end to end.

The history (event times 15:00 UTC; reports count days in UTC):

  2024-12-01  Cost centres FAM (department, Dr Osler), CARD (service line, Dr Lister), ADMIN (overhead).
  2024-12-15  Budget 2025: FAM Jan $50.00, CARD Jan $40.00, ADMIN Jan $30.00.
  2025-01-01  ECG cart for CARD: $30.00 over 3 months (93000, 10 a month): $10.00 depreciation at the
              end of Jan, Feb and Mar, recorded now.
  2025-01-10  INV-1 Dr Osler, Acme, 99213 $100.00.    2025-01-12  INV-2 Dr Lister, Blue, 93000 $300.00.
  2025-01-20  Acme pays INV-1 $60, CO-45 $30.         2025-01-25  Blue pays INV-2 $200, CO-45 $50, OA-23 $10.
  2025-01-28  The patient pays $10 on INV-1.
  2025-01-31  Expenses: FAM payroll $40.00 (1 FTE), CARD supplies $50.00, ADMIN facilities $30.01,
              billing operations $5.00, clearinghouse fees $2.50.
  2025-02-03  FAM supplies $7.00 incurred Jan 15, recorded late.
  2025-02-05  The clearinghouse fees of $2.50 reversed.

  January's net revenue: $400 charges - $80 contractual - $10 other = $310.00 (FAM $70, CARD $240).
"""

from __future__ import annotations

import asyncio
import csv
import io
import socket
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from billing_events.contracts.base import Event
from billing_events.contracts.finance import (
    AssetAcquired,
    BudgetLine,
    BudgetSet,
    CostCenterOpened,
    ExpenseRecorded,
    ExpenseReversed,
)
from billing_events.contracts.invoicing import (
    Adjustment,
    InsurancePaymentPosted,
    InvoiceIssued,
    InvoiceLine,
    PatientPaymentReceived,
    PostedLine,
)
from billing_events.contracts.registration import Address, PayerRegistered, ProviderEnrolled
from billing_testing.harness import ServiceHarness, publish_events
from finance.entrypoints import SERVICE as FINANCE
from reporting.adapters.rebuild import rebuild
from reporting.entrypoints import SERVICE

pytestmark = pytest.mark.integration
ADDRESS = Address(line1="10 Clinic Rd", city="Springfield", state="IL", postal_code="62701")
CHROMIUM = Path("/usr/bin/chromium")
JAN = {"from": "2025-01-01", "to": "2025-01-31"}


def at(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(15), UTC)


def invoice(number: int, day: str, code: str, cents: int, payer: str, provider: str) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id=f"inv-{number}",
        encounter_id=f"enc-{number}",
        patient_id=f"patient-{number}",
        coding_version=1,
        service_date=date.fromisoformat(day),
        billing_provider_id="clinic",
        rendering_provider_id=provider,
        place_of_service="11",
        diagnoses=("E11.9",),
        lines=(InvoiceLine(line_number=1, code=code, units=1, unit_price_cents=cents, charge_cents=cents),),
        total_charge_cents=cents,
        responsibility="insurance",
        coverage_id=f"cov-{number}",
        payer_id=payer,
        fee_schedule="standard-2025",
    )


def posted(
    number: int, day: str, payer: str, paid: int, adjustments: list[tuple[str, str, int]]
) -> InsurancePaymentPosted:
    return InsurancePaymentPosted(
        invoice_id=f"inv-{number}",
        claim_id=f"claim-{number}",
        payer_id=payer,
        adjudication_id=f"adj-{number}",
        lines=(
            PostedLine(
                line_number=1,
                paid_cents=paid,
                adjustments=tuple(
                    Adjustment(group=g, reason_code=r, amount_cents=c) for g, r, c in adjustments
                ),
            ),
        ),
        paid_cents=paid,
        contractual_adjustment_cents=sum(c for g, _, c in adjustments if g == "CO"),
        other_adjustment_cents=sum(c for g, _, c in adjustments if g not in ("CO", "PR")),
        patient_responsibility_cents=0,
        posted_on=date.fromisoformat(day),
    )


def center(code: str, kind: str, *providers: str) -> CostCenterOpened:
    return CostCenterOpened(
        cost_center_id=f"cc-{code}", code=code, name=code.title(), kind=kind, provider_ids=providers
    )


def spent(
    n: int, code: str, category: str, cents: int, day: str = "2025-01-31", **extra: Any
) -> ExpenseRecorded:
    return ExpenseRecorded(
        expense_id=f"exp-{n}",
        cost_center_id=f"cc-{code}",
        cost_center_code=code,
        category=category,
        amount_cents=cents,
        incurred_on=date.fromisoformat(day),
        **extra,
    )


def depreciation(month: int, day: str) -> ExpenseRecorded:
    return spent(100 + month, "CARD", "equipment", 1000, day, source="depreciation", asset_id="asset-ecg")


HISTORY: list[tuple[datetime, list[Event]]] = [
    (
        at("2024-12-01"),
        [
            PayerRegistered(payer_id="acme", name="Acme", edi_payer_id="ACME1", claim_filing_indicator="CI"),
            PayerRegistered(payer_id="blue", name="Blue", edi_payer_id="BLUE1", claim_filing_indicator="BL"),
            *(
                ProviderEnrolled(
                    provider_id=p,
                    npi=npi,
                    role="rendering",
                    given_name=p.title(),
                    family_name="Doctor",
                    taxonomy_code="207Q00000X",
                    address=ADDRESS,
                )
                for p, npi in (("osler", "1245319599"), ("lister", "1679576722"))
            ),
            center("FAM", "department", "osler"),
            center("CARD", "service_line", "lister"),
            center("ADMIN", "overhead"),
        ],
    ),
    (
        at("2024-12-15"),
        [
            BudgetSet(
                budget_id="budget-2025",
                year=2025,
                rows=tuple(
                    BudgetLine(cost_center_id=f"cc-{c}", cost_center_code=c, month=1, amount_cents=cents)
                    for c, cents in (("FAM", 5000), ("CARD", 4000), ("ADMIN", 3000))
                ),
            )
        ],
    ),
    (
        at("2025-01-01"),
        [
            AssetAcquired(
                asset_id="asset-ecg",
                name="ECG cart",
                cost_cents=3000,
                acquired_on=date(2025, 1, 1),
                useful_life_months=3,
                cost_center_id="cc-CARD",
                cost_center_code="CARD",
                code="93000",
                monthly_volume=10,
            ),
            depreciation(1, "2025-01-31"),
            depreciation(2, "2025-02-28"),
            depreciation(3, "2025-03-31"),
        ],
    ),
    (at("2025-01-10"), [invoice(1, "2025-01-10", "99213", 10000, "acme", "osler")]),
    (at("2025-01-12"), [invoice(2, "2025-01-12", "93000", 30000, "blue", "lister")]),
    (at("2025-01-20"), [posted(1, "2025-01-20", "acme", 6000, [("CO", "45", 3000)])]),
    (at("2025-01-25"), [posted(2, "2025-01-25", "blue", 20000, [("CO", "45", 5000), ("OA", "23", 1000)])]),
    (
        at("2025-01-28"),
        [
            PatientPaymentReceived(
                payment_id="pay-1",
                patient_id="patient-1",
                invoice_id="inv-1",
                amount_cents=1000,
                applied_cents=1000,
                credit_cents=0,
                method="card",
                received_on=date(2025, 1, 28),
            )
        ],
    ),
    (
        at("2025-01-31"),
        [
            spent(1, "FAM", "payroll", 4000, fte_hundredths=100),
            spent(2, "CARD", "supplies", 5000),
            spent(3, "ADMIN", "facilities", 3001),
            spent(4, "ADMIN", "billing_operations", 500),
            spent(5, "ADMIN", "clearinghouse_fees", 250),
        ],
    ),
    (at("2025-02-03"), [spent(6, "FAM", "supplies", 700, "2025-01-15")]),
    (
        at("2025-02-05"),
        [
            ExpenseReversed(
                expense_id="exp-5",
                cost_center_id="cc-ADMIN",
                cost_center_code="ADMIN",
                category="clearinghouse_fees",
                amount_cents=250,
                incurred_on=date(2025, 1, 31),
                reason="billed twice",
            )
        ],
    ),
]


@pytest.fixture
async def svc(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[ServiceHarness]:
    async with ServiceHarness.start(
        SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path
    ) as harness:
        for occurred_at, events in HISTORY:
            await publish_events(kafka_bootstrap, topic_prefix, events, occurred_at=occurred_at)
        # Another tenant's expense, never to be seen by tenant-a.
        await publish_events(
            kafka_bootstrap,
            topic_prefix,
            [spent(999, "FAM", "supplies", 99999)],
            tenant="tenant-b",
            occurred_at=at("2025-01-31"),
        )
        await harness.drain()
        yield harness


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def table(report: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    return {
        r["key"]: (
            r["net_revenue_cents"],
            r["direct_expense_cents"],
            r["allocated_expense_cents"],
            r["margin_cents"],
        )
        for r in report["rows"]
    }


async def test_finance_reports_match_the_hand_computed_figures(svc: ServiceHarness) -> None:
    api = svc.client(["finance"])

    # --- Profitability of January as known on Jan 31: before the late supplies and the reversal.
    # Expenses: FAM 4000; CARD 5000 + 1000 depreciation; ADMIN 3001 + 500 + 250 = 3751, spread 1:3 by
    # net charges ($100 : $300): 937.75 / 2813.25 -> 937 + 2813 = 3750, the odd cent to FAM (.75).
    early = await get(api, "/reports/profitability", **JAN, group_by="cost_center", as_of="2025-01-31")
    assert table(early) == {
        "cc-FAM": (7000, 4000, 938, 7000 - 4000 - 938),
        "cc-CARD": (24000, 6000, 2813, 24000 - 6000 - 2813),
    }
    assert early["totals"] == {
        "net_revenue_cents": 31000,
        "expense_cents": 4000 + 6000 + 3751,
        "margin_cents": 31000 - 13751,
        "margin_percent": "55.64",  # 17249 / 31000 = 55.641...%
    }
    (admin,) = early["allocations"]
    assert admin["spent_cents"] == admin["allocated_cents"] == 3751
    assert sum(part["cents"] for part in admin["to"]) == 3751

    # --- As known on Feb 10: FAM's late $7.00 and the reversed $2.50 of clearinghouse fees are in.
    # FAM 4700; CARD 6000; ADMIN 3501 -> 875.25 / 2625.75: 875 + 2625 = 3500, the odd cent to CARD.
    late = await get(api, "/reports/profitability", **JAN, group_by="cost_center", as_of="2025-02-10")
    assert table(late) == {
        "cc-FAM": (7000, 4700, 875, 7000 - 4700 - 875),
        "cc-CARD": (24000, 6000, 2626, 24000 - 6000 - 2626),
    }
    assert late["totals"]["expense_cents"] == 4700 + 6000 + 3501 == 14201
    assert late["totals"]["margin_cents"] == 31000 - 14201

    # Net revenue equals the revenue report's rows summed, whatever the grouping.
    revenue = await get(api, "/reports/revenue", **JAN, group_by="payer", period="month")
    summed = sum(
        r["net_charges_cents"] - r["contractual_adjustments_cents"] - r["other_adjustments_cents"]
        for r in revenue["rows"]
    )
    assert summed == 31000
    for group_by in ("payer", "provider", "code"):
        report = await get(api, "/reports/profitability", **JAN, group_by=group_by, as_of="2025-02-10")
        assert report["totals"]["net_revenue_cents"] == summed
        assert sum(r["net_revenue_cents"] for r in report["rows"]) == summed
        assert sum(r["expense_cents"] for r in report["rows"]) == report["totals"]["expense_cents"] == 14201
    # By payer, each cost centre's spending is spread 1:3: FAM 1175/3525, CARD 1500/4500, ADMIN 875/2626.
    by_payer = await get(api, "/reports/profitability", **JAN, group_by="payer", as_of="2025-02-10")
    assert {r["key"]: r["expense_cents"] for r in by_payer["rows"]} == {"acme": 3550, "blue": 10651}

    # --- Cost to collect: $7.50 then $5.00 of revenue-cycle cost over $270.00 collected.
    ctc = await get(api, "/reports/cost-to-collect", **JAN, as_of="2025-01-31")
    assert ctc["totals"]["revenue_cycle_cost_cents"] == 750
    assert ctc["totals"]["cash_collected_cents"] == 6000 + 20000 + 1000
    assert ctc["totals"]["cost_to_collect"]["percent"] == "2.78"
    ctc = await get(api, "/reports/cost-to-collect", **JAN, as_of="2025-02-10")
    assert ctc["totals"]["revenue_cycle_cost_cents"] == 500
    assert ctc["totals"]["cost_to_collect"]["percent"] == "1.85"

    # --- Budget against actual for 2025 as known on Feb 10 (depreciation of Feb and Mar included).
    variance = await get(api, "/reports/budget-variance", year=2025, as_of="2025-02-10")
    assert {
        (r["cost_center"], r["month"]): (r["budget_cents"], r["actual_cents"], r["variance_cents"])
        for r in variance["rows"]
    } == {
        ("ADMIN", 1): (3000, 3501, -501),
        ("CARD", 1): (4000, 6000, -2000),
        ("CARD", 2): (0, 1000, -1000),
        ("CARD", 3): (0, 1000, -1000),
        ("FAM", 1): (5000, 4700, 300),
    }
    assert variance["totals"] == {"budget_cents": 12000, "actual_cents": 16201, "variance_cents": -4201}
    before_reversal = await get(api, "/reports/budget-variance", year=2025, as_of="2025-02-04")
    assert before_reversal["totals"]["actual_cents"] == 16201 + 250

    # --- Decision support over January: an FTE-month $40.00 over 2 encounters; 93000 earned $240 net
    # on one line, so 10 a month give $2,400 and the $30.00 cart pays back in its first month.
    decisions = await get(api, "/reports/decision-support", **JAN, as_of="2025-02-10")
    assert decisions["staffing"]["fte_month_cents"] == 4000
    assert decisions["staffing"]["one_more_fte_per_encounter_cents"] == 2000
    (cart,) = decisions["equipment"]
    assert (
        cart["contribution_per_unit_cents"],
        cart["monthly_contribution_cents"],
        cart["payback_months"],
    ) == (
        24000,
        240000,
        1,
    )
    assert decisions["losing_cost_centers"] == [] and decisions["losing_payers"] == []
    what_if = await get(
        api,
        "/reports/equipment-payback",
        **JAN,
        as_of="2025-02-10",
        code="99213",
        cost_cents=2_000_000,
        useful_life_months=60,
        monthly_volume=50,
    )
    # 99213 earned $100 - $30 = $70 on one line: 50 a month -> $3,500; $20,000 -> 5.71 -> 6 months.
    assert (what_if["monthly_contribution_cents"], what_if["payback_months"]) == (350000, 6)

    # --- The other tenant sees only its own expense; a front-desk token sees nothing.
    other = svc.client(["finance"], tenant="tenant-b")
    theirs = await get(other, "/reports/profitability", **JAN, as_of="2025-02-10")
    assert theirs["totals"]["expense_cents"] == 99999
    denied = await svc.client(["front_desk"]).get("/reports/profitability", params=JAN)
    assert denied.status_code == 403


async def csv_rows(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, str]]:
    response = await client.get(path, params=params, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_the_finance_reports_answer_csv_with_the_same_figures(svc: ServiceHarness) -> None:
    api = svc.client(["biller"])
    rows = await csv_rows(api, "/reports/profitability", **JAN, group_by="cost_center", as_of="2025-02-10")
    assert [(r["key"], r["margin_cents"]) for r in rows] == [
        ("cc-CARD", str(24000 - 6000 - 2626)),
        ("cc-FAM", str(7000 - 4700 - 875)),
        ("total", str(31000 - 14201)),
    ]
    ctc = await csv_rows(api, "/reports/cost-to-collect", **JAN, as_of="2025-02-10")
    assert ctc[-1] == {
        "period": "total",
        "revenue_cycle_cost_cents": "500",
        "cash_collected_cents": "27000",
        "cost_to_collect_percent": "1.85",
    }
    variance = await csv_rows(api, "/reports/budget-variance", year="2025", as_of="2025-02-10")
    assert variance[-1]["actual_cents"] == "16201"
    answers = await csv_rows(api, "/reports/decision-support", **JAN, as_of="2025-02-10")
    assert {"question": "equipment_payback_months", "subject": "ECG cart", "answer": "1"}.items() <= answers[
        0
    ].items()


async def finance_snapshot(api: httpx.AsyncClient) -> list[Any]:
    taken: list[Any] = []
    queries: list[tuple[str, dict[str, Any]]] = [
        *(
            ("/reports/profitability", {**JAN, "group_by": g})
            for g in ("cost_center", "payer", "provider", "code")
        ),
        ("/reports/cost-to-collect", JAN),
        ("/reports/budget-variance", {"year": 2025}),
        ("/reports/decision-support", JAN),
    ]
    for as_of in ("2025-01-31", "2025-02-10"):
        for path, params in queries:
            taken.append(await get(api, path, **params, as_of=as_of))
    taken.append((await api.get("/dashboard", params={"as_of": "2025-03-31"})).text)
    return taken


async def test_rebuilding_from_the_topics_changes_no_finance_report(svc: ServiceHarness) -> None:
    api = svc.client(["finance"])
    before = await finance_snapshot(api)
    for consumer in svc.consumers:
        await consumer.stop()
    replayed = await rebuild(svc.runtime)
    # Each record is read once: the revenue subscription reads only the topics of the events it
    # reports on (not finance's), the finance subscription reads finance's.
    published = sum(len(events) for _, events in HISTORY) + 1
    assert replayed == published
    assert await finance_snapshot(api) == before


async def test_the_dashboard_shows_the_p_and_l_in_a_real_browser(svc: ServiceHarness) -> None:
    from playwright.async_api import async_playwright

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(svc.app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 2400})
                failed: list[str] = []
                page.on("requestfailed", lambda request: failed.append(request.url))
                page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
                token = svc.token(["finance"])
                await page.goto(f"http://127.0.0.1:{port}/?as_of=2025-02-10#token={token}")
                await page.wait_for_selector("body[data-loaded=yes]", timeout=15_000)
                box = await page.locator('svg[data-chart="pnl"]').bounding_box()
                assert box is not None and box["width"] > 100 and box["height"] > 100
                # Twelve months to Feb 2025, three series: net revenue, expense, margin.
                assert await page.locator('svg[data-chart="pnl"] polyline').count() == 3
                assert await page.locator('svg[data-chart="pnl"] circle').count() == 3 * 12
                total = page.locator('[data-card="profitability"] tr[data-row="total"] td')
                # Mar 1, 2024 - Feb 10, 2025: January's $310.00 revenue and $142.01 of expense (Feb's
                # depreciation is incurred on Feb 28, after the window).
                assert await total.nth(1).inner_text() == "$310.00"
                assert await total.nth(2).inner_text() == "$142.01"
                assert await total.nth(3).inner_text() == "$167.99"
                answers = await page.locator('[data-card="decisions"] li').all_inner_texts()
                assert answers[0].startswith("ECG cart: pays back in 1 month ($2,400.00 a month")
                assert "Losing money: no service line, department or payer" in answers
                assert failed == []
            finally:
                await browser.close()
    finally:
        server.should_exit = True
        await task
        listener.close()


async def test_expenses_recorded_through_finance_reach_every_report_and_a_reversal_changes_them(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    """Finance's own API, its relay and Kafka, reporting's consumers: recorded today for last month."""
    today = datetime.now(UTC).date()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    window = {"from": last_month_end.replace(day=1).isoformat(), "to": last_month_end.isoformat()}
    async with (
        ServiceHarness.start(
            FINANCE, f"{database_url}_fin", kafka_bootstrap, topic_prefix, tmp_path / "f"
        ) as fin,
        ServiceHarness.start(SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path / "r") as rep,
    ):
        books = fin.client(["finance"])
        for code, kind in (("FAM", "department"), ("ADMIN", "overhead")):
            assert (
                await books.post("/cost-centers", json={"code": code, "name": code, "kind": kind})
            ).status_code == 201
        header = "incurred_on,amount_cents,category,cost_center,vendor,memo\n"
        day = last_month_end.isoformat()
        bad = header + f"{day},1000,supplies,FAM,,\n{day},100,clearinghouse_fees,NOPE,,\n"
        assert (
            await books.post("/expenses/import", content=bad, headers={"Content-Type": "text/csv"})
        ).status_code == 422
        good = header + f"{day},1000,supplies,FAM,,\n{day},250,clearinghouse_fees,ADMIN,Availity,\n"
        imported = await books.post("/expenses/import", content=good, headers={"Content-Type": "text/csv"})
        assert imported.status_code == 201, imported.text
        fee_id = imported.json()["expense_ids"][1]
        await fin.published()
        await rep.drain()

        api = rep.client(["finance"])
        yesterday = (today - timedelta(days=1)).isoformat()
        # As of yesterday nothing was recorded yet; as of today both lines (the bad file stored nothing).
        assert (await get(api, "/reports/profitability", **window, as_of=yesterday))["totals"][
            "expense_cents"
        ] == 0
        now = await get(api, "/reports/profitability", **window, as_of=today.isoformat())
        assert now["totals"]["expense_cents"] == 1250
        assert (await get(api, "/reports/cost-to-collect", **window))["totals"][
            "revenue_cycle_cost_cents"
        ] == 250
        year = await get(api, "/reports/budget-variance", year=last_month_end.year)
        assert year["totals"]["actual_cents"] == 1250

        reversal = await books.post(f"/expenses/{fee_id}/reversal", json={"reason": "duplicate"})
        assert reversal.status_code == 201, reversal.text
        await fin.published()
        await rep.drain()
        assert (await get(api, "/reports/profitability", **window))["totals"]["expense_cents"] == 1000
        assert (await get(api, "/reports/cost-to-collect", **window))["totals"][
            "revenue_cycle_cost_cents"
        ] == 0
        assert (await get(api, "/reports/budget-variance", year=last_month_end.year))["totals"][
            "actual_cents"
        ] == 1000
