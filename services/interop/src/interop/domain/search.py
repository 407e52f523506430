"""FHIR search parameters the API understands, parsed into values (pure: no I/O)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

SEARCHABLE = (
    "Patient",
    "Coverage",
    "Encounter",
    "Claim",
    "ClaimResponse",
    "ExplanationOfBenefit",
    "Organization",
    "Practitioner",
)
# The resources of a patient's compartment (what `patient=` searches and Patient/$export hold).
PATIENT_COMPARTMENT = ("Patient", "Coverage", "Encounter", "Claim", "ClaimResponse", "ExplanationOfBenefit")

_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ONE_TICK = timedelta(microseconds=1)


class BadSearch(ValueError):
    """A search parameter that cannot be understood; the message names the parameter, not user data."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True)
class Bound:
    """One `_lastUpdated` comparison, as the half-open interval [low, high) its value denotes."""

    prefix: str
    low: datetime
    high: datetime


def parse_instant(parameter: str, value: str) -> tuple[datetime, datetime]:
    """A FHIR date (the whole day, UTC) or dateTime with a zone (one instant) as [low, high)."""
    if _DATE.match(value):
        day = date.fromisoformat(value)
        start = datetime.combine(day, time(), tzinfo=UTC)
        return start, start + timedelta(days=1)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadSearch(parameter, "is not a FHIR date or dateTime") from None
    if moment.tzinfo is None:
        raise BadSearch(parameter, "a dateTime needs a time zone")
    return moment, moment + _ONE_TICK


def parse_last_updated(values: list[str]) -> list[Bound]:
    bounds = []
    for raw in values:
        prefix, value = (raw[:2], raw[2:]) if raw[:2] in _PREFIXES else ("eq", raw)
        low, high = parse_instant("_lastUpdated", value)
        bounds.append(Bound(prefix, low, high))
    return bounds


def bound_sql(bound: Bound, column: str, placeholder: Callable[[datetime], str]) -> str:
    """The SQL condition of one bound; `placeholder` adds a parameter and returns its `$n`."""
    if bound.prefix in ("eq", "ne"):
        inside = f"({column} >= {placeholder(bound.low)} AND {column} < {placeholder(bound.high)})"
        return inside if bound.prefix == "eq" else f"NOT {inside}"
    if bound.prefix in ("gt", "sa"):
        return f"{column} >= {placeholder(bound.high)}"
    if bound.prefix == "ge":
        return f"{column} >= {placeholder(bound.low)}"
    if bound.prefix == "le":
        return f"{column} < {placeholder(bound.high)}"
    return f"{column} < {placeholder(bound.low)}"  # lt, eb


def parse_count(value: str | None, *, default: int = 50, maximum: int = 500) -> int:
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise BadSearch("_count", "must be a positive whole number")
    return min(int(value), maximum)


def patient_id(value: str | None) -> str | None:
    """`patient=<id>` or `patient=Patient/<id>`."""
    if value is None:
        return None
    return value.removeprefix("Patient/")
