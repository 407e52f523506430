"""The facts of finance's topics: cost centres, expenses (a reversal is an entry of negated amounts
on the reversed expense's day), budgets and capital assets, each stamped with when it was recorded.

As with the revenue facts, a report "as of D" sees only what was recorded by the end of D: an expense
entered later for an earlier month does not change a report as of a day before it was entered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import TypeVar

from reporting.domain.facts import Stamp

REVENUE_CYCLE_CATEGORIES = ("billing_operations", "clearinghouse_fees")


@dataclass(frozen=True)
class CostCenter:
    cost_center_id: str
    code: str
    name: str
    kind: str  # department | service_line | overhead
    provider_ids: tuple[str, ...]
    stamp: Stamp


@dataclass(frozen=True)
class ProviderAssignment:
    """A cost centre's providers from this fact on (replacing those it opened with)."""

    cost_center_id: str
    provider_ids: tuple[str, ...]
    stamp: Stamp


@dataclass(frozen=True)
class ExpenseEntry:
    expense_id: str
    cost_center_id: str
    category: str
    amount_cents: int  # negative for a reversal
    incurred_on: date
    fte_hundredths: int | None  # negative for a reversal of a payroll line with FTEs
    source: str
    reversal: bool
    stamp: Stamp


@dataclass(frozen=True)
class BudgetLine:
    cost_center_id: str
    month: int
    amount_cents: int


@dataclass(frozen=True)
class Budget:
    year: int
    lines: tuple[BudgetLine, ...]
    stamp: Stamp


@dataclass(frozen=True)
class Asset:
    asset_id: str
    name: str
    cost_cents: int
    acquired_on: date
    useful_life_months: int
    cost_center_id: str
    code: str | None
    monthly_volume: int | None
    stamp: Stamp


_T = TypeVar("_T", CostCenter, ProviderAssignment, ExpenseEntry, Budget, Asset)


@dataclass(frozen=True)
class FinanceFacts:
    cost_centers: tuple[CostCenter, ...] = ()
    expenses: tuple[ExpenseEntry, ...] = ()
    budgets: tuple[Budget, ...] = ()
    assets: tuple[Asset, ...] = ()
    assignments: tuple[ProviderAssignment, ...] = ()

    def known_on(self, day: date) -> FinanceFacts:
        def upto(items: Iterable[_T]) -> tuple[_T, ...]:
            return tuple(item for item in items if item.stamp.on <= day)

        return replace(
            self,
            cost_centers=upto(self.cost_centers),
            expenses=upto(self.expenses),
            budgets=upto(self.budgets),
            assets=upto(self.assets),
            assignments=upto(self.assignments),
        )

    def incurred(self, start: date, end: date) -> list[ExpenseEntry]:
        return [e for e in self.expenses if start <= e.incurred_on <= end]

    def center(self, cost_center_id: str) -> CostCenter | None:
        return next((c for c in self.cost_centers if c.cost_center_id == cost_center_id), None)

    def budget(self, year: int) -> Budget | None:
        """The year's newest budget (a later BudgetSet replaces the whole year)."""
        of_year = [b for b in self.budgets if b.year == year]
        return max(of_year, key=lambda b: b.stamp) if of_year else None

    def provider_centers(self) -> dict[str, CostCenter]:
        """Which cost centre an encounter's revenue belongs to, by its rendering provider: a
        department before a service line, then the lowest code, when a provider is listed twice.
        A cost centre's newest provider assignment replaces the providers it opened with; as with
        every fact, a report as of an earlier day uses the assignment known then."""
        latest: dict[str, ProviderAssignment] = {}
        for assignment in sorted(self.assignments, key=lambda a: a.stamp):
            latest[assignment.cost_center_id] = assignment
        result: dict[str, CostCenter] = {}
        order = {"department": 0, "service_line": 1}
        for center in sorted(
            (c for c in self.cost_centers if c.kind in order), key=lambda c: (order[c.kind], c.code)
        ):
            assigned = latest.get(center.cost_center_id)
            for provider in assigned.provider_ids if assigned else center.provider_ids:
                result.setdefault(provider, center)
        return result
