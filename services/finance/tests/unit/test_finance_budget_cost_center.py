"""Budgets and cost centres."""

from __future__ import annotations

import pytest

from billing_events.contracts.finance import (
    BudgetLine,
    BudgetSet,
    CostCenterOpened,
    CostCenterProvidersAssigned,
)
from finance.domain.budget import BudgetInput, SetBudget, budget
from finance.domain.cost_center import AssignProviders, OpenCostCenter, cost_center
from finance.domain.errors import AlreadyExists, InvalidInput, NotFound
from finance.domain.values import CostCenterRef

CENTERS = {"CARD": CostCenterRef("cc-card", "CARD", "department")}


def test_a_budget_holds_one_line_per_cost_centre_and_month_and_setting_it_again_changes_nothing() -> None:
    command = SetBudget("b-2025", 2025, (BudgetInput("CARD", 2, 500), BudgetInput("CARD", 1, 400)), CENTERS)
    events = budget.decide(command, budget.initial)
    assert events == [
        BudgetSet(
            budget_id="b-2025",
            year=2025,
            rows=(
                BudgetLine(cost_center_id="cc-card", cost_center_code="CARD", month=1, amount_cents=400),
                BudgetLine(cost_center_id="cc-card", cost_center_code="CARD", month=2, amount_cents=500),
            ),
        )
    ]
    assert budget.decide(command, budget.fold(events)) == []


def test_a_budget_refuses_bad_months_unknown_centres_and_duplicates() -> None:
    rows = (
        BudgetInput("CARD", 13, 1),
        BudgetInput("NOPE", 1, 1),
        BudgetInput("CARD", 1, -1),
        BudgetInput("CARD", 2, 1),
        BudgetInput("CARD", 2, 1),
    )
    with pytest.raises(InvalidInput) as refused:
        budget.decide(SetBudget("b", 2025, rows, CENTERS), budget.initial)
    assert [i.field for i in refused.value.issues] == [
        "rows.0.month",
        "rows.1.cost_center",
        "rows.2.amount_cents",
        "rows.4.month",
    ]


def test_a_cost_centre_opens_once_with_a_unique_code() -> None:
    command = OpenCostCenter("cc-1", "CARD", "Cardiology", "department", ("prov-1",))
    events = cost_center.decide(command, cost_center.initial)
    assert events == [
        CostCenterOpened(
            cost_center_id="cc-1", code="CARD", name="Cardiology", kind="department", provider_ids=("prov-1",)
        )
    ]
    with pytest.raises(AlreadyExists):
        cost_center.decide(command, cost_center.fold(events))
    with pytest.raises(AlreadyExists):
        cost_center.decide(
            OpenCostCenter("cc-2", "CARD", "Again", "department", code_taken=True), cost_center.initial
        )


def test_an_overhead_centre_has_no_providers_and_a_kind_is_required() -> None:
    with pytest.raises(InvalidInput) as refused:
        cost_center.decide(
            OpenCostCenter("cc-1", "ADM", "Admin", "overhead", ("prov-1",)), cost_center.initial
        )
    assert [i.field for i in refused.value.issues] == ["provider_ids"]
    with pytest.raises(InvalidInput):
        cost_center.decide(OpenCostCenter("cc-1", "ADM", "Admin", "shop"), cost_center.initial)


def test_a_cost_centres_providers_are_replaced_as_a_whole_and_only_when_they_change() -> None:
    opened = cost_center.fold(
        cost_center.decide(
            OpenCostCenter("cc-1", "CARD", "Cardiology", "department", ("a",)), cost_center.initial
        )
    )
    events = cost_center.decide(AssignProviders(("a", "b", "a")), opened)
    assert events == [
        CostCenterProvidersAssigned(cost_center_id="cc-1", code="CARD", provider_ids=("a", "b"))
    ]
    assert cost_center.decide(AssignProviders(("a", "b")), cost_center.fold(events, opened)) == []
    with pytest.raises(NotFound):
        cost_center.decide(AssignProviders(("a",)), cost_center.initial)
    overhead = cost_center.fold(
        cost_center.decide(OpenCostCenter("cc-2", "ADM", "Admin", "overhead"), cost_center.initial)
    )
    with pytest.raises(InvalidInput):
        cost_center.decide(AssignProviders(("a",)), overhead)
