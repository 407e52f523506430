"""Finance's HTTP API (port 8006): cost centres, expenses (one, a GL CSV import, reversals), budgets,
capital assets. Roles finance and admin write and read; auditor reads.

Money is integer cents; an expense is never edited, only reversed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from billing_events.store import Session
from billing_service.auth import Principal, Role, require
from billing_service.commands import idempotent, metadata_from
from billing_service.pages import PageRequest
from billing_service.problems import FieldError, invalid, not_found
from billing_service.runtime import runtime_of
from finance.adapters.queries import EXPENSES, PostgresViews
from finance.application import handlers
from finance.application.handlers import CommandContext
from finance.domain.budget import BudgetInput
from finance.domain.expense import ExpenseInput
from finance.entrypoints.errors import domain_errors

router = APIRouter()
T = TypeVar("T")

Finance = Annotated[Principal, Depends(require(Role.FINANCE, Role.ADMIN))]
Reader = Annotated[Principal, Depends(require(Role.FINANCE, Role.ADMIN, Role.AUDITOR))]
Action = Callable[[CommandContext], Awaitable[tuple[int, dict[str, Any]]]]
MAX_CSV_BYTES = 20 * 1024 * 1024


class CostCenterIn(BaseModel):
    code: str | None = None
    name: str | None = None
    kind: str | None = Field(default=None, description="department | service_line | overhead")
    provider_ids: list[str] = Field(
        default_factory=list,
        description="providers whose encounters' revenue belongs here (by the invoice's rendering provider)",
    )


class ExpenseIn(BaseModel):
    incurred_on: str | None = None
    amount_cents: int | str | None = None
    category: str | None = Field(
        default=None,
        description="payroll | supplies | equipment | facilities | billing_operations | "
        "clearinghouse_fees | other",
    )
    cost_center: str | None = Field(default=None, description="the cost centre's code")
    vendor: str | None = None
    memo: str | None = None
    fte: str | int | None = Field(default=None, description="payroll only: full-time equivalents, e.g. 1.5")


class ReversalIn(BaseModel):
    reason: str | None = None


class BudgetRowIn(BaseModel):
    cost_center: str | None = None
    month: int | None = None
    amount_cents: int | str | None = None


class BudgetIn(BaseModel):
    rows: list[BudgetRowIn]


class AssetIn(BaseModel):
    name: str | None = None
    cost_cents: int | str | None = None
    acquired_on: str | None = None
    useful_life_months: int | None = None
    cost_center: str | None = None
    code: str | None = Field(default=None, description="the procedure code the equipment performs")
    monthly_volume: int | None = Field(default=None, description="expected procedures per month")


def _context(request: Request, principal: Principal, session: Session) -> CommandContext:
    return CommandContext(
        session=session,
        views=PostgresViews(session.connection),
        metadata=metadata_from(request, principal),
    )


async def _create(request: Request, principal: Principal, action: Action) -> JSONResponse:
    async def run(session: Session) -> tuple[int, dict[str, Any]]:
        with domain_errors():
            return await action(_context(request, principal, session))

    return await idempotent(request, principal, run)


async def _read(request: Request, query: Callable[[PostgresViews], Awaitable[T]]) -> T:
    async with runtime_of(request).store.session() as session:
        return await query(PostgresViews(session.connection))


def _json(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items() if k not in ("seq",)}
    return {k: v for k, v in out.items() if k not in ("tenant",)}


# cost centres


@router.post("/cost-centers", status_code=201, tags=["cost centres"])
async def open_cost_center(request: Request, body: CostCenterIn, principal: Finance) -> JSONResponse:
    async def action(ctx: CommandContext) -> tuple[int, dict[str, Any]]:
        cost_center_id = await handlers.open_cost_center(
            ctx, code=body.code, name=body.name, kind=body.kind, provider_ids=body.provider_ids
        )
        return 201, {"cost_center_id": cost_center_id}

    return await _create(request, principal, action)


class ProvidersIn(BaseModel):
    provider_ids: list[str]


@router.put("/cost-centers/{code}/providers", tags=["cost centres"])
async def assign_providers(
    request: Request, code: str, body: ProvidersIn, principal: Finance
) -> JSONResponse:
    """The providers whose encounters' revenue belongs to this cost centre from now on."""

    async def action(ctx: CommandContext) -> tuple[int, dict[str, Any]]:
        cost_center_id, changed = await handlers.assign_providers(ctx, code, body.provider_ids)
        return 200, {"cost_center_id": cost_center_id, "changed": changed}

    return await _create(request, principal, action)


