"""Delimiters and the parsed segment, the unit every reader works on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from billing_x12.amounts import is_digits, parse_cents, parse_decimal, parse_whole
from billing_x12.errors import ElementError


@dataclass(frozen=True)
class Delimiters:
    """The four separators of an interchange; read from its ISA, chosen by the writer."""

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"

    def all(self) -> tuple[str, ...]:
        return tuple(d for d in (self.element, self.component, self.repetition, self.segment) if d)


DEFAULT_DELIMITERS = Delimiters()


# slots: a payer's 835 of 250,000 claims is about 1.5 million segments; without a __dict__ each
# takes about a hundred bytes less.
@dataclass(frozen=True, slots=True)
class Segment:
    """One segment: `elements[0]` is element 01. `position` is 1-based in the whole file.

    The elements are left out of repr and equality-free helpers read them, so that printing or
    logging a segment never shows patient data.
    """

    id: str
    elements: tuple[str, ...] = field(repr=False)
    position: int = 0
    delimiters: Delimiters = field(default=DEFAULT_DELIMITERS, repr=False, compare=False)

    def ref(self, index: int) -> str:
        """The element reference used in messages: ('CLP', 3) -> 'CLP03'."""
        return f"{self.id}{index:02d}"

    def get(self, index: int) -> str:
        """Element `index` (1-based) as text; '' when absent."""
        if 1 <= index <= len(self.elements):
            return self.elements[index - 1]
        return ""

    def components(self, index: int) -> tuple[str, ...]:
        """The components of composite element `index`; () when the element is empty."""
        value = self.get(index)
        if not value:
            return ()
        return tuple(value.split(self.delimiters.component))

    def component(self, index: int, sub: int) -> str:
        parts = self.components(index)
        return parts[sub - 1] if 1 <= sub <= len(parts) else ""

    def repeats(self, index: int) -> tuple[str, ...]:
        value = self.get(index)
        if not value:
            return ()
        if not self.delimiters.repetition:
            return (value,)
        return tuple(value.split(self.delimiters.repetition))

    # --- typed access: each raises ElementError naming the element, never the value --------------

    def error(self, index: int, reason: str, ack_code: str = "6") -> ElementError:
        return ElementError(
            f"{self.ref(index)} {reason}",
            position=self.position,
            segment_id=self.id,
            element=self.ref(index),
            ack_code=ack_code,
            element_position=index,
        )

    def required(self, index: int) -> str:
        value = self.get(index)
        if not value:
            raise self.error(index, "is required", ack_code="1")
        return value

    def optional(self, index: int) -> str | None:
        return self.get(index) or None

    def cents(self, index: int) -> int:
        """A required amount in integer cents; refused when not a decimal with at most 2 decimals."""
        value = self.required(index)
        cents = parse_cents(value)
        if cents is None:
            raise self.error(index, "is not an amount")
        return cents

    def optional_cents(self, index: int) -> int | None:
        if not self.get(index):
            return None
        return self.cents(index)

    def decimal(self, index: int) -> Decimal:
        value = self.required(index)
        number = parse_decimal(value)
        if number is None:
            raise self.error(index, "is not a number")
        return number

    def optional_decimal(self, index: int) -> Decimal | None:
        if not self.get(index):
            return None
        return self.decimal(index)

    def integer(self, index: int) -> int:
        value = self.required(index)
        number = parse_whole(value)
        if number is None:
            raise self.error(index, "is not a whole number of at most 18 digits")
        return number

    def date(self, index: int) -> dt.date:
        """A CCYYMMDD date."""
        return parse_date(self, index, self.required(index))

    def optional_date(self, index: int) -> dt.date | None:
        if not self.get(index):
            return None
        return self.date(index)

    def code(self, index: int, allowed: frozenset[str] | set[str]) -> str:
        value = self.required(index)
        if value not in allowed:
            raise self.error(index, "is not a valid code", ack_code="7")
        return value


def parse_date(segment: Segment, index: int, text: str) -> dt.date:
    if len(text) != 8 or not is_digits(text):
        raise segment.error(index, "is not a CCYYMMDD date", ack_code="8")
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise segment.error(index, "is not a CCYYMMDD date", ack_code="8") from None


def parse_period(segment: Segment, qualifier_index: int) -> tuple[dt.date, dt.date]:
    """A DTM/DTP date or period: D8 CCYYMMDD or RD8 CCYYMMDD-CCYYMMDD, as (start, end)."""
    qualifier = segment.required(qualifier_index)
    value = segment.required(qualifier_index + 1)
    if qualifier == "D8":
        day = parse_date(segment, qualifier_index + 1, value)
        return day, day
    if qualifier == "RD8":
        start, sep, end = value.partition("-")
        if not sep:
            raise segment.error(qualifier_index + 1, "is not a CCYYMMDD-CCYYMMDD period", ack_code="8")
        first = parse_date(segment, qualifier_index + 1, start)
        last = parse_date(segment, qualifier_index + 1, end)
        if last < first:
            raise segment.error(qualifier_index + 1, "ends before it starts", ack_code="8")
        return first, last
    raise segment.error(qualifier_index, "is not D8 or RD8", ack_code="7")
