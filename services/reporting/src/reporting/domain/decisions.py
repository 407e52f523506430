"""Decision support for the three questions of a practice's owners, from the same facts as the P&L.

- Equipment: what a piece of equipment pays back. Contribution per unit is the observed net
  reimbursement of the code it performs (net revenue of that code in the window / lines billed with
  it); at the expected volume per month, payback months = cost / (contribution per unit x volume),
  rounded up. Every asset recorded with a code and a volume is answered, and a what-if can be asked.
- Staff: what one more FTE costs per encounter at current volume. The cost of an FTE-month is the
  window's payroll on lines that carry FTEs / their FTEs (each payroll line is a month's pay of its
  FTEs); over the window's months, divided by the encounters invoiced in the window.
- Losers: the cost centres (departments and service lines) and payers whose margin is negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from reporting.domain.facts import Facts
from reporting.domain.finance_facts import FinanceFacts
from reporting.domain.profitability import ProfitRow, net_revenue_cents, profitability
from reporting.domain.revenue import revenue


@dataclass(frozen=True)
class Payback:
    name: str
    code: str
    cost_cents: int
    useful_life_months: int
    monthly_volume: int
    units_observed: int
    net_revenue_observed_cents: int

    @property
    def contribution_per_unit_cents(self) -> int | None:
        if self.units_observed <= 0:
            return None
        return int(
            (Decimal(self.net_revenue_observed_cents) / self.units_observed).quantize(
                Decimal(1), ROUND_HALF_UP
            )
        )

    @property
    def monthly_contribution_cents(self) -> int | None:
        per_unit = self.contribution_per_unit_cents
        return None if per_unit is None else per_unit * self.monthly_volume

    @property
    def payback_months(self) -> int | None:
        """None when the code earns nothing (it never pays back)."""
        monthly = self.monthly_contribution_cents
        if monthly is None or monthly <= 0:
            return None
        return int((Decimal(self.cost_cents) / monthly).to_integral_value(ROUND_CEILING))

    @property
    def pays_back_within_life(self) -> bool:
        months = self.payback_months
        return months is not None and months <= self.useful_life_months


@dataclass(frozen=True)
class FteCost:
    payroll_cents: int  # payroll lines carrying FTEs, in the window
    fte_hundredths: int  # their FTE-months, in hundredths
    months: int
    encounters: int

    @property
    def fte_month_cents(self) -> int | None:
        if self.fte_hundredths <= 0:
            return None
        return int(
            (Decimal(self.payroll_cents) * 100 / self.fte_hundredths).quantize(Decimal(1), ROUND_HALF_UP)
        )

    @property
    def per_encounter_cents(self) -> int | None:
        month = self.fte_month_cents
        if month is None or self.encounters <= 0:
            return None
        return int((Decimal(month * self.months) / self.encounters).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True)
class Decisions:
    start: date
    end: date
    as_of: date
    paybacks: tuple[Payback, ...]
    fte: FteCost
    losing_cost_centers: tuple[ProfitRow, ...]
    losing_payers: tuple[ProfitRow, ...]


def months_in(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def code_volume(facts: Facts, start: date, end: date, code: str) -> tuple[int, int]:
    """(lines billed with `code` on invoices recorded in the window and not voided, their net revenue)."""
    voided = {v.invoice_id for v in facts.voids}
    units = sum(
        1
        for invoice in facts.invoices
        if start <= invoice.stamp.on <= end and invoice.invoice_id not in voided
        for line in invoice.lines
        if line.code == code
    )
    by_code = revenue(facts, start, end, "code", "month")
    net = sum(net_revenue_cents(row.figures) for row in by_code.rows if row.group_key == code)
    return units, net


def payback(
    facts: Facts, start: date, end: date, *, name: str, code: str, cost_cents: int, life: int, volume: int
) -> Payback:
    units, net = code_volume(facts, start, end, code)
    return Payback(name, code, cost_cents, life, volume, units, net)


def decisions(facts: Facts, finance: FinanceFacts, start: date, end: date, as_of: date) -> Decisions:
    known, books = facts.known_on(as_of), finance.known_on(as_of)
    paybacks = tuple(
        payback(
            known,
            start,
            end,
            name=a.name,
            code=a.code,
            cost_cents=a.cost_cents,
            life=a.useful_life_months,
            volume=a.monthly_volume,
        )
        for a in books.assets
        if a.code and a.monthly_volume
    )
    payroll = [
        e for e in books.incurred(start, end) if e.category == "payroll" and e.fte_hundredths is not None
    ]
    voided = {v.invoice_id for v in known.voids}
    encounters = len(
        {i.encounter_id for i in known.invoices if start <= i.stamp.on <= end and i.invoice_id not in voided}
    )
    fte = FteCost(
        payroll_cents=sum(e.amount_cents for e in payroll),
        fte_hundredths=sum(e.fte_hundredths or 0 for e in payroll),
        months=months_in(start, end),
        encounters=encounters,
    )
    by_center = profitability(facts, finance, start, end, "cost_center", as_of)
    by_payer = profitability(facts, finance, start, end, "payer", as_of)
    return Decisions(
        start=start,
        end=end,
        as_of=as_of,
        paybacks=paybacks,
        fte=fte,
        losing_cost_centers=tuple(
            r for r in by_center.rows if r.kind in ("department", "service_line") and r.margin_cents < 0
        ),
        losing_payers=tuple(r for r in by_payer.rows if r.margin_cents < 0),
    )
