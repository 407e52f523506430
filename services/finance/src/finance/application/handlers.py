"""Finance's commands: gather what a decision needs from the views, decide, append, update the views.

Each runs inside one transaction (the caller's Session, shared with the Idempotency-Key record). A GL
import appends every expense of the file in that one transaction: all lines are stored, or none.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from billing_events.contracts.finance import AssetAcquired
from billing_events.decider import Decider, Outcome, execute
from billing_events.envelope import Metadata
from billing_events.unit_of_work import UnitOfWork
from finance.application.ports import Views
from finance.domain import asset, budget, cost_center, expense, gl_import
from finance.domain.budget import BudgetInput
from finance.domain.errors import NotFound
from finance.domain.expense import ExpenseInput

C = TypeVar("C")
S = TypeVar("S")

# Budgets and depreciation months have ids derived from what they are, so that the same budget year
# or the same asset month is always the same stream.
_NAMESPACE = uuid.UUID("5b0f6f64-5d2e-4b57-9f0e-6c1f1c3f8a18")


@dataclass(frozen=True)
class CommandContext(UnitOfWork[Views]):
    """The unit of work (log and views in one transaction) and who acts."""

    metadata: Metadata

    @property
    def tenant(self) -> str:
        return self.metadata.tenant

    async def project(self, outcome: Outcome[Any]) -> None:
        """execute's projection hook: the views follow every appended event, in this transaction."""
        for envelope in outcome.appended:
            await self.views.apply(envelope)

    async def run(self, decider: Decider[C, S], stream_id: str, command: C) -> Outcome[S]:
        return await execute(self.session, decider, stream_id, command, self.metadata, project=self.project)


def new_id() -> str:
    return str(uuid.uuid4())


def budget_id(tenant: str, year: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{tenant}/budget/{year}"))


def depreciation_id(asset_id: str, month_index: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{asset_id}/depreciation/{month_index}"))


async def open_cost_center(
    ctx: CommandContext, *, code: str | None, name: str | None, kind: str | None, provider_ids: list[str]
) -> str:
    cost_center_id = new_id()
    taken = False
    if code and code.strip():
        await ctx.views.lock(ctx.tenant, "cost-center", code.strip())
        taken = code.strip() in await ctx.views.cost_centers(ctx.tenant)
    command = cost_center.OpenCostCenter(
        cost_center_id, code, name, kind, tuple(provider_ids), code_taken=taken
    )
    await ctx.run(cost_center.cost_center, cost_center_id, command)
    return cost_center_id


async def assign_providers(ctx: CommandContext, code: str, provider_ids: list[str]) -> tuple[str, bool]:
    """The cost centre's id, and whether its providers changed."""
    center = (await ctx.views.cost_centers(ctx.tenant)).get(code)
    if center is None:
        raise NotFound("cost centre")
    command = cost_center.AssignProviders(tuple(provider_ids))
    outcome = await ctx.run(cost_center.cost_center, center.cost_center_id, command)
    return center.cost_center_id, outcome.changed


async def record_expense(ctx: CommandContext, given: ExpenseInput) -> str:
    expense_id = new_id()
    centers = await ctx.views.cost_centers(ctx.tenant)
    await ctx.run(expense.expense, expense_id, expense.RecordExpense(expense_id, given, centers))
    return expense_id


async def reverse_expense(ctx: CommandContext, expense_id: str, reason: str | None) -> None:
    # Streams are global: an expense of another tenant does not exist for this one.
    if await ctx.views.expense(ctx.tenant, expense_id) is None:
        raise NotFound("expense")
    await ctx.run(expense.expense, expense_id, expense.ReverseExpense(expense_id, reason))


async def import_expenses(ctx: CommandContext, text: str) -> tuple[str, list[str]]:
    """All the file's expenses, each in its own new stream, in the caller's one transaction."""
    import_id = new_id()
    centers = await ctx.views.cost_centers(ctx.tenant)
    events = gl_import.parse_gl_csv(text, centers, new_id, import_id)
    for event in events:
        await ctx.run(expense.expense, event.expense_id, expense.RecordCheckedExpense(event))
    return import_id, [event.expense_id for event in events]


async def set_budget(ctx: CommandContext, year: int, rows: list[BudgetInput]) -> bool:
    """True when the budget changed."""
    stream = budget_id(ctx.tenant, year)
    centers = await ctx.views.cost_centers(ctx.tenant)
    outcome = await ctx.run(budget.budget, stream, budget.SetBudget(stream, year, tuple(rows), centers))
    return outcome.changed


async def acquire_asset(ctx: CommandContext, command_fields: dict[str, object]) -> tuple[str, int]:
    """The asset and its depreciation, one expense per month; returns its id and how many months."""
    asset_id = new_id()
    centers = await ctx.views.cost_centers(ctx.tenant)
    command = asset.AcquireAsset(asset_id=asset_id, cost_centers=centers, **command_fields)
    (envelope,) = (await ctx.run(asset.asset, asset_id, command)).appended
    acquired = envelope.event()
    assert isinstance(acquired, AssetAcquired)
    months = asset.depreciation(acquired, lambda i: depreciation_id(asset_id, i))
    for month in months:
        await ctx.run(expense.expense, month.expense_id, expense.RecordCheckedExpense(month))
    return asset_id, len(months)
