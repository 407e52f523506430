"""Spreading an amount over groups in proportion to weights, in whole cents that sum back exactly.

Largest remainder (Hamilton): each group first gets the floor of its exact share; the cents left over
go one each to the groups with the largest fractional parts (ties: the smaller key first). Groups
with a zero or negative weight get nothing; with no positive weight nothing can be spread.
"""

from __future__ import annotations

from collections.abc import Mapping


def allocate(amount_cents: int, weights: Mapping[str, int]) -> dict[str, int] | None:
    """`amount_cents` split by `weights`; None when no weight is positive."""
    positive = {key: weight for key, weight in weights.items() if weight > 0}
    total = sum(positive.values())
    if total == 0:
        return None
    sign, amount = (-1, -amount_cents) if amount_cents < 0 else (1, amount_cents)
    shares: dict[str, int] = {}
    remainders: list[tuple[int, str]] = []
    for key, weight in positive.items():
        share, remainder = divmod(amount * weight, total)
        shares[key] = share
        remainders.append((remainder, key))
    left = amount - sum(shares.values())
    for _, key in sorted(remainders, key=lambda item: (-item[0], item[1]))[:left]:
        shares[key] += 1
    return {key: sign * cents for key, cents in shares.items()}
