"""Pricing coded lines from the fee schedule in effect on the date of service.

A line's unit price is the schedule's price for its code with one of its modifiers (in the order
coded), else for the code alone; the charge is unit price times units. A line without a price is a
PricingError: the invoice is held, never priced at zero and never missing the line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from billing_events.contracts.invoicing import CodedInvoiceLine, FeeScheduleRow, InvoiceLine, PricingError


@dataclass(frozen=True)
class PriceList:
    """One version of a fee schedule: what every code costs from `effective_from` on."""

    name: str
    effective_from: date
    prices: Mapping[tuple[str, str | None], int]

    @classmethod
    def of(cls, name: str, effective_from: date, rows: Sequence[FeeScheduleRow]) -> PriceList:
        return cls(name, effective_from, {(r.code, r.modifier): r.amount_cents for r in rows})

    def unit_price(self, code: str, modifiers: Sequence[str]) -> int | None:
        for modifier in modifiers:
            price = self.prices.get((code, modifier))
            if price is not None:
                return price
        return self.prices.get((code, None))


@dataclass(frozen=True)
class Pricing:
    coded: tuple[CodedInvoiceLine, ...]
    errors: tuple[PricingError, ...]

    @property
    def priced(self) -> bool:
        return not self.errors

    @property
    def lines(self) -> tuple[InvoiceLine, ...]:
        """The priced lines; only meaningful when `priced`."""
        return tuple(
            InvoiceLine(
                line_number=line.line_number,
                code=line.code,
                modifiers=line.modifiers,
                units=line.units,
                unit_price_cents=line.unit_price_cents or 0,
                charge_cents=(line.unit_price_cents or 0) * line.units,
                diagnosis_pointers=line.diagnosis_pointers,
            )
            for line in self.coded
        )

    @property
    def total_charge_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)


def price(lines: Sequence[CodedInvoiceLine], price_list: PriceList | None, service_date: date) -> Pricing:
    if not lines:
        return Pricing(
            (), (PricingError(line_number=0, code="", reason="the coding has no procedure lines"),)
        )
    coded: list[CodedInvoiceLine] = []
    errors: list[PricingError] = []
    for line in lines:
        unit_price = None if price_list is None else price_list.unit_price(line.code, line.modifiers)
        coded.append(line.model_copy(update={"unit_price_cents": unit_price}))
        reason = None
        if price_list is None:
            reason = f"no fee schedule is in effect on {service_date.isoformat()}"
        elif unit_price is None:
            with_modifiers = (
                f" (with or without modifier {', '.join(line.modifiers)})" if line.modifiers else ""
            )
            reason = (
                f"no price for {line.code}{with_modifiers} in fee schedule '{price_list.name}' "
                f"effective {price_list.effective_from.isoformat()}"
            )
        elif line.units < 1:
            reason = "units must be at least 1"
        if reason is not None:
            errors.append(
                PricingError(
                    line_number=line.line_number, code=line.code, modifiers=line.modifiers, reason=reason
                )
            )
    return Pricing(tuple(coded), tuple(errors))
