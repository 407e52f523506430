"""The report use cases: load the tenant's facts as known at the end of the day asked for, compute."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from reporting.domain.aging import AgingReport, ar_aging
from reporting.domain.denials import DenialsReport, denials
from reporting.domain.facts import Facts
from reporting.domain.hospital import CaseMix, FacilityBalance, ar_by_facility, case_mix
from reporting.domain.kpis import Kpis, kpis, window_start
from reporting.domain.revenue import GroupBy, Period, RevenueReport, revenue

DASHBOARD_MONTHS = 12


class FactsSource(Protocol):
    async def load(self, tenant: str, known_on: date) -> Facts: ...


class ReportTooLarge(Exception):
    """A report would read more facts than one request may hold in memory (REPORTING_MAX_FACTS):
    refused before any is read, so a tenant's long history never grows a pod past its limit."""

    def __init__(self, facts: int, limit: int) -> None:
        super().__init__(f"the report would read {facts} facts, more than the {limit} one request may")
        self.facts = facts
        self.limit = limit


async def aging_report(source: FactsSource, tenant: str, as_of: date) -> AgingReport:
    return ar_aging(await source.load(tenant, as_of), as_of)


async def revenue_report(
    source: FactsSource, tenant: str, start: date, end: date, group_by: GroupBy, period: Period
) -> RevenueReport:
    return revenue(await source.load(tenant, end), start, end, group_by, period)


async def case_mix_report(source: FactsSource, tenant: str, start: date, end: date) -> CaseMix:
    return case_mix(await source.load(tenant, end), start, end)


async def facility_ar_report(source: FactsSource, tenant: str, as_of: date) -> tuple[FacilityBalance, ...]:
    return ar_by_facility(await source.load(tenant, as_of), as_of)


async def denials_report(source: FactsSource, tenant: str, start: date, end: date) -> DenialsReport:
    return denials(await source.load(tenant, end), start, end)


async def kpi_report(source: FactsSource, tenant: str, as_of: date, window_days: int) -> Kpis:
    return kpis(await source.load(tenant, as_of), as_of, window_days)


@dataclass(frozen=True)
class Dashboard:
    tenant: str
    as_of: date
    aging: AgingReport
    revenue: RevenueReport  # by payer and month, the last twelve months
    denials: DenialsReport  # over the KPI window
    kpis: Kpis


def months_back(as_of: date, months: int) -> date:
    """The first day of the month `months - 1` months before `as_of`'s month."""
    index = as_of.year * 12 + as_of.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


async def dashboard(source: FactsSource, tenant: str, as_of: date, window_days: int) -> Dashboard:
    facts = await source.load(tenant, as_of)
    return Dashboard(
        tenant=tenant,
        as_of=as_of,
        aging=ar_aging(facts, as_of),
        revenue=revenue(facts, months_back(as_of, DASHBOARD_MONTHS), as_of, "payer", "month"),
        denials=denials(facts, window_start(as_of, window_days), as_of),
        kpis=kpis(facts, as_of, window_days),
    )
