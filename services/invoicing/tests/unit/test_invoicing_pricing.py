"""Pricing: code with modifier, else code; unit price times units; a missing price is an error, never zero."""

from __future__ import annotations

from datetime import date

from billing_events.contracts.invoicing import CodedInvoiceLine, FeeScheduleRow
from invoicing.domain.pricing import PriceList, price

ON = date(2026, 3, 2)
SCHEDULE = PriceList.of(
    "standard",
    date(2026, 1, 1),
    [
        FeeScheduleRow(code="99213", amount_cents=12500),
        FeeScheduleRow(code="99213", modifier="25", amount_cents=14000),
        FeeScheduleRow(code="20610", modifier="RT", amount_cents=9000),
        FeeScheduleRow(code="20610", modifier="LT", amount_cents=9100),
    ],
)


def coded(code: str, *modifiers: str, units: int = 1, number: int = 1) -> CodedInvoiceLine:
    return CodedInvoiceLine(line_number=number, code=code, modifiers=modifiers, units=units)


def test_the_price_for_code_and_modifier_wins_over_the_code_alone() -> None:
    pricing = price([coded("99213", "25")], SCHEDULE, ON)
    assert pricing.priced
    assert pricing.lines[0].unit_price_cents == 14000


def test_a_modifier_without_its_own_price_falls_back_to_the_code() -> None:
    pricing = price([coded("99213", "59")], SCHEDULE, ON)
    assert pricing.lines[0].unit_price_cents == 12500


def test_the_first_coded_modifier_with_a_price_is_used() -> None:
    pricing = price([coded("20610", "59", "LT", "RT")], SCHEDULE, ON)
    assert pricing.lines[0].unit_price_cents == 9100


def test_the_charge_is_unit_price_times_units_and_the_total_their_sum() -> None:
    pricing = price([coded("99213", units=3), coded("99213", "25", number=2)], SCHEDULE, ON)
    assert [line.charge_cents for line in pricing.lines] == [37500, 14000]
    assert pricing.total_charge_cents == 51500


def test_a_code_without_any_price_is_an_error_naming_the_line_not_a_zero_price() -> None:
    pricing = price([coded("99213"), coded("20610", number=2)], SCHEDULE, ON)
    assert not pricing.priced
    (error,) = pricing.errors
    assert (error.line_number, error.code) == (2, "20610")
    assert error.reason == "no price for 20610 in fee schedule 'standard' effective 2026-01-01"
    # The unpriced line is kept, with no price rather than a price of zero.
    assert [line.unit_price_cents for line in pricing.coded] == [12500, None]


def test_the_error_names_the_modifiers_that_were_tried() -> None:
    (error,) = price([coded("20610", "50")], SCHEDULE, ON).errors
    assert error.reason.startswith("no price for 20610 (with or without modifier 50)")


def test_without_a_schedule_in_effect_every_line_is_an_error() -> None:
    pricing = price([coded("99213"), coded("99213", number=2)], None, ON)
    assert [e.reason for e in pricing.errors] == ["no fee schedule is in effect on 2026-03-02"] * 2


def test_a_line_without_units_cannot_be_priced() -> None:
    (error,) = price([coded("99213", units=0)], SCHEDULE, ON).errors
    assert error.reason == "units must be at least 1"


def test_a_coding_without_lines_is_held_rather_than_invoiced_at_zero() -> None:
    pricing = price([], SCHEDULE, ON)
    assert not pricing.priced
    assert pricing.errors[0].reason == "the coding has no procedure lines"
