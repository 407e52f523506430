"""Expenses: given events / when command / then events or the named refusal."""

from __future__ import annotations

from datetime import date

import pytest

from billing_events.contracts.finance import ExpenseRecorded, ExpenseReversed
from finance.domain.errors import AlreadyReversed, InvalidInput, NotFound
from finance.domain.expense import ExpenseInput, RecordExpense, ReverseExpense, expense
from finance.domain.values import CostCenterRef

CENTERS = {
    "CARD": CostCenterRef("cc-card", "CARD", "department"),
    "ADMIN": CostCenterRef("cc-admin", "ADMIN", "overhead"),
}


def record(**overrides: object) -> RecordExpense:
    given = {
        "incurred_on": "2025-03-31",
        "amount_cents": 1250000,
        "category": "payroll",
        "cost_center": "CARD",
        "vendor": "ADP",
        "memo": "March payroll",
        "fte": "2.5",
    } | overrides
    return RecordExpense("exp-1", ExpenseInput(**given), CENTERS)


def test_a_valid_expense_is_recorded_on_its_cost_centre_with_its_ftes() -> None:
    events = expense.decide(record(), expense.initial)
    assert events == [
        ExpenseRecorded(
            expense_id="exp-1",
            cost_center_id="cc-card",
            cost_center_code="CARD",
            category="payroll",
            amount_cents=1250000,
            incurred_on=date(2025, 3, 31),
            vendor="ADP",
            memo="March payroll",
            fte_hundredths=250,
        )
    ]


def test_every_broken_field_is_named_at_once() -> None:
    with pytest.raises(InvalidInput) as refused:
        expense.decide(
            record(incurred_on="2025-02-30", amount_cents=-5, category="food", cost_center="NOPE"),
            expense.initial,
        )
    assert sorted(i.field for i in refused.value.issues) == [
        "amount_cents",
        "category",
        "cost_center",
        "incurred_on",
    ]


@pytest.mark.parametrize("amount", ["12.50", "-100", "1e3", 12.5, None, ""])
def test_an_amount_must_be_whole_non_negative_cents(amount: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        expense.decide(record(amount_cents=amount), expense.initial)
    assert [i.field for i in refused.value.issues] == ["amount_cents"]


def test_only_payroll_carries_ftes() -> None:
    with pytest.raises(InvalidInput) as refused:
        expense.decide(record(category="supplies", fte="1"), expense.initial)
    assert [i.field for i in refused.value.issues] == ["fte"]


def test_a_reversal_takes_back_the_whole_expense_on_its_day() -> None:
    history = expense.decide(record(), expense.initial)
    state = expense.fold(history)
    events = expense.decide(ReverseExpense("exp-1", "booked twice"), state)
    assert events == [
        ExpenseReversed(
            expense_id="exp-1",
            cost_center_id="cc-card",
            cost_center_code="CARD",
            category="payroll",
            amount_cents=1250000,
            incurred_on=date(2025, 3, 31),
            fte_hundredths=250,
            reason="booked twice",
        )
    ]


def test_an_expense_is_reversed_once_and_only_if_it_exists() -> None:
    with pytest.raises(NotFound):
        expense.decide(ReverseExpense("exp-1", "x"), expense.initial)
    recorded = expense.fold(expense.decide(record(), expense.initial))
    reversed_ = expense.fold(expense.decide(ReverseExpense("exp-1", "x"), recorded), recorded)
    with pytest.raises(AlreadyReversed):
        expense.decide(ReverseExpense("exp-1", "again"), reversed_)


def test_a_reversal_needs_a_reason() -> None:
    recorded = expense.fold(expense.decide(record(), expense.initial))
    with pytest.raises(InvalidInput):
        expense.decide(ReverseExpense("exp-1", " "), recorded)
