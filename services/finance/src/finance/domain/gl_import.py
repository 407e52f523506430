"""A general-ledger CSV export, imported all or nothing.

The header is `incurred_on,amount_cents,category,cost_center,vendor,memo` (an `fte` column may follow).
Every line is checked before anything is stored; one bad line refuses the whole file, and the refusal
names each bad line and field (`line 3: amount_cents`), counting the header as line 1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from billing_events.contracts.finance import ExpenseRecorded
from finance.domain.errors import FieldError, InvalidInput
from finance.domain.expense import ExpenseInput, checked_expense
from finance.domain.values import CostCenterRef, Issues

HEADER = ("incurred_on", "amount_cents", "category", "cost_center", "vendor", "memo")
OPTIONAL = ("fte",)
MAX_LINES = 50_000


def parse_gl_csv(
    text: str,
    cost_centers: dict[str, CostCenterRef],
    new_id: Callable[[], str],
    import_id: str,
) -> list[ExpenseRecorded]:
    """The expenses of the file, or InvalidInput listing every bad line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        rows = list(reader)
    except csv.Error as error:
        raise InvalidInput([FieldError(f"line {reader.line_num}", f"is not valid CSV ({error})")]) from None
    if not rows:
        raise InvalidInput([FieldError("body", "is empty: the CSV needs its header line")])
    header = tuple(column.strip().lower() for column in rows[0])
    if header[: len(HEADER)] != HEADER or any(c not in OPTIONAL for c in header[len(HEADER) :]):
        raise InvalidInput(
            [FieldError("line 1", f"the header must be {','.join(HEADER)} (optionally followed by fte)")]
        )
    if len(rows) - 1 > MAX_LINES:
        raise InvalidInput([FieldError("body", f"holds more than {MAX_LINES} lines; split the file")])
    issues = Issues()
    expenses: list[ExpenseRecorded] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines (a trailing newline) carry nothing
        issues.prefix = f"line {number}: "
        if len(row) != len(header):
            issues.add("columns", f"has {len(row)} fields, the header {len(header)}")
            continue
        values = dict(zip(header, row, strict=True))
        given = ExpenseInput(
            incurred_on=values["incurred_on"],
            amount_cents=values["amount_cents"],
            category=values["category"],
            cost_center=values["cost_center"],
            vendor=values["vendor"],
            memo=values["memo"],
            fte=values.get("fte"),
        )
        event = checked_expense(new_id(), given, cost_centers, issues, source="import", import_id=import_id)
        if event is not None:
            expenses.append(event)
    issues.raise_if_any()
    if not expenses:
        raise InvalidInput([FieldError("body", "holds no expense lines")])
    return expenses
