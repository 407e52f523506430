"""The reporting API: reports as JSON, or CSV with `Accept: text/csv`, and the dashboard.

Every report is of the caller's tenant (the token's), for the roles biller, auditor, admin and finance. Days
are calendar days in the reporting time zone (REPORTING_TIMEZONE); "as of D" means as the platform
knew it at the end of D.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import AfterValidator

from billing_service.auth import Principal, Role, require
from billing_service.problems import FieldError, invalid
from billing_service.runtime import runtime_of
from reporting.adapters.finance_projections import FinanceFactsReader
from reporting.adapters.projections import FactsReader
from reporting.application import reports
from reporting.application.finance_reports import Sources, finance_board
from reporting.domain.facts import Facts
from reporting.domain.kpis import window_start
from reporting.domain.revenue import GroupBy, Period
from reporting.entrypoints import dashboard, finance_dashboard, formats
from reporting.settings import reporting_settings

router = APIRouter()

Reader = Annotated[Principal, Depends(require(Role.BILLER, Role.AUDITOR, Role.ADMIN, Role.FINANCE))]
MAX_DAILY_RANGE_DAYS = 731
MAX_RANGE_DAYS = 3660
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "The report; CSV with `Accept: text/csv`."}
}
NO_STORE = {"Cache-Control": "no-store"}
# Report days are refused outside these years: the windows around them (a day after, months or a KPI
# window before) must stay within Python's dates, or year 1 and 9999 become 500s.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def _within_years(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}")
    return day


Day = Annotated[date, AfterValidator(_within_years)]


class _Bounded:
    """A report's facts, refused with a 422 past REPORTING_MAX_FACTS instead of growing the pod."""

    def __init__(self, reader: FactsReader, field: str) -> None:
        self.reader = reader
        self.field = field  # the query parameter that sets the day the report reads up to

    async def load(self, tenant: str, known_on: date) -> Facts:
        try:
            return await self.reader.load(tenant, known_on)
        except reports.ReportTooLarge as too_large:
            raise invalid(
                [
                    FieldError(
                        self.field,
                        f"the report would read {too_large.facts} facts, more than the {too_large.limit} "
                        "one request may hold; ask for an earlier day",
                    )
                ],
                "The report is too large for one request.",
            ) from None


def _source(request: Request) -> _Bounded:
    settings = reporting_settings()
    field = "to" if "to" in request.query_params else "as_of"
    return _Bounded(FactsReader(runtime_of(request).pool, settings.zone, max_facts=settings.max_facts), field)


def _today() -> date:
    return datetime.now(reporting_settings().zone).date()


def wants_csv(request: Request) -> bool:
    """True when the Accept header asks for text/csv (with a quality above zero)."""
    for media_range in request.headers.get("accept", "").split(","):
        kind, *parameters = (part.strip() for part in media_range.split(";"))
        if kind.lower() != "text/csv":
            continue
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE},
    )


def _range(start: date | None, end: date, default_start: date, max_days: int) -> tuple[date, date]:
    start = start or default_start
    if start > end:
        raise invalid([FieldError("from", "must be on or before `to`")])
    if (end - start).days >= max_days:
        raise invalid([FieldError("from", f"the range may span at most {max_days} days")])
    return start, end


@router.get("/reports/ar-aging", responses=CSV_RESPONSE, summary="A/R aging as of a day")
async def ar_aging(
    request: Request,
    principal: Reader,
    as_of: Annotated[Day | None, Query(description="YYYY-MM-DD; default today")] = None,
) -> Response:
    day = as_of or _today()
    report = await reports.aging_report(_source(request), principal.tenant, day)
    if wants_csv(request):
        return _csv(formats.aging_csv(report), f"ar-aging-{day.isoformat()}.csv")
    return JSONResponse(formats.aging_json(report), headers=NO_STORE)


@router.get("/reports/ar-by-facility", responses=CSV_RESPONSE, summary="A/R by facility as of a day")
async def ar_by_facility(
    request: Request,
    principal: Reader,
    as_of: Annotated[Day | None, Query(description="YYYY-MM-DD; default today")] = None,
) -> Response:
    """What each facility's institutional invoices still owe; professional invoices are unassigned."""
    day = as_of or _today()
    rows = await reports.facility_ar_report(_source(request), principal.tenant, day)
    if wants_csv(request):
        return _csv(formats.facility_ar_csv(rows), f"ar-by-facility-{day.isoformat()}.csv")
    return JSONResponse(formats.facility_ar_json(rows), headers=NO_STORE)


