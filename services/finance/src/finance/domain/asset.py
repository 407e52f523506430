"""The Asset aggregate: a piece of capital equipment, depreciated monthly, straight line.

decide(AcquireAsset, state) -> [AssetAcquired] or raises InvalidInput / AlreadyExists
depreciation(asset) -> one ExpenseRecorded per month of its useful life (the handler appends each
to its own expense stream, so a month can be reversed like any expense).

Straight line in whole cents: cost // months each month, and the remainder's cents one each to the
first months, so the months always sum to the cost exactly. A month's depreciation is incurred on
the last day of that month, starting with the month of acquisition.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from billing_events.contracts.base import Event
from billing_events.contracts.finance import AssetAcquired, ExpenseRecorded
from billing_events.decider import Decider
from finance.domain.errors import AlreadyExists
from finance.domain.values import CostCenterRef, Issues

MAX_LIFE_MONTHS = 600


@dataclass(frozen=True)
class AcquireAsset:
    asset_id: str
    name: Any
    cost_cents: Any
    acquired_on: Any
    useful_life_months: Any
    cost_center: Any
    cost_centers: dict[str, CostCenterRef]
    code: Any = None
    monthly_volume: Any = None


@dataclass(frozen=True)
class AssetState:
    acquired: bool = False


def monthly_amounts(cost_cents: int, months: int) -> list[int]:
    """Straight-line shares that sum to `cost_cents` exactly (earlier months carry the odd cents)."""
    base, rest = divmod(cost_cents, months)
    return [base + (1 if i < rest else 0) for i in range(months)]


def month_ends(first: date, months: int) -> list[date]:
    result = []
    index = first.year * 12 + first.month - 1
    for i in range(months):
        year, month = divmod(index + i, 12)
        result.append(date(year, month + 1, calendar.monthrange(year, month + 1)[1]))
    return result


def decide(command: AcquireAsset, state: AssetState) -> Sequence[Event]:
    if state.acquired:
        raise AlreadyExists("asset")
    issues = Issues()
    name = issues.text("name", command.name, max_length=120, required=True)
    cost = issues.cents("cost_cents", command.cost_cents, allow_zero=False)
    acquired_on = issues.day("acquired_on", command.acquired_on)
    life = command.useful_life_months
    if isinstance(life, bool) or not isinstance(life, int) or not 1 <= life <= MAX_LIFE_MONTHS:
        issues.add("useful_life_months", f"must be a whole number of months, 1 to {MAX_LIFE_MONTHS}")
    center = issues.cost_center("cost_center", command.cost_center, command.cost_centers)
    code = issues.text("code", command.code, max_length=16)
    volume = command.monthly_volume
    if volume is not None and (isinstance(volume, bool) or not isinstance(volume, int) or volume < 1):
        issues.add("monthly_volume", "must be a whole number of procedures per month, at least 1")
    issues.raise_if_any()
    assert name and cost and acquired_on and center
    return [
        AssetAcquired(
            asset_id=command.asset_id,
            name=name,
            cost_cents=cost,
            acquired_on=acquired_on,
            useful_life_months=life,
            cost_center_id=center.cost_center_id,
            cost_center_code=center.code,
            code=code,
            monthly_volume=volume,
        )
    ]


def depreciation(asset: AssetAcquired, expense_id: Callable[[int], str]) -> list[ExpenseRecorded]:
    """The asset's monthly depreciation expenses; `expense_id(i)` names month i's expense."""
    amounts = monthly_amounts(asset.cost_cents, asset.useful_life_months)
    days = month_ends(asset.acquired_on, asset.useful_life_months)
    return [
        ExpenseRecorded(
            expense_id=expense_id(i),
            cost_center_id=asset.cost_center_id,
            cost_center_code=asset.cost_center_code,
            category="equipment",
            amount_cents=cents,
            incurred_on=day,
            memo=f"Depreciation of {asset.name}, month {i + 1} of {asset.useful_life_months}",
            source="depreciation",
            asset_id=asset.asset_id,
        )
        for i, (cents, day) in enumerate(zip(amounts, days, strict=True))
        if cents
    ]


def evolve(state: AssetState, event: Event) -> AssetState:
    if isinstance(event, AssetAcquired):
        return AssetState(acquired=True)
    return state


asset = Decider[AcquireAsset, AssetState](AssetState(), decide, evolve, "asset")
