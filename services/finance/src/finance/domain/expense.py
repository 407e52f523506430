"""The Expense aggregate: one amount booked to a cost centre on a day. Never edited: a correction is
a reversal of the whole expense (and, if needed, a new one).

decide(RecordExpense, state)  -> [ExpenseRecorded]   or raises InvalidInput / AlreadyExists
decide(ReverseExpense, state) -> [ExpenseReversed]   or raises NotFound / AlreadyReversed / InvalidInput
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from billing_events.contracts.base import Event
from billing_events.contracts.finance import ExpenseRecorded, ExpenseReversed
from billing_events.decider import Decider
from finance.domain.errors import AlreadyExists, AlreadyReversed, NotFound
from finance.domain.values import CostCenterRef, Issues


@dataclass(frozen=True)
class ExpenseInput:
    """An expense as a person or a GL export gives it: raw values, checked by `checked_expense`."""

    incurred_on: Any
    amount_cents: Any
    category: Any
    cost_center: Any  # the cost centre's code
    vendor: Any = None
    memo: Any = None
    fte: Any = None


def checked_expense(
    expense_id: str,
    given: ExpenseInput,
    cost_centers: dict[str, CostCenterRef],
    issues: Issues,
    *,
    source: str = "manual",
    import_id: str | None = None,
) -> ExpenseRecorded | None:
    """The event of a valid expense, or None with every broken rule noted in `issues`."""
    before = len(issues.found)
    incurred_on = issues.day("incurred_on", given.incurred_on)
    amount = issues.cents("amount_cents", given.amount_cents)
    category = issues.category("category", given.category)
    center = issues.cost_center("cost_center", given.cost_center, cost_centers)
    vendor = issues.text("vendor", given.vendor, max_length=120)
    memo = issues.text("memo", given.memo, max_length=500)
    fte = issues.fte("fte", given.fte)
    if fte is not None and category not in (None, "payroll"):
        issues.add("fte", "only payroll lines carry FTEs")
    if len(issues.found) > before:
        return None
    assert incurred_on is not None and amount is not None and category and center
    return ExpenseRecorded(
        expense_id=expense_id,
        cost_center_id=center.cost_center_id,
        cost_center_code=center.code,
        category=category,
        amount_cents=amount,
        incurred_on=incurred_on,
        vendor=vendor,
        memo=memo,
        fte_hundredths=fte,
        source=source,
        import_id=import_id,
    )


@dataclass(frozen=True)
class RecordExpense:
    expense_id: str
    expense: ExpenseInput
    cost_centers: dict[str, CostCenterRef]


@dataclass(frozen=True)
class ReverseExpense:
    expense_id: str
    reason: str | None


@dataclass(frozen=True)
class RecordCheckedExpense:
    """An expense already checked as part of a whole (a GL file's line, an asset's depreciation month)."""

    event: ExpenseRecorded


@dataclass(frozen=True)
class ExpenseState:
    recorded: ExpenseRecorded | None = None
    reversed: bool = False
    reversed_on: date | None = None


def decide(
    command: RecordExpense | RecordCheckedExpense | ReverseExpense, state: ExpenseState
) -> Sequence[Event]:
    if isinstance(command, RecordCheckedExpense):
        if state.recorded is not None:
            raise AlreadyExists("expense")
        return [command.event]
    if isinstance(command, RecordExpense):
        if state.recorded is not None:
            raise AlreadyExists("expense")
        issues = Issues()
        event = checked_expense(command.expense_id, command.expense, command.cost_centers, issues)
        issues.raise_if_any()
        assert event is not None
        return [event]
    if state.recorded is None:
        raise NotFound("expense")
    if state.reversed:
        raise AlreadyReversed()
    issues = Issues()
    reason = issues.text("reason", command.reason, max_length=500, required=True)
    issues.raise_if_any()
    assert reason
    recorded = state.recorded
    return [
        ExpenseReversed(
            expense_id=recorded.expense_id,
            cost_center_id=recorded.cost_center_id,
            cost_center_code=recorded.cost_center_code,
            category=recorded.category,
            amount_cents=recorded.amount_cents,
            incurred_on=recorded.incurred_on,
            fte_hundredths=recorded.fte_hundredths,
            reason=reason,
        )
    ]


def evolve(state: ExpenseState, event: Event) -> ExpenseState:
    if isinstance(event, ExpenseRecorded):
        return ExpenseState(recorded=event)
    if isinstance(event, ExpenseReversed):
        return ExpenseState(recorded=state.recorded, reversed=True)
    return state


expense = Decider[RecordExpense | RecordCheckedExpense | ReverseExpense, ExpenseState](
    ExpenseState(), decide, evolve, "expense"
)