@router.get("/reports/case-mix", responses=CSV_RESPONSE, summary="Case-mix index of a window's discharges")
async def case_mix(
    request: Request,
    principal: Reader,
    start: Annotated[Day | None, Query(alias="from", description="first day; default 12 months back")] = None,
    end: Annotated[Day | None, Query(alias="to", description="last day, included; default today")] = None,
) -> Response:
    """The mean MS-DRG relative weight of the inpatient stays discharged in the window."""
    end = end or _today()
    start, end = _range(start, end, reports.months_back(end, reports.DASHBOARD_MONTHS), MAX_RANGE_DAYS)
    report = await reports.case_mix_report(_source(request), principal.tenant, start, end)
    if wants_csv(request):
        return _csv(formats.case_mix_csv(report), f"case-mix-{start.isoformat()}-{end.isoformat()}.csv")
    return JSONResponse(formats.case_mix_json(report), headers=NO_STORE)


@router.get("/reports/revenue", responses=CSV_RESPONSE, summary="Charges, payments and adjustments")
async def revenue(
    request: Request,
    principal: Reader,
    start: Annotated[Day | None, Query(alias="from", description="first day; default 12 months back")] = None,
    end: Annotated[Day | None, Query(alias="to", description="last day, included; default today")] = None,
    group_by: GroupBy = "payer",
    period: Period = "month",
) -> Response:
    end = end or _today()
    start, end = _range(
        start,
        end,
        reports.months_back(end, reports.DASHBOARD_MONTHS),
        MAX_DAILY_RANGE_DAYS if period == "day" else MAX_RANGE_DAYS,
    )
    report = await reports.revenue_report(_source(request), principal.tenant, start, end, group_by, period)
    if wants_csv(request):
        return _csv(
            formats.revenue_csv(report), f"revenue-{group_by}-{start.isoformat()}-{end.isoformat()}.csv"
        )
    return JSONResponse(formats.revenue_json(report), headers=NO_STORE)


@router.get("/reports/denials", responses=CSV_RESPONSE, summary="Denial rates and top CARC reasons")
async def denials(
    request: Request,
    principal: Reader,
    start: Annotated[Day | None, Query(alias="from", description="default: the KPI window")] = None,
    end: Annotated[Day | None, Query(alias="to", description="last day, included; default today")] = None,
    top: Annotated[int, Query(ge=1, le=100, description="how many reasons")] = 10,
    view: Annotated[Literal["payers", "reasons"], Query(description="which table the CSV holds")] = "payers",
) -> Response:
    end = end or _today()
    start, end = _range(start, end, window_start(end, reporting_settings().kpi_window_days), MAX_RANGE_DAYS)
    report = await reports.denials_report(_source(request), principal.tenant, start, end)
    if wants_csv(request):
        return _csv(
            formats.denials_csv(report, view, top),
            f"denials-{view}-{start.isoformat()}-{end.isoformat()}.csv",
        )
    return JSONResponse(formats.denials_json(report, top), headers=NO_STORE)


@router.get("/reports/kpis", responses=CSV_RESPONSE, summary="Revenue-cycle KPIs")
async def kpis(
    request: Request,
    principal: Reader,
    as_of: Annotated[Day | None, Query(description="YYYY-MM-DD; default today")] = None,
    window_days: Annotated[int | None, Query(ge=1, le=MAX_RANGE_DAYS, description="default 90")] = None,
) -> Response:
    day = as_of or _today()
    window = window_days or reporting_settings().kpi_window_days
    report = await reports.kpi_report(_source(request), principal.tenant, day, window)
    if wants_csv(request):
        return _csv(formats.kpis_csv(report), f"kpis-{day.isoformat()}.csv")
    return JSONResponse(formats.kpis_json(report), headers=NO_STORE)


@router.get("/", response_class=HTMLResponse, summary="The dashboard page (holds no data itself)")
async def dashboard_page() -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    return HTMLResponse(
        dashboard.shell(nonce, _today()),
        headers={
            "Content-Security-Policy": dashboard.content_security_policy(nonce),
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            **NO_STORE,
        },
    )


@router.get("/dashboard", response_class=HTMLResponse, summary="The dashboard's tiles and charts (HTML)")
async def dashboard_content(
    request: Request,
    principal: Reader,
    as_of: Annotated[Day | None, Query(description="YYYY-MM-DD; default today")] = None,
) -> HTMLResponse:
    day = as_of or _today()
    board = await reports.dashboard(
        _source(request), principal.tenant, day, reporting_settings().kpi_window_days
    )
    sources = Sources(
        _source(request), FinanceFactsReader(runtime_of(request).pool, reporting_settings().zone)
    )
    finance = await finance_board(sources, principal.tenant, day)
    return HTMLResponse(
        dashboard.fragment(board) + finance_dashboard.fragment(finance),
        headers={"X-Content-Type-Options": "nosniff", **NO_STORE},
    )
