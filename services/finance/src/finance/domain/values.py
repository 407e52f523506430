"""Field rules shared by finance's commands: amounts in cents, days, categories, cost-centre codes.

Each `read_*` returns the clean value, or None after noting in `issues` why the field is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, get_args

from billing_events.contracts.finance import CostCenterKind, ExpenseCategory
from finance.domain.errors import FieldError, InvalidInput

CATEGORIES: tuple[str, ...] = get_args(ExpenseCategory)
KINDS: tuple[str, ...] = get_args(CostCenterKind)
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
# Amounts above this are a typo, not an expense of a hospital network (a billion dollars).
MAX_CENTS = 100_000_000_000


@dataclass(frozen=True)
class CostCenterRef:
    """A cost centre as commands need it: its id, code and kind."""

    cost_center_id: str
    code: str
    kind: str


@dataclass
class Issues:
    found: list[FieldError] = field(default_factory=list)
    prefix: str = ""

    def add(self, name: str, message: str) -> None:
        self.found.append(FieldError(f"{self.prefix}{name}", message))

    def raise_if_any(self) -> None:
        if self.found:
            raise InvalidInput(self.found)

    def cents(self, name: str, value: Any, *, allow_zero: bool = True) -> int | None:
        """A non-negative whole number of cents; text must be digits only (no sign, no decimal point)."""
        if isinstance(value, bool) or value is None or value == "":
            self.add(name, "is required: a whole, non-negative number of cents")
            return None
        if isinstance(value, str):
            digits = value.strip()
            # ASCII digits only ('²' and Arabic-Indic digits are digits to str.isdigit), and few of them.
            if not (digits.isascii() and digits.isdigit()) or len(digits) > 15:
                self.add(name, "must be a whole, non-negative number of cents (at most 15 digits)")
                return None
            value = int(digits)
        if not isinstance(value, int):
            self.add(name, "must be a whole, non-negative number of cents")
            return None
        if value < 0 or (value == 0 and not allow_zero):
            self.add(name, "must be positive" if not allow_zero else "must not be negative")
            return None
        if value > MAX_CENTS:
            self.add(name, "is larger than any expense this platform accepts")
            return None
        return value

    def day(self, name: str, value: Any) -> date | None:
        if isinstance(value, date):
            return value
        if not value:
            self.add(name, "is required: a date YYYY-MM-DD")
            return None
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.add(name, "must be a date YYYY-MM-DD")
            return None

    def category(self, name: str, value: Any) -> str | None:
        text = str(value or "").strip().lower()
        if text not in CATEGORIES:
            self.add(name, f"must be one of {', '.join(CATEGORIES)}")
            return None
        return text

    def cost_center(self, name: str, value: Any, known: dict[str, CostCenterRef]) -> CostCenterRef | None:
        code = str(value or "").strip()
        if not code:
            self.add(name, "is required: the code of a cost centre")
            return None
        found = known.get(code)
        if found is None:
            self.add(name, "is not a cost centre of this tenant")
        return found

    def text(self, name: str, value: Any, *, max_length: int, required: bool = False) -> str | None:
        text = str(value).strip() if value is not None else ""
        if not text:
            if required:
                self.add(name, "is required")
            return None
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            self.add(name, "must not contain control characters")
            return None
        if len(text) > max_length:
            self.add(name, f"must be at most {max_length} characters")
            return None
        return text

    def fte(self, name: str, value: Any) -> int | None:
        """FTEs with at most two decimals, as hundredths (1.5 -> 150); None when not given."""
        if value is None or value == "":
            return None
        text = str(value).strip()
        try:
            number = Decimal(text) if len(text) <= 20 else Decimal("NaN")
        except InvalidOperation:
            self.add(name, "must be a number of full-time equivalents, e.g. 1.5")
            return None
        if not number.is_finite() or abs(number) > 100_000:
            self.add(name, "must be a non-negative number of full-time equivalents, at most 100000")
            return None
        hundredths = number * 100
        if not number.is_finite() or number < 0 or hundredths != hundredths.to_integral_value():
            self.add(name, "must be a non-negative number with at most two decimals")
            return None
        if number > 100_000:
            self.add(name, "is larger than any workforce")
            return None
        return int(hundredths)
