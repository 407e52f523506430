"""Cost to collect, the HFMA MAP Key: total revenue-cycle cost / total patient service cash collected.

Revenue-cycle cost is every expense of the categories billing_operations and clearinghouse_fees
incurred in the window (reversals included); cash collected is the insurance and patient payments
the revenue report counts in the same window. Both as recorded by the end of `as_of`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from reporting.domain.facts import Facts
from reporting.domain.finance_facts import REVENUE_CYCLE_CATEGORIES, FinanceFacts
from reporting.domain.measures import Ratio
from reporting.domain.revenue import period_label, period_start, revenue


@dataclass(frozen=True)
class CostToCollectRow:
    period: str  # YYYY-MM, or "total"
    cost_cents: int
    cash_collected_cents: int

    @property
    def ratio(self) -> Ratio:
        return Ratio(self.cost_cents, self.cash_collected_cents)


@dataclass(frozen=True)
class CostToCollectReport:
    start: date
    end: date
    as_of: date
    by_category: tuple[tuple[str, int], ...]
    months: tuple[CostToCollectRow, ...]
    total: CostToCollectRow


def cost_to_collect(
    facts: Facts, finance: FinanceFacts, start: date, end: date, as_of: date
) -> CostToCollectReport:
    books = finance.known_on(as_of)
    cost: dict[str, int] = defaultdict(int)
    category: dict[str, int] = dict.fromkeys(REVENUE_CYCLE_CATEGORIES, 0)
    for entry in books.incurred(start, end):
        if entry.category in REVENUE_CYCLE_CATEGORIES:
            cost[period_label(period_start(entry.incurred_on, "month"), "month")] += entry.amount_cents
            category[entry.category] += entry.amount_cents
    cash: dict[str, int] = defaultdict(int)
    report = revenue(facts.known_on(as_of), start, end, "payer", "month")
    for row in report.rows:
        cash[row.period] += row.figures.payments_cents
    months = tuple(
        CostToCollectRow(month, cost.get(month, 0), cash.get(month, 0))
        for month in sorted(set(cost) | set(cash))
    )
    total = CostToCollectRow("total", sum(cost.values()), report.totals.payments_cents)
    return CostToCollectReport(start, end, as_of, tuple(category.items()), months, total)
