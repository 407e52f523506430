"""Rates and averages as exact values: integer numerators and denominators, Decimal results.

A rate keeps its numerator and denominator, so every figure on a report can be checked by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HUNDREDTH = Decimal("0.01")
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Ratio:
    numerator: int
    denominator: int

    @property
    def percent(self) -> Decimal | None:
        """Percent with two decimals, half up; None when there is nothing (or less) to divide by."""
        if self.denominator <= 0:
            return None
        return (Decimal(self.numerator) * 100 / Decimal(self.denominator)).quantize(HUNDREDTH, ROUND_HALF_UP)


def tenths(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator rounded half up to one decimal; None when the denominator is not positive."""
    if denominator <= 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(TENTH, ROUND_HALF_UP)
