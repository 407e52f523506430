"""Profitability, cost to collect, budget variance and decision support over one small history whose
figures are worked out by hand below (never copied from the code's output).

January 2025 (all recorded in January unless said):
  INV-1 Dr Osler (FAM), Acme, 99213 $100.00: Acme pays $60, CO-45 $30; the patient pays $10.
  INV-2 Dr Lister (CARD), Blue, 93000 $300.00: Blue pays $200, CO-45 $50, OA-23 $10.
  Net charges $400, contractual $80, other $10 -> net revenue $310.00 (FAM $70, CARD $240).
  Expenses (recorded Jan 31): FAM payroll $40.00 (1.00 FTE); CARD supplies $50.00;
  ADMIN (overhead) facilities $30.01, billing operations $5.00, clearinghouse fees $2.50.
  Later: CARD's supplies reversed on Feb 5; FAM supplies $7.00 for Jan 15 recorded on Feb 3.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time
from decimal import Decimal

from reporting.domain.allocation import allocate
from reporting.domain.budget_variance import budget_variance
from reporting.domain.cost_to_collect import cost_to_collect
from reporting.domain.decisions import decisions, payback
from reporting.domain.facts import (
    Adjustment,
    ChargeLine,
    Facts,
    InsurancePosting,
    IssuedInvoice,
    PatientPayment,
    PostedLine,
    Stamp,
)
from reporting.domain.finance_facts import (
    Budget,
    BudgetLine,
    CostCenter,
    ExpenseEntry,
    FinanceFacts,
    ProviderAssignment,
)
from reporting.domain.profitability import profitability
from reporting.domain.revenue import revenue

_ids = itertools.count()
JAN1, JAN31 = date(2025, 1, 1), date(2025, 1, 31)


def stamp(day: date) -> Stamp:
    return Stamp(datetime.combine(day, time(12), UTC), 0, f"event-{next(_ids)}", day)


def invoice(number: int, day: date, code: str, cents: int, payer: str, provider: str) -> IssuedInvoice:
    return IssuedInvoice(
        f"inv-{number}",
        f"enc-{number}",
        1,
        day,
        "insurance",
        payer,
        "clinic",
        provider,
        cents,
        (ChargeLine(1, code, cents),),
        stamp(day),
    )


def posting(
    number: int, day: date, payer: str, paid: int, adjustments: tuple[Adjustment, ...]
) -> InsurancePosting:
    return InsurancePosting(
        f"inv-{number}",
        f"claim-{number}",
        payer,
        False,
        False,
        paid,
        sum(a.amount_cents for a in adjustments if a.group == "CO"),
        sum(a.amount_cents for a in adjustments if a.group not in ("CO", "PR")),
        0,
        day,
        (PostedLine(1, paid, adjustments),),
        stamp(day),
    )


FACTS = Facts(
    invoices=(
        invoice(1, date(2025, 1, 10), "99213", 10000, "acme", "osler"),
        invoice(2, date(2025, 1, 12), "93000", 30000, "blue", "lister"),
    ),
    insurance_postings=(
        posting(1, date(2025, 1, 20), "acme", 6000, (Adjustment("CO", "45", 3000),)),
        posting(
            2, date(2025, 1, 25), "blue", 20000, (Adjustment("CO", "45", 5000), Adjustment("OA", "23", 1000))
        ),
    ),
    patient_payments=(
        PatientPayment("pay-1", "inv-1", 1000, 1000, date(2025, 1, 28), stamp(date(2025, 1, 28))),
    ),
    payer_names={"acme": "Acme", "blue": "Blue"},
)


def center(code: str, kind: str, providers: tuple[str, ...] = ()) -> CostCenter:
    return CostCenter(f"cc-{code}", code, code.title(), kind, providers, stamp(date(2024, 12, 1)))


def expense(
    n: int,
    code: str,
    category: str,
    cents: int,
    *,
    on: date = JAN31,
    recorded: date = JAN31,
    fte: int | None = None,
) -> ExpenseEntry:
    return ExpenseEntry(
        f"exp-{n}", f"cc-{code}", category, cents, on, fte, "manual", cents < 0, stamp(recorded)
    )


BOOKS = FinanceFacts(
    cost_centers=(
        center("FAM", "department", ("osler",)),
        center("CARD", "service_line", ("lister",)),
        center("ADMIN", "overhead"),
    ),
    expenses=(
        expense(1, "FAM", "payroll", 4000, fte=100),
        expense(2, "CARD", "supplies", 5000),
        expense(3, "ADMIN", "facilities", 3001),
        expense(4, "ADMIN", "billing_operations", 500),
        expense(5, "ADMIN", "clearinghouse_fees", 250),
        expense(2, "CARD", "supplies", -5000, recorded=date(2025, 2, 5)),  # the reversal of exp-2
        expense(6, "FAM", "supplies", 700, on=date(2025, 1, 15), recorded=date(2025, 2, 3)),
    ),
    budgets=(
        Budget(2025, (BudgetLine("cc-FAM", 1, 9999),), stamp(date(2024, 12, 1))),  # replaced below
        Budget(
            2025,
            (BudgetLine("cc-FAM", 1, 5000), BudgetLine("cc-CARD", 1, 4000), BudgetLine("cc-CARD", 2, 4000)),
            stamp(date(2024, 12, 15)),
        ),
    ),
)


def test_allocation_sums_back_to_the_amount_by_largest_remainder() -> None:
    # 3751 by 1:3 -> 937.75 and 2813.25: floors 937 + 2813 = 3750, the odd cent to the larger remainder.
    assert allocate(3751, {"a": 10000, "b": 30000}) == {"a": 938, "b": 2813}
    assert allocate(-3751, {"a": 10000, "b": 30000}) == {"a": -938, "b": -2813}
    assert allocate(100, {"a": 0, "b": -5}) is None
    assert allocate(1, {"b": 1, "a": 1}) == {"a": 1, "b": 0}


def test_profitability_by_cost_centre_as_of_the_end_of_january() -> None:
    report = profitability(FACTS, BOOKS, JAN1, JAN31, "cost_center", JAN31)
    # Overhead $37.51 to FAM and CARD by net charges 1:3 -> $9.38 and $28.13.
    rows = {
        r.key: (r.net_revenue_cents, r.direct_expense_cents, r.allocated_expense_cents, r.margin_cents)
        for r in report.rows
    }
    assert rows == {
        "cc-FAM": (7000, 4000, 938, 7000 - 4000 - 938),
        "cc-CARD": (24000, 5000, 2813, 24000 - 5000 - 2813),
    }
    assert report.net_revenue_cents == 31000
    assert report.expense_cents == 4000 + 5000 + 3001 + 500 + 250
    assert report.margin_cents == 31000 - 12751
    assert sum(r.margin_cents for r in report.rows) == report.margin_cents
    (admin,) = report.allocations
    assert admin.spent_cents == admin.allocated_cents == 3751
    assert report.margin.percent == Decimal("58.87")  # 18249 / 31000 = 58.867...%


def test_net_revenue_equals_the_revenue_reports_rows_summed_for_every_grouping() -> None:
    for group_by in ("cost_center", "payer", "provider", "code"):
        report = profitability(FACTS, BOOKS, JAN1, JAN31, group_by, JAN31)
        rev = revenue(FACTS, JAN1, JAN31, "payer", "month")
        summed = sum(
            r.figures.net_charges_cents
            - r.figures.contractual_adjustments_cents
            - r.figures.other_adjustments_cents
            for r in rev.rows
        )
        assert report.net_revenue_cents == summed == sum(r.net_revenue_cents for r in report.rows) == 31000
        assert sum(r.expense_cents for r in report.rows) == report.expense_cents == 12751


def test_by_payer_every_expense_is_allocated_by_charges() -> None:
    report = profitability(FACTS, BOOKS, JAN1, JAN31, "payer", JAN31)
    # $127.51 by 1:3 -> 3187.75 / 9563.25: floors 3187 + 9563 = 12750, the odd cent to Acme.
    # Each cost centre is spread separately: FAM 4000 -> 1000/3000; CARD 5000 -> 1250/3750;
    # ADMIN 3751 -> 938/2813: Acme 3188, Blue 9563.
    rows = {r.key: (r.net_revenue_cents, r.expense_cents) for r in report.rows}
    assert rows == {"acme": (7000, 3188), "blue": (24000, 9563)}


def test_a_reversal_and_a_late_expense_change_the_report_only_from_the_day_they_were_recorded() -> None:
    early = profitability(FACTS, BOOKS, JAN1, JAN31, "cost_center", date(2025, 2, 2))
    late = profitability(FACTS, BOOKS, JAN1, JAN31, "cost_center", date(2025, 2, 10))
    assert early.expense_cents == 12751
    # The $50 supplies reversed (-5000) and the $7 recorded Feb 3 for Jan 15 (+700).
    assert late.expense_cents == 12751 - 5000 + 700
    card = next(r for r in late.rows if r.key == "cc-CARD")
    assert card.direct_expense_cents == 0


def test_cost_to_collect_is_revenue_cycle_cost_over_cash_collected() -> None:
    report = cost_to_collect(FACTS, BOOKS, JAN1, JAN31, JAN31)
    # $7.50 of billing operations and clearinghouse fees over $270 collected ($60 + $200 + $10).
    assert (report.total.cost_cents, report.total.cash_collected_cents) == (750, 27000)
    assert report.total.ratio.percent == Decimal("2.78")
    assert dict(report.by_category) == {"billing_operations": 500, "clearinghouse_fees": 250}


def test_budget_variance_per_cost_centre_and_month_uses_the_newest_budget() -> None:
    report = budget_variance(BOOKS, 2025, date(2025, 2, 10))
    rows = {(r.code, r.month): (r.budget_cents, r.actual_cents, r.variance_cents) for r in report.rows}
    assert rows == {
        ("ADMIN", 1): (0, 3751, -3751),
        ("CARD", 1): (4000, 0, 4000),  # $50 supplies, reversed
        ("CARD", 2): (4000, 0, 4000),
        ("FAM", 1): (5000, 4700, 300),  # payroll $40 + late supplies $7
    }
    assert (report.total_budget_cents, report.total_actual_cents, report.total_variance_cents) == (
        13000,
        8451,
        4549,
    )


def test_decision_support_answers_payback_fte_cost_and_losers() -> None:
    result = decisions(FACTS, BOOKS, JAN1, JAN31, JAN31)
    # One FTE-month costs $40.00; over one month and 2 encounters: $20.00 per encounter.
    assert (result.fte.fte_month_cents, result.fte.per_encounter_cents) == (4000, 2000)
    assert result.losing_cost_centers == () and result.losing_payers == ()
    # 93000 earned $300 - $50 - $10 = $240 on one line; 10 a month -> $2,400 a month; $5,000 -> 3 months.
    ecg = payback(FACTS, JAN1, JAN31, name="ECG", code="93000", cost_cents=500000, life=60, volume=10)
    assert (ecg.contribution_per_unit_cents, ecg.monthly_contribution_cents, ecg.payback_months) == (
        24000,
        240000,
        3,
    )
    assert ecg.pays_back_within_life


def test_a_cost_centre_spending_more_than_it_earns_is_a_loser() -> None:
    books = FinanceFacts(
        cost_centers=BOOKS.cost_centers, expenses=(expense(9, "FAM", "payroll", 9000, fte=200),)
    )
    result = decisions(FACTS, books, JAN1, JAN31, JAN31)
    assert [(r.key, r.margin_cents) for r in result.losing_cost_centers] == [("cc-FAM", 7000 - 9000)]


def test_overhead_can_be_allocated_by_encounters_instead_of_charges() -> None:
    report = profitability(FACTS, BOOKS, JAN1, JAN31, "cost_center", JAN31, basis="encounters")
    # One encounter each: ADMIN's $37.51 splits 1:1 -> 1875.5 each; the odd cent to the smaller key.
    allocated = {r.key: r.allocated_expense_cents for r in report.rows}
    assert allocated == {"cc-CARD": 1876, "cc-FAM": 1875}
    assert report.expense_cents == 12751
    by_code = profitability(FACTS, BOOKS, JAN1, JAN31, "code", JAN31, basis="encounters")
    assert sum(r.expense_cents for r in by_code.rows) == 12751


def test_a_provider_moved_to_another_cost_centre_moves_its_revenue_from_the_day_it_was_recorded() -> None:
    moved = ProviderAssignment("cc-FAM", ("osler", "lister"), stamp(date(2025, 2, 1)))
    emptied = ProviderAssignment("cc-CARD", (), stamp(date(2025, 2, 1)))
    books = FinanceFacts(cost_centers=BOOKS.cost_centers, assignments=(moved, emptied))
    before = profitability(FACTS, books, JAN1, JAN31, "cost_center", JAN31)
    after = profitability(FACTS, books, JAN1, JAN31, "cost_center", date(2025, 2, 1))
    assert {r.key: r.net_revenue_cents for r in before.rows} == {"cc-FAM": 7000, "cc-CARD": 24000}
    assert {r.key: r.net_revenue_cents for r in after.rows} == {"cc-FAM": 7000 + 24000}
