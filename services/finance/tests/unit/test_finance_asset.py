"""Capital assets: straight-line monthly depreciation in whole cents."""

from __future__ import annotations

from datetime import date

import pytest

from finance.domain.asset import AcquireAsset, asset, depreciation, monthly_amounts
from finance.domain.errors import InvalidInput
from finance.domain.values import CostCenterRef

CENTERS = {"IMG": CostCenterRef("cc-img", "IMG", "service_line")}


def acquire(**overrides: object) -> AcquireAsset:
    given = {
        "asset_id": "asset-1",
        "name": "Ultrasound",
        "cost_cents": 1_000_000,
        "acquired_on": "2025-01-15",
        "useful_life_months": 3,
        "cost_center": "IMG",
        "cost_centers": CENTERS,
        "code": "76700",
        "monthly_volume": 40,
    } | overrides
    return AcquireAsset(**given)  # type: ignore[arg-type]


def test_odd_cents_go_to_the_first_months_so_the_months_sum_to_the_cost() -> None:
    # $10,000.00 over 3 months: 333,333.33... -> 333,334 + 333,333 + 333,333 cents.
    assert monthly_amounts(1_000_000, 3) == [333_334, 333_333, 333_333]
    assert sum(monthly_amounts(123_457, 60)) == 123_457


def test_depreciation_is_one_expense_per_month_ending_each_month() -> None:
    (acquired,) = asset.decide(acquire(), asset.initial)
    months = depreciation(acquired, lambda i: f"dep-{i}")  # type: ignore[arg-type]
    assert [(e.incurred_on, e.amount_cents, e.category, e.source) for e in months] == [
        (date(2025, 1, 31), 333_334, "equipment", "depreciation"),
        (date(2025, 2, 28), 333_333, "equipment", "depreciation"),
        (date(2025, 3, 31), 333_333, "equipment", "depreciation"),
    ]
    assert {e.asset_id for e in months} == {"asset-1"}
    assert {e.cost_center_code for e in months} == {"IMG"}


def test_an_asset_needs_a_cost_a_life_and_a_known_cost_centre() -> None:
    with pytest.raises(InvalidInput) as refused:
        asset.decide(acquire(cost_cents=0, useful_life_months=0, cost_center="X"), asset.initial)
    assert sorted(i.field for i in refused.value.issues) == [
        "cost_center",
        "cost_cents",
        "useful_life_months",
    ]
