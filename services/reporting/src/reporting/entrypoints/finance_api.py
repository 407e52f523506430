"""The finance reports: profitability, cost to collect, budget variance and decision support, as
JSON or CSV (`Accept: text/csv`), for the roles finance, biller, auditor and admin.

`as_of` (default today) is what the platform knew at the end of that day: an expense recorded later,
even for a day inside the window, is not in a report as of an earlier day (as the A/R report works).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from billing_service.auth import Principal, Role, require
from billing_service.problems import FieldError, invalid
from billing_service.runtime import runtime_of
from reporting.adapters.finance_projections import FinanceFactsReader
from reporting.application import finance_reports, reports
from reporting.application.finance_reports import Sources
from reporting.domain.profitability import Basis, ProfitGroupBy
from reporting.entrypoints import finance_formats
from reporting.entrypoints.api import (
    CSV_RESPONSE,
    MAX_RANGE_DAYS,
    NO_STORE,
    Day,
    _csv,
    _range,
    _source,
    _today,
    wants_csv,
)
from reporting.settings import reporting_settings

router = APIRouter()

FinanceReader = Annotated[Principal, Depends(require(Role.FINANCE, Role.BILLER, Role.AUDITOR, Role.ADMIN))]
# Days within 1900-9998 like every report's (api.Day): the windows around them stay within Python's dates.
From = Annotated[Day | None, Query(alias="from", description="first day; default 12 months back")]
To = Annotated[Day | None, Query(alias="to", description="last day, included; default today")]
AsOf = Annotated[Day | None, Query(description="as known at the end of this day; default today")]


def sources(request: Request) -> Sources:
    return Sources(_source(request), FinanceFactsReader(runtime_of(request).pool, reporting_settings().zone))


def _window(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or _today()
    return _range(start, end, reports.months_back(end, reports.DASHBOARD_MONTHS), MAX_RANGE_DAYS)


@router.get("/reports/profitability", responses=CSV_RESPONSE, summary="Net revenue, expense and margin")
async def profitability(
    request: Request,
    principal: FinanceReader,
    start: From = None,
    end: To = None,
    group_by: ProfitGroupBy = "cost_center",
    as_of: AsOf = None,
    basis: Annotated[Basis, Query(description="how overhead is allocated; default charges")] = "charges",
) -> Response:
    start, end = _window(start, end)
    day = as_of or _today()
    report = await finance_reports.profitability_report(
        sources(request), principal.tenant, start, end, group_by, day, basis
    )
    if wants_csv(request):
        return _csv(
            finance_formats.profitability_csv(report),
            f"profitability-{group_by}-{start.isoformat()}-{end.isoformat()}.csv",
        )
    return JSONResponse(finance_formats.profitability_json(report), headers=NO_STORE)


@router.get("/reports/cost-to-collect", responses=CSV_RESPONSE, summary="HFMA MAP key: cost to collect")
async def cost_to_collect(
    request: Request, principal: FinanceReader, start: From = None, end: To = None, as_of: AsOf = None
) -> Response:
    start, end = _window(start, end)
    day = as_of or _today()
    report = await finance_reports.cost_to_collect_report(sources(request), principal.tenant, start, end, day)
    if wants_csv(request):
        return _csv(
            finance_formats.cost_to_collect_csv(report),
            f"cost-to-collect-{start.isoformat()}-{end.isoformat()}.csv",
        )
    return JSONResponse(finance_formats.cost_to_collect_json(report), headers=NO_STORE)


@router.get("/reports/budget-variance", responses=CSV_RESPONSE, summary="Budget against actual")
async def budget_variance(
    request: Request,
    principal: FinanceReader,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="default: this year")] = None,
    as_of: AsOf = None,
) -> Response:
    day = as_of or _today()
    chosen = year or day.year
    report = await finance_reports.budget_variance_report(sources(request), principal.tenant, chosen, day)
    if wants_csv(request):
        return _csv(finance_formats.budget_variance_csv(report), f"budget-variance-{chosen}.csv")
    return JSONResponse(finance_formats.budget_variance_json(report), headers=NO_STORE)


@router.get("/reports/decision-support", responses=CSV_RESPONSE, summary="Payback, FTE cost, losers")
async def decision_support(
    request: Request, principal: FinanceReader, start: From = None, end: To = None, as_of: AsOf = None
) -> Response:
    start, end = _window(start, end)
    day = as_of or _today()
    report = await finance_reports.decision_report(sources(request), principal.tenant, start, end, day)
    if wants_csv(request):
        return _csv(
            finance_formats.decisions_csv(report),
            f"decision-support-{start.isoformat()}-{end.isoformat()}.csv",
        )
    return JSONResponse(finance_formats.decisions_json(report), headers=NO_STORE)


@router.get("/reports/equipment-payback", summary="What a piece of equipment would pay back (what-if)")
async def equipment_payback(
    request: Request,
    principal: FinanceReader,
    code: Annotated[str, Query(min_length=1, max_length=16, description="the code it performs")],
    cost_cents: Annotated[int, Query(ge=1)],
    useful_life_months: Annotated[int, Query(ge=1, le=600)],
    monthly_volume: Annotated[int, Query(ge=1)],
    start: From = None,
    end: To = None,
    as_of: AsOf = None,
) -> Any:
    start, end = _window(start, end)
    if not code.strip():
        raise invalid([FieldError("code", "is required")])
    result = await finance_reports.what_if_payback(
        sources(request),
        principal.tenant,
        start,
        end,
        as_of or _today(),
        code=code.strip(),
        cost_cents=cost_cents,
        life=useful_life_months,
        volume=monthly_volume,
    )
    return JSONResponse(finance_formats.payback_json(result), headers=NO_STORE)
