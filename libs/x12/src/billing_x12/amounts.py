"""X12 decimal amounts (type R) as integer cents, exactly, and back."""

from __future__ import annotations

import re
from decimal import Decimal

from billing_x12.errors import X12WriteError

# X12 type R: optional minus sign, digits with an optional decimal point, no exponent, no plus sign.
_DECIMAL = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)\Z")


def parse_decimal(text: str) -> Decimal | None:
    """The Decimal an X12 numeric element holds, or None when it is not a plain decimal number."""
    if not _DECIMAL.match(text):
        return None
    return Decimal(text)


def parse_cents(text: str) -> int | None:
    """Integer cents of an X12 amount, or None when it is not an amount with at most 2 decimals.

    More than two decimals is refused even when they are zeros: a payer that sends them is not
    following the monetary format, and silently rounding money is worse than refusing the file.
    """
    if not _DECIMAL.match(text):
        return None
    _, _, decimals = text.partition(".")
    if len(decimals) > 2:
        return None
    cents = Decimal(text) * 100
    return int(cents)


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
