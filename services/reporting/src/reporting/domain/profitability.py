"""Profitability: net revenue against expense, by cost centre, payer, provider or procedure code.

    net revenue = net charges - contractual adjustments - other adjustments
                  (the revenue report's figures over the same window, summed over its rows)
    expense     = every expense incurred in the window (by its `incurred_on`), depreciation and
                  reversals included, as recorded by the end of `as_of`
    margin      = net revenue - expense, to the cent; margin % = margin / net revenue

Where revenue meets cost centres (group_by=cost_center): an encounter's revenue belongs to the cost
centre that lists the invoice's rendering provider (the revenue report's provider dimension); a
provider listed by none lands on "unassigned". Department and service-line cost centres carry their
own expenses directly; the expenses of overhead cost centres are allocated to them (and to
"unassigned") in proportion to their net charges in the window: the default basis, `charges`,
because every invoice has charges while RVUs are not on the platform and encounters weigh a
15-minute visit like a procedure. `basis=encounters` spreads by the encounters invoiced in the
window instead (by code: the lines billed with the code). For the other groupings every expense is
allocated that way.
When nothing in the window has positive net charges, the expense stays on an "unallocated" row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Literal

from reporting.domain.allocation import allocate
from reporting.domain.facts import UNASSIGNED, Facts
from reporting.domain.finance_facts import CostCenter, FinanceFacts
from reporting.domain.measures import Ratio
from reporting.domain.revenue import RevenueFigures, period_start, period_starts, revenue

ProfitGroupBy = Literal["cost_center", "payer", "provider", "code"]
Basis = Literal["charges", "encounters"]
UNALLOCATED = "unallocated"


def net_revenue_cents(figures: RevenueFigures) -> int:
    return figures.net_charges_cents - figures.contractual_adjustments_cents - figures.other_adjustments_cents


@dataclass(frozen=True)
class ProfitRow:
    key: str
    label: str
    kind: str | None  # the cost centre's kind (group_by=cost_center)
    net_charges_cents: int
    net_revenue_cents: int
    direct_expense_cents: int
    allocated_expense_cents: int

    @property
    def expense_cents(self) -> int:
        return self.direct_expense_cents + self.allocated_expense_cents

    @property
    def margin_cents(self) -> int:
        return self.net_revenue_cents - self.expense_cents

    @property
    def margin(self) -> Ratio:
        return Ratio(self.margin_cents, self.net_revenue_cents)


@dataclass(frozen=True)
class Allocation:
    """What one overhead cost centre spent in the window and where it went (sums back exactly)."""

    cost_center_id: str
    label: str
    spent_cents: int
    to: tuple[tuple[str, int], ...]  # (row key, cents)

    @property
    def allocated_cents(self) -> int:
        return sum(cents for _, cents in self.to)


@dataclass(frozen=True)
class ProfitabilityReport:
    start: date
    end: date
    as_of: date
    group_by: ProfitGroupBy
    basis: Basis
    rows: tuple[ProfitRow, ...]
    allocations: tuple[Allocation, ...]
    net_revenue_cents: int
    expense_cents: int

    @property
    def margin_cents(self) -> int:
        return self.net_revenue_cents - self.expense_cents

    @property
    def margin(self) -> Ratio:
        return Ratio(self.margin_cents, self.net_revenue_cents)


def encounter_weights(
    facts: Facts, start: date, end: date, group_by: ProfitGroupBy, centers: dict[str, CostCenter]
) -> dict[str, int]:
    """Encounters invoiced in the window (not voided) per group: by payer, provider or cost centre
    each encounter once; by code each line billed with the code."""
    voided = {v.invoice_id for v in facts.voids}
    invoices = [i for i in facts.invoices if start <= i.stamp.on <= end and i.invoice_id not in voided]
    counts: dict[str, int] = defaultdict(int)
    if group_by == "code":
        for invoice in invoices:
            for line in invoice.lines:
                counts[line.code] += 1
        return dict(counts)
    seen: dict[str, set[str]] = defaultdict(set)
    for invoice in invoices:
        if group_by == "payer":
            key = invoice.payer_key
        elif group_by == "provider":
            key = invoice.rendering_provider_id
        else:
            center = centers.get(invoice.rendering_provider_id)
            key = center.cost_center_id if center else UNASSIGNED
        seen[key].add(invoice.encounter_id)
    return {key: len(encounters) for key, encounters in seen.items()}


def profitability(
    facts: Facts,
    finance: FinanceFacts,
    start: date,
    end: date,
    group_by: ProfitGroupBy,
    as_of: date,
    basis: Basis = "charges",
) -> ProfitabilityReport:
    known, books = facts.known_on(as_of), finance.known_on(as_of)
    by = "provider" if group_by == "cost_center" else group_by
    report = revenue(known, start, end, by, "month")
    figures: dict[str, RevenueFigures] = defaultdict(RevenueFigures)
    labels: dict[str, str] = {}
    kinds: dict[str, str | None] = {}
    centers = books.provider_centers()
    for row in report.rows:
        key, label = row.group_key, row.group_label
        if group_by == "cost_center":
            center = centers.get(key)
            key, label = (center.cost_center_id, center.name) if center else (UNASSIGNED, "Unassigned")
            kinds[key] = center.kind if center else None
        figures[key] += row.figures
        labels[key] = label

    direct: dict[str, int] = defaultdict(int)
    overhead: dict[str, int] = defaultdict(int)
    for entry in books.incurred(start, end):
        center = books.center(entry.cost_center_id)
        if group_by == "cost_center" and center is not None and center.kind != "overhead":
            direct[center.cost_center_id] += entry.amount_cents
            labels.setdefault(center.cost_center_id, center.name)
            kinds.setdefault(center.cost_center_id, center.kind)
        else:
            overhead[entry.cost_center_id] += entry.amount_cents

    if basis == "charges":
        weights = {key: f.net_charges_cents for key, f in figures.items()}
    else:
        weights = encounter_weights(known, start, end, group_by, centers)
    allocated: dict[str, int] = defaultdict(int)
    allocations = []
    for center_id, spent in sorted(overhead.items()):
        center = books.center(center_id)
        shares = allocate(spent, weights) or {UNALLOCATED: spent}
        for key, cents in shares.items():
            allocated[key] += cents
        if UNALLOCATED in shares:
            labels[UNALLOCATED] = f"Unallocated (no {basis} in the window)"
            kinds[UNALLOCATED] = None
        allocations.append(
            Allocation(
                center_id,
                center.name if center else center_id,
                spent,
                tuple(sorted((k, c) for k, c in shares.items() if c)),
            )
        )

    keys = set(figures) | set(direct) | set(allocated)
    rows = [
        ProfitRow(
            key=key,
            label=labels.get(key, key),
            kind=kinds.get(key),
            net_charges_cents=figures[key].net_charges_cents if key in figures else 0,
            net_revenue_cents=net_revenue_cents(figures[key]) if key in figures else 0,
            direct_expense_cents=direct.get(key, 0),
            allocated_expense_cents=allocated.get(key, 0),
        )
        for key in keys
    ]
    rows = [r for r in rows if r.net_charges_cents or r.net_revenue_cents or r.expense_cents]
    rows.sort(key=lambda r: (r.key in (UNASSIGNED, UNALLOCATED), r.label.lower(), r.key))
    return ProfitabilityReport(
        start=start,
        end=end,
        as_of=as_of,
        group_by=group_by,
        basis=basis,
        rows=tuple(rows),
        allocations=tuple(allocations),
        net_revenue_cents=net_revenue_cents(report.totals),
        expense_cents=sum(entry.amount_cents for entry in books.incurred(start, end)),
    )


@dataclass(frozen=True)
class MonthPnl:
    month_start: date
    net_revenue_cents: int
    expense_cents: int

    @property
    def margin_cents(self) -> int:
        return self.net_revenue_cents - self.expense_cents


def monthly_pnl(facts: Facts, finance: FinanceFacts, start: date, end: date, as_of: date) -> list[MonthPnl]:
    """Net revenue and expense by month over [start, end] (every month, the empty ones too); each month
    sums to what profitability() gives for that month."""
    known, books = facts.known_on(as_of), finance.known_on(as_of)
    net: dict[date, int] = defaultdict(int)
    for row in revenue(known, start, end, "payer", "month").rows:
        net[row.period_start] += net_revenue_cents(row.figures)
    spent: dict[date, int] = defaultdict(int)
    for entry in books.incurred(start, end):
        spent[period_start(entry.incurred_on, "month")] += entry.amount_cents
    return [MonthPnl(m, net[m], spent[m]) for m in period_starts(start, end, "month")]
