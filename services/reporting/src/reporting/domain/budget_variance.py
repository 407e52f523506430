"""Budget against actual per cost centre and month of a year.

    actual   = expenses incurred in the month (reversals included), as recorded by the end of as_of
    variance = budget - actual (positive: under budget); variance % = variance / budget

The budget is the year's newest BudgetSet known by the end of as_of.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from reporting.domain.finance_facts import FinanceFacts
from reporting.domain.measures import Ratio


@dataclass(frozen=True)
class VarianceRow:
    cost_center_id: str
    code: str
    name: str
    month: int  # 1-12; 0 in a cost centre's year total
    budget_cents: int
    actual_cents: int

    @property
    def variance_cents(self) -> int:
        return self.budget_cents - self.actual_cents

    @property
    def variance(self) -> Ratio:
        return Ratio(self.variance_cents, self.budget_cents)


@dataclass(frozen=True)
class BudgetVarianceReport:
    year: int
    as_of: date
    rows: tuple[VarianceRow, ...]  # per cost centre and month
    centers: tuple[VarianceRow, ...]  # per cost centre, the year (month 0)
    total_budget_cents: int
    total_actual_cents: int

    @property
    def total_variance_cents(self) -> int:
        return self.total_budget_cents - self.total_actual_cents


def budget_variance(finance: FinanceFacts, year: int, as_of: date) -> BudgetVarianceReport:
    books = finance.known_on(as_of)
    planned: dict[tuple[str, int], int] = defaultdict(int)
    budget = books.budget(year)
    for line in budget.lines if budget else ():
        planned[(line.cost_center_id, line.month)] += line.amount_cents
    actual: dict[tuple[str, int], int] = defaultdict(int)
    for entry in books.incurred(date(year, 1, 1), date(year, 12, 31)):
        actual[(entry.cost_center_id, entry.incurred_on.month)] += entry.amount_cents

    def described(center_id: str, month: int, budget_cents: int, actual_cents: int) -> VarianceRow:
        center = books.center(center_id)
        code, name = (center.code, center.name) if center else (center_id, center_id)
        return VarianceRow(center_id, code, name, month, budget_cents, actual_cents)

    rows = [
        described(center_id, month, planned.get((center_id, month), 0), actual.get((center_id, month), 0))
        for center_id, month in set(planned) | set(actual)
    ]
    rows.sort(key=lambda r: (r.code, r.month))
    centers: dict[str, list[VarianceRow]] = defaultdict(list)
    for row in rows:
        centers[row.cost_center_id].append(row)
    per_center = sorted(
        (
            described(center_id, 0, sum(r.budget_cents for r in items), sum(r.actual_cents for r in items))
            for center_id, items in centers.items()
        ),
        key=lambda r: r.code,
    )
    return BudgetVarianceReport(
        year=year,
        as_of=as_of,
        rows=tuple(rows),
        centers=tuple(per_center),
        total_budget_cents=sum(r.budget_cents for r in rows),
        total_actual_cents=sum(r.actual_cents for r in rows),
    )
