"""The Budget aggregate: one year's planned spending per cost centre and month. Setting it again
replaces the whole year (the newest BudgetSet is the budget).

decide(SetBudget, state) -> [BudgetSet] or [] (the same budget again) or raises InvalidInput
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from billing_events.contracts.base import Event
from billing_events.contracts.finance import BudgetLine, BudgetSet
from billing_events.decider import Decider
from finance.domain.values import CostCenterRef, Issues


@dataclass(frozen=True)
class BudgetInput:
    cost_center: Any
    month: Any
    amount_cents: Any


@dataclass(frozen=True)
class SetBudget:
    budget_id: str
    year: int
    rows: tuple[BudgetInput, ...]
    cost_centers: dict[str, CostCenterRef]


@dataclass(frozen=True)
class BudgetState:
    rows: tuple[BudgetLine, ...] | None = None


def decide(command: SetBudget, state: BudgetState) -> Sequence[Event]:
    issues = Issues()
    if not 2000 <= command.year <= 2100:
        issues.add("year", "must be between 2000 and 2100")
    lines: dict[tuple[str, int], BudgetLine] = {}
    for index, row in enumerate(command.rows):
        issues.prefix = f"rows.{index}."
        center = issues.cost_center("cost_center", row.cost_center, command.cost_centers)
        month = row.month if isinstance(row.month, int) and not isinstance(row.month, bool) else None
        if month is None or not 1 <= month <= 12:
            issues.add("month", "must be a month number 1 to 12")
            month = None
        amount = issues.cents("amount_cents", row.amount_cents)
        if center and month and amount is not None:
            if (center.code, month) in lines:
                issues.add("month", "this cost centre and month appear twice")
            lines[(center.code, month)] = BudgetLine(
                cost_center_id=center.cost_center_id,
                cost_center_code=center.code,
                month=month,
                amount_cents=amount,
            )
    issues.raise_if_any()
    rows = tuple(sorted(lines.values(), key=lambda line: (line.cost_center_code, line.month)))
    if state.rows == rows:
        return []
    return [BudgetSet(budget_id=command.budget_id, year=command.year, rows=rows)]


def evolve(state: BudgetState, event: Event) -> BudgetState:
    if isinstance(event, BudgetSet):
        return BudgetState(rows=event.rows)
    return state


budget = Decider[SetBudget, BudgetState](BudgetState(), decide, evolve, "budget")
