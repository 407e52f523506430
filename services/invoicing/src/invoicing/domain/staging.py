"""A large price list is one version but many events: an event is a fact, not a file (the store refuses
one over MAX_EVENT_BYTES, 512 KiB). Its rows go in parts, each a "rows staged" event, and the
version takes effect with the "imported" event that follows them in the same stream. Fee schedules
and the chargemaster stage their rows alike, with these two functions."""

from __future__ import annotations

from typing import TypeVar

Row = TypeVar("Row")


def parts_of(rows: tuple[Row, ...], rows_per_part: int) -> list[tuple[Row, ...]]:
    """The parts to stage, in order; none when the rows fit the imported event itself."""
    if len(rows) <= rows_per_part:
        return []
    return [rows[i : i + rows_per_part] for i in range(0, len(rows), rows_per_part)]


def staged_after(staged: tuple[Row, ...], part: int, rows: tuple[Row, ...]) -> tuple[Row, ...]:
    """The rows staged once part number `part` is in: part 1 starts a new version."""
    return (() if part == 1 else staged) + rows
