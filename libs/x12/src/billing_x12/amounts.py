"""X12 decimal amounts (type R) as integer cents, exactly, and back."""

from __future__ import annotations

import re
from decimal import Decimal

from billing_x12.errors import X12WriteError

# X12 type R: optional minus sign, digits with an optional decimal point, no exponent, no plus sign.
# Only ASCII digits are digits: Python's \d and str.isdigit() also take Arabic-Indic or superscript
# digits, which no X12 file may carry (and int() refuses some of them with a ValueError).
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
# X12 numeric elements are at most 18 characters (R and N0 of the 5010 guides); longer is refused
# before any conversion, so a number of thousands of digits never reaches int() or Decimal.
MAX_NUMBER_LENGTH = 18
# Amounts beyond a sane range for one health care file are refused: 10^11 dollars, in cents.
MAX_CENTS = 10**13


def is_digits(text: str) -> bool:
    """True when `text` is one or more ASCII digits 0-9 (never other Unicode digits)."""
    return text.isascii() and text.isdigit()


def parse_whole(text: str) -> int | None:
    """A non-negative whole number of ASCII digits, at most MAX_NUMBER_LENGTH long, else None."""
    if not is_digits(text) or len(text) > MAX_NUMBER_LENGTH:
        return None
    return int(text)


def parse_decimal(text: str) -> Decimal | None:
    """The Decimal an X12 numeric element holds, or None when it is not a plain decimal number."""
    if len(text) > MAX_NUMBER_LENGTH or not _DECIMAL.match(text):
        return None
    return Decimal(text)


def parse_cents(text: str) -> int | None:
    """Integer cents of an X12 amount, or None when it is not an amount with at most 2 decimals.

    More than two decimals is refused even when they are zeros: a payer that sends them is not
    following the monetary format, and silently rounding money is worse than refusing the file.
    """
    if len(text) > MAX_NUMBER_LENGTH or not _DECIMAL.match(text):
        return None
    _, _, decimals = text.partition(".")
    if len(decimals) > 2:
        return None
    cents = int(Decimal(text) * 100)
    if abs(cents) >= MAX_CENTS:
        return None
    return cents


def format_cents(cents: int) -> str:
    """X12 amount for integer cents, without trailing zeros: 15000 -> '150', -2050 -> '-20.5'."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise X12WriteError(f"an amount must be integer cents, got {type(cents).__name__}")
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    if fraction == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:02d}".rstrip("0")


def format_decimal(value: Decimal) -> str:
    """X12 numeric text for a Decimal quantity: no exponent, no trailing zeros."""
    if not value.is_finite():
        raise X12WriteError("a quantity must be a finite number")
    text = format(value.normalize(), "f")
    return text