@router.get("/cost-centers", tags=["cost centres"])
async def list_cost_centers(request: Request, principal: Reader) -> Any:
    rows = await _read(request, lambda views: views.cost_center_list(principal.tenant))
    return {"items": [_json(r) for r in rows], "next_cursor": None}


# expenses


@router.post("/expenses", status_code=201, tags=["expenses"])
async def record_expense(request: Request, body: ExpenseIn, principal: Finance) -> JSONResponse:
    async def action(ctx: CommandContext) -> tuple[int, dict[str, Any]]:
        given = ExpenseInput(
            body.incurred_on,
            body.amount_cents,
            body.category,
            body.cost_center,
            body.vendor,
            body.memo,
            body.fte,
        )
        return 201, {"expense_id": await handlers.record_expense(ctx, given)}

    return await _create(request, principal, action)


@router.post(
    "/expenses/import",
    status_code=201,
    tags=["expenses"],
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
    summary="A GL CSV export (incurred_on,amount_cents,category,cost_center,vendor,memo): all rows or none",
)
async def import_expenses(request: Request, principal: Finance) -> JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise invalid([FieldError("body", "is larger than 20 MiB; split the file")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid([FieldError("body", "must be UTF-8 text")]) from None

    async def action(ctx: CommandContext) -> tuple[int, dict[str, Any]]:
        import_id, expense_ids = await handlers.import_expenses(ctx, text)
        return 201, {"import_id": import_id, "expenses": len(expense_ids), "expense_ids": expense_ids}

    return await _create(request, principal, action)


@router.post("/expenses/{expense_id}/reversal", status_code=201, tags=["expenses"])
async def reverse_expense(
    request: Request, expense_id: str, principal: Finance, body: Annotated[ReversalIn, Body()]
) -> JSONResponse:
    async def action(ctx: CommandContext) -> tuple[int, dict[str, Any]]:
        await handlers.reverse_expense(ctx, expense_id, body.reason)
        return 201, {"expense_id": expense_id, "reversed": True}

    return await _create(request, principal, action)


@router.get("/expenses", tags=["expenses"])
async def list_expenses(
    request: Request,
    principal: Reader,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
    page: Annotated[PageRequest, Depends(EXPENSES.request)],
    cost_center: str | None = None,
) -> Any:
    found = await _read(
        request, lambda views: views.expenses(principal.tenant, start, end, cost_center, page)
    )
    return found.map(_json).as_json()


@router.get("/expenses/{expense_id}", tags=["expenses"])
async def get_expense(request: Request, expense_id: str, principal: Reader) -> Any:
    row = await _read(request, lambda views: views.expense(principal.tenant, expense_id))
    if row is None:
        raise not_found("expense")
    return _json(row)


# budgets


BudgetYear = Annotated[int, Path(ge=1900, le=9998, description="the budget's calendar year")]


@router.put("/budgets/{year}", tags=["budgets"])
async def set_budget(request: Request, year: BudgetYear, body: BudgetIn, principal: Finance) -> JSONResponse:
    rows = [BudgetInput(r.cost_center, r.month, r.amount_cents) for r in body.rows]

    async def action(ctx: CommandContext) -> tuple[int, dict[str, Any]]:
        changed = await handlers.set_budget(ctx, year, rows)
        return 200, {"year": year, "changed": changed}

    return await _create(request, principal, action)


@router.get("/budgets/{year}", tags=["budgets"])
async def get_budget(request: Request, year: BudgetYear, principal: Reader) -> Any:
    row = await _read(request, lambda views: views.budget(principal.tenant, year))
    return {"year": year, "rows": row["rows"] if row else []}


# capital assets


@router.post("/assets", status_code=201, tags=["assets"])
async def acquire_asset(request: Request, body: AssetIn, principal: Finance) -> JSONResponse:
    async def action(ctx: CommandContext) -> tuple[int, dict[str, Any]]:
        asset_id, months = await handlers.acquire_asset(ctx, body.model_dump())
        return 201, {"asset_id": asset_id, "depreciation_months": months}

    return await _create(request, principal, action)


@router.get("/assets", tags=["assets"])
async def list_assets(request: Request, principal: Reader) -> Any:
    rows = await _read(request, lambda views: views.assets(principal.tenant))
    return {"items": [_json(r) for r in rows], "next_cursor": None}
