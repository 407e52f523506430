"""Finance's events: cost centres, expenses (and their reversals), budgets, capital assets.

Money is integer cents. An expense is never edited: a correction is an ExpenseReversed of the whole
expense (carrying what it reverses, so a consumer needs no lookup) and, if needed, a new expense.
Depreciation of an asset is recorded as one ExpenseRecorded per month of its useful life
(`source="depreciation"`, `asset_id` set), so every consumer of expenses sees it without knowing assets.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from billing_events.contracts.base import Event, event

SERVICE = "finance"

CostCenterKind = Literal["department", "service_line", "overhead"]
ExpenseCategory = Literal[
    "payroll",
    "supplies",
    "equipment",
    "facilities",
    "billing_operations",
    "clearinghouse_fees",
    "other",
]
ExpenseSource = Literal["manual", "import", "depreciation"]


@event(service=SERVICE, aggregate="cost-center", subject="cost_center_id")
class CostCenterOpened(Event):
    cost_center_id: str
    code: str
    name: str
    kind: CostCenterKind
    # Providers (registration's provider ids) whose encounters' revenue belongs to this cost centre:
    # an invoice maps to the cost centre of its rendering provider (see reporting's profitability).
    provider_ids: tuple[str, ...] = ()


@event(service=SERVICE, aggregate="cost-center", subject="cost_center_id")
class CostCenterProvidersAssigned(Event):
    """The cost centre's providers from now on (the whole list; it replaces the previous one)."""

    cost_center_id: str
    code: str
    provider_ids: tuple[str, ...]


@event(service=SERVICE, aggregate="expense", subject="expense_id")
class ExpenseRecorded(Event):
    expense_id: str
    cost_center_id: str
    cost_center_code: str
    category: ExpenseCategory
    amount_cents: int
    incurred_on: date
    vendor: str | None = None
    memo: str | None = None
    # Full-time equivalents a payroll line pays for (1.5 FTE = 150).
    fte_hundredths: int | None = None
    source: ExpenseSource = "manual"
    asset_id: str | None = None
    import_id: str | None = None


@event(service=SERVICE, aggregate="expense", subject="expense_id")
class ExpenseReversed(Event):
    expense_id: str
    cost_center_id: str
    cost_center_code: str
    category: ExpenseCategory
    # The reversed expense's amount (positive) and day: the reversal takes it back on that day.
    amount_cents: int
    incurred_on: date
    fte_hundredths: int | None = None
    reason: str


class BudgetLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    cost_center_id: str
    cost_center_code: str
    month: int
    amount_cents: int


@event(service=SERVICE, aggregate="budget", subject="budget_id")
class BudgetSet(Event):
    """The whole budget of a year; a later BudgetSet of the same year replaces it."""

    budget_id: str
    year: int
    rows: tuple[BudgetLine, ...]


@event(service=SERVICE, aggregate="asset", subject="asset_id")
class AssetAcquired(Event):
    asset_id: str
    name: str
    cost_cents: int
    acquired_on: date
    useful_life_months: int
    cost_center_id: str
    cost_center_code: str
    # What the equipment performs and how often (decision support: payback from observed reimbursement).
    code: str | None = None
    monthly_volume: int | None = None
