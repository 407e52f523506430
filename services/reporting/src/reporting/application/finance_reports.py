"""The finance report use cases: load the tenant's revenue and finance facts as known at the end of
the day asked for, compute."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from reporting.application.reports import DASHBOARD_MONTHS, FactsSource, months_back
from reporting.domain.budget_variance import BudgetVarianceReport, budget_variance
from reporting.domain.cost_to_collect import CostToCollectReport, cost_to_collect
from reporting.domain.decisions import Decisions, Payback, decisions, payback
from reporting.domain.finance_facts import FinanceFacts
from reporting.domain.profitability import (
    Basis,
    MonthPnl,
    ProfitabilityReport,
    ProfitGroupBy,
    monthly_pnl,
    profitability,
)


class FinanceSource(Protocol):
    async def load(self, tenant: str, known_on: date) -> FinanceFacts: ...


@dataclass(frozen=True)
class Sources:
    revenue: FactsSource
    finance: FinanceSource


async def profitability_report(
    sources: Sources,
    tenant: str,
    start: date,
    end: date,
    group_by: ProfitGroupBy,
    as_of: date,
    basis: Basis = "charges",
) -> ProfitabilityReport:
    facts = await sources.revenue.load(tenant, as_of)
    books = await sources.finance.load(tenant, as_of)
    return profitability(facts, books, start, end, group_by, as_of, basis)


async def cost_to_collect_report(
    sources: Sources, tenant: str, start: date, end: date, as_of: date
) -> CostToCollectReport:
    facts = await sources.revenue.load(tenant, as_of)
    return cost_to_collect(facts, await sources.finance.load(tenant, as_of), start, end, as_of)


async def budget_variance_report(
    sources: Sources, tenant: str, year: int, as_of: date
) -> BudgetVarianceReport:
    return budget_variance(await sources.finance.load(tenant, as_of), year, as_of)


async def decision_report(sources: Sources, tenant: str, start: date, end: date, as_of: date) -> Decisions:
    facts = await sources.revenue.load(tenant, as_of)
    return decisions(facts, await sources.finance.load(tenant, as_of), start, end, as_of)


async def what_if_payback(
    sources: Sources,
    tenant: str,
    start: date,
    end: date,
    as_of: date,
    *,
    code: str,
    cost_cents: int,
    life: int,
    volume: int,
) -> Payback:
    facts = (await sources.revenue.load(tenant, as_of)).known_on(as_of)
    return payback(
        facts, start, end, name="what-if", code=code, cost_cents=cost_cents, life=life, volume=volume
    )


@dataclass(frozen=True)
class FinanceBoard:
    """The dashboard's finance part: the last twelve months' P&L, the year's budget, the decisions."""

    start: date
    as_of: date
    months: list[MonthPnl]
    by_cost_center: ProfitabilityReport
    cost_to_collect: CostToCollectReport
    budget: BudgetVarianceReport
    decisions: Decisions


async def finance_board(sources: Sources, tenant: str, as_of: date) -> FinanceBoard:
    facts = await sources.revenue.load(tenant, as_of)
    books = await sources.finance.load(tenant, as_of)
    start = months_back(as_of, DASHBOARD_MONTHS)
    return FinanceBoard(
        start=start,
        as_of=as_of,
        months=monthly_pnl(facts, books, start, as_of, as_of),
        by_cost_center=profitability(facts, books, start, as_of, "cost_center", as_of),
        cost_to_collect=cost_to_collect(facts, books, start, as_of, as_of),
        budget=budget_variance(books, as_of.year, as_of),
        decisions=decisions(facts, books, start, as_of, as_of),
    )
