"""Profitability, cost to collect, budget variance and decision support as JSON and CSV.

Money is integer cents in fields ending `_cents`; rates keep their numerator and denominator beside
a decimal percent string (half up), as the other reports do.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reporting.domain.budget_variance import BudgetVarianceReport, VarianceRow
from reporting.domain.cost_to_collect import CostToCollectReport, CostToCollectRow
from reporting.domain.decisions import Decisions, FteCost, Payback
from reporting.domain.profitability import ProfitabilityReport, ProfitRow
from reporting.entrypoints.formats import decimal_text, ratio_json, to_csv

# Profitability -------------------------------------------------------------------------------------


def _profit_row(row: ProfitRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "label": row.label,
        "kind": row.kind,
        "net_charges_cents": row.net_charges_cents,
        "net_revenue_cents": row.net_revenue_cents,
        "direct_expense_cents": row.direct_expense_cents,
        "allocated_expense_cents": row.allocated_expense_cents,
        "expense_cents": row.expense_cents,
        "margin_cents": row.margin_cents,
        "margin_percent": decimal_text(row.margin.percent),
    }


def profitability_json(report: ProfitabilityReport) -> dict[str, Any]:
    return {
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "as_of": report.as_of.isoformat(),
        "group_by": report.group_by,
        "allocation_basis": report.basis,
        "rows": [_profit_row(row) for row in report.rows],
        "totals": {
            "net_revenue_cents": report.net_revenue_cents,
            "expense_cents": report.expense_cents,
            "margin_cents": report.margin_cents,
            "margin_percent": decimal_text(report.margin.percent),
        },
        "allocations": [
            {
                "cost_center_id": a.cost_center_id,
                "label": a.label,
                "spent_cents": a.spent_cents,
                "allocated_cents": a.allocated_cents,
                "to": [{"key": key, "cents": cents} for key, cents in a.to],
            }
            for a in report.allocations
        ],
    }


PROFIT_COLUMNS = (
    "key",
    "label",
    "kind",
    "net_charges_cents",
    "net_revenue_cents",
    "direct_expense_cents",
    "allocated_expense_cents",
    "expense_cents",
    "margin_cents",
    "margin_percent",
)


def profitability_csv(report: ProfitabilityReport) -> str:
    rows = [[_profit_row(row)[c] for c in PROFIT_COLUMNS] for row in report.rows]
    rows.append(
        [
            "total",
            "Total",
            None,
            sum(r.net_charges_cents for r in report.rows),
            report.net_revenue_cents,
            sum(r.direct_expense_cents for r in report.rows),
            sum(r.allocated_expense_cents for r in report.rows),
            report.expense_cents,
            report.margin_cents,
            decimal_text(report.margin.percent),
        ]
    )
    return to_csv(PROFIT_COLUMNS, rows)


# Cost to collect -----------------------------------------------------------------------------------


def _ctc_row(row: CostToCollectRow) -> dict[str, Any]:
    return {
        "period": row.period,
        "revenue_cycle_cost_cents": row.cost_cents,
        "cash_collected_cents": row.cash_collected_cents,
        "cost_to_collect": ratio_json(row.ratio),
    }


def cost_to_collect_json(report: CostToCollectReport) -> dict[str, Any]:
    return {
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "as_of": report.as_of.isoformat(),
        "formula": "revenue-cycle cost (billing_operations + clearinghouse_fees) / cash collected",
        "by_category": [{"category": c, "cost_cents": cents} for c, cents in report.by_category],
        "months": [_ctc_row(row) for row in report.months],
        "totals": _ctc_row(report.total),
    }


def cost_to_collect_csv(report: CostToCollectReport) -> str:
    return to_csv(
        ("period", "revenue_cycle_cost_cents", "cash_collected_cents", "cost_to_collect_percent"),
        [
            [r.period, r.cost_cents, r.cash_collected_cents, decimal_text(r.ratio.percent)]
            for r in (*report.months, report.total)
        ],
    )


# Budget variance -----------------------------------------------------------------------------------


def _variance_row(row: VarianceRow) -> dict[str, Any]:
    return {
        "cost_center_id": row.cost_center_id,
        "cost_center": row.code,
        "name": row.name,
        "month": row.month,
        "budget_cents": row.budget_cents,
        "actual_cents": row.actual_cents,
        "variance_cents": row.variance_cents,
        "variance_percent": decimal_text(row.variance.percent),
    }


def budget_variance_json(report: BudgetVarianceReport) -> dict[str, Any]:
    return {
        "year": report.year,
        "as_of": report.as_of.isoformat(),
        "rows": [_variance_row(row) for row in report.rows],
        "cost_centers": [_variance_row(row) for row in report.centers],
        "totals": {
            "budget_cents": report.total_budget_cents,
            "actual_cents": report.total_actual_cents,
            "variance_cents": report.total_variance_cents,
        },
    }


VARIANCE_COLUMNS = (
    "cost_center",
    "name",
    "month",
    "budget_cents",
    "actual_cents",
    "variance_cents",
    "variance_percent",
)


def budget_variance_csv(report: BudgetVarianceReport) -> str:
    rows = [[_variance_row(row)[c] for c in VARIANCE_COLUMNS] for row in report.rows]
    rows.append(
        [
            "total",
            "Total",
            None,
            report.total_budget_cents,
            report.total_actual_cents,
            report.total_variance_cents,
            None,
        ]
    )
    return to_csv(VARIANCE_COLUMNS, rows)


# Decision support ----------------------------------------------------------------------------------


def payback_json(p: Payback) -> dict[str, Any]:
    return {
        "name": p.name,
        "code": p.code,
        "cost_cents": p.cost_cents,
        "useful_life_months": p.useful_life_months,
        "monthly_volume": p.monthly_volume,
        "units_observed": p.units_observed,
        "net_revenue_observed_cents": p.net_revenue_observed_cents,
        "contribution_per_unit_cents": p.contribution_per_unit_cents,
        "monthly_contribution_cents": p.monthly_contribution_cents,
        "payback_months": p.payback_months,
        "pays_back_within_life": p.pays_back_within_life,
    }


def fte_json(f: FteCost) -> dict[str, Any]:
    return {
        "payroll_with_fte_cents": f.payroll_cents,
        "fte_months": str(Decimal(f.fte_hundredths) / 100),
        "months": f.months,
        "encounters": f.encounters,
        "fte_month_cents": f.fte_month_cents,
        "one_more_fte_per_encounter_cents": f.per_encounter_cents,
    }


def decisions_json(d: Decisions) -> dict[str, Any]:
    return {
        "from": d.start.isoformat(),
        "to": d.end.isoformat(),
        "as_of": d.as_of.isoformat(),
        "equipment": [payback_json(p) for p in d.paybacks],
        "staffing": fte_json(d.fte),
        "losing_cost_centers": [_profit_row(r) for r in d.losing_cost_centers],
        "losing_payers": [_profit_row(r) for r in d.losing_payers],
    }


def decisions_csv(d: Decisions) -> str:
    """One line per answer: what it is about, the figure, and the figures it is made of."""
    rows: list[list[Any]] = []
    for p in d.paybacks:
        rows.append(
            ["equipment_payback_months", p.name, p.payback_months, p.monthly_contribution_cents, p.cost_cents]
        )
    rows.append(
        [
            "one_more_fte_per_encounter_cents",
            "staffing",
            d.fte.per_encounter_cents,
            d.fte.fte_month_cents,
            d.fte.encounters,
        ]
    )
    for r in d.losing_cost_centers:
        rows.append(
            ["losing_cost_center_margin_cents", r.label, r.margin_cents, r.net_revenue_cents, r.expense_cents]
        )
    for r in d.losing_payers:
        rows.append(
            ["losing_payer_margin_cents", r.label, r.margin_cents, r.net_revenue_cents, r.expense_cents]
        )
    return to_csv(("question", "subject", "answer", "basis_1", "basis_2"), rows)
