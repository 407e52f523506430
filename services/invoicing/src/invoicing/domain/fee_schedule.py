"""The FeeSchedule aggregate: a named price list kept in versions by effective date.

Rows arrive from a file (CSV or JSON) as RawRows; `validate_rows` checks every row and reports every
broken one with its line, so an import is all or nothing. Importing the same rows for the same date
again changes nothing; other rows for an existing date replace that version.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from billing_events.contracts.base import Event
from billing_events.contracts.invoicing import FeeScheduleImported, FeeScheduleRow, FeeScheduleRowsStaged
from billing_events.decider import Decider
from invoicing.domain.errors import FieldError, InvalidInput
from invoicing.domain.staging import parts_of, staged_after

# CPT (five digits; category II/III end in F/T; 4 digits + U for PLA) or HCPCS Level II (letter + 4 digits).
CODE = re.compile(r"^(?:\d{4}[0-9FTU]|[A-V]\d{4})$")
MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_AMOUNT_CENTS = 10_000_000_00  # ten million dollars: anything above is a typo, not a price
MAX_ROWS = 100_000  # a hospital's chargemaster has 20,000-60,000 rows
# Rows per event: 2,000 rows are about 110 KB of JSON, far under Kafka's 1 MiB message limit.
ROWS_PER_PART = 2_000
MAX_REPORTED_ERRORS = 500


@dataclass(frozen=True)
class RawRow:
    """A row as a file gave it, before any rule was checked.

    `field_prefix` locates the row in error fields ("line 7" for CSV, "rows.3" for JSON) and `where`
    in messages ("line 7", "line 12 (row 4)"). Text formats give amounts as strings (`from_text`).
    """

    field_prefix: str
    where: str
    code: object
    modifier: object
    amount_cents: object
    from_text: bool = False
    # The amount's column as the file names it (payer contracts call it allowed_cents).
    amount_field: str = "amount_cents"


def _amount(raw: RawRow) -> int | str:
    return amount_cents_of(raw.amount_cents, from_text=raw.from_text)


def amount_cents_of(value: object, *, from_text: bool) -> int | str:
    """A price in cents, or why it is refused (text formats give it as a string)."""
    # ASCII digits only (\d would take Arabic-Indic digits), and few enough that int() never refuses.
    if isinstance(value, str) and from_text and re.fullmatch(r"\s*[0-9]{1,15}\s*", value):
        value = int(value)
    if value is None or value == "":
        return "is required"
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number of cents (12500 for $125.00)"
    if value <= 0:
        return "must be greater than zero (a service is never priced at zero)"
    if value > MAX_AMOUNT_CENTS:
        return f"must be at most {MAX_AMOUNT_CENTS} cents"
    return value


def validate_row(raw: RawRow) -> tuple[FeeScheduleRow | None, list[FieldError]]:
    errors: list[FieldError] = []

    def refuse(column: str, problem: str) -> None:
        errors.append(FieldError(f"{raw.field_prefix}.{column}", f"{raw.where}: {column} {problem}"))

    code = raw.code.strip().upper() if isinstance(raw.code, str) else None
    if not code:
        refuse("code", "is required")
    elif not CODE.match(code):
        refuse("code", "must be a CPT (5 characters) or HCPCS Level II code (a letter and 4 digits)")
    modifier: str | None = None
    if raw.modifier is not None and not isinstance(raw.modifier, str):
        refuse("modifier", "must be text of 2 letters or digits")
    elif isinstance(raw.modifier, str) and raw.modifier.strip():
        modifier = raw.modifier.strip().upper()
        if not MODIFIER.match(modifier):
            refuse("modifier", "must be 2 letters or digits")
    amount = _amount(raw)
    if isinstance(amount, str):
        refuse(raw.amount_field, amount)
    if errors or code is None or isinstance(amount, str):
        return None, errors
    return FeeScheduleRow(code=code, modifier=modifier, amount_cents=amount), []


def validate_rows(raw_rows: Sequence[RawRow]) -> tuple[tuple[FeeScheduleRow, ...], list[FieldError]]:
    """Check every row; on any error the caller must refuse the whole import."""
    if not raw_rows:
        return (), [FieldError("rows", "the fee schedule has no rows")]
    if len(raw_rows) > MAX_ROWS:
        return (), [FieldError("rows", f"a fee schedule has at most {MAX_ROWS} rows")]
    rows: list[FeeScheduleRow] = []
    errors: list[FieldError] = []
    seen: dict[tuple[str, str | None], str] = {}
    for raw in raw_rows:
        row, row_errors = validate_row(raw)
        errors += row_errors
        if row is None:
            continue
        key = (row.code, row.modifier)
        if key in seen:
            errors.append(
                FieldError(f"{raw.field_prefix}.code", f"{raw.where}: duplicates the price at {seen[key]}")
            )
            continue
        seen[key] = raw.where
        rows.append(row)
    if len(errors) > MAX_REPORTED_ERRORS:
        more = len(errors) - MAX_REPORTED_ERRORS
        errors = [*errors[:MAX_REPORTED_ERRORS], FieldError("rows", f"and {more} more errors")]
    return canonical(rows), errors


def canonical(rows: Sequence[FeeScheduleRow]) -> tuple[FeeScheduleRow, ...]:
    """Rows in one order, so that the same price list imported twice compares equal."""
    return tuple(sorted(rows, key=lambda r: (r.code, r.modifier or "")))


def validate_name(name: str) -> list[FieldError]:
    if NAME.match(name):
        return []
    return [
        FieldError("name", "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    ]


# The aggregate.


@dataclass(frozen=True)
class ImportFeeSchedule:
    fee_schedule_id: str
    name: str
    effective_from: date
    rows: tuple[FeeScheduleRow, ...]


@dataclass(frozen=True)
class FeeScheduleState:
    fee_schedule_id: str | None = None
    name: str | None = None
    versions: dict[date, tuple[FeeScheduleRow, ...]] = field(default_factory=dict)
    # Parts of a large version received so far, waiting for the FeeScheduleImported that completes it.
    staged: tuple[FeeScheduleRow, ...] = ()


def decide(command: ImportFeeSchedule, state: FeeScheduleState) -> list[Event]:
    errors = validate_name(command.name)
    rows = canonical(command.rows)
    if not rows:
        errors.append(FieldError("rows", "the fee schedule has no rows"))
    keys = [(r.code, r.modifier) for r in rows]
    if len(set(keys)) != len(keys):
        errors.append(FieldError("rows", "a code and modifier may have one price only"))
    if any(r.amount_cents <= 0 or r.amount_cents > MAX_AMOUNT_CENTS for r in rows):
        errors.append(FieldError("rows", "every amount must be above zero and at most the maximum"))
    if errors:
        raise InvalidInput(errors)
    if state.versions.get(command.effective_from) == rows:
        return []
    chunks = parts_of(rows, ROWS_PER_PART)
    parts: list[Event] = [
        FeeScheduleRowsStaged(
            fee_schedule_id=command.fee_schedule_id,
            effective_from=command.effective_from,
            part=number,
            parts=len(chunks),
            rows=chunk,
        )
        for number, chunk in enumerate(chunks, start=1)
    ]
    inline = () if parts else rows
    return [
        *parts,
        FeeScheduleImported(
            fee_schedule_id=command.fee_schedule_id,
            name=command.name,
            effective_from=command.effective_from,
            rows=inline,
            parts=len(parts),
            row_count=len(rows) if parts else None,
        ),
    ]


def evolve(state: FeeScheduleState, event: Event) -> FeeScheduleState:
    if isinstance(event, FeeScheduleRowsStaged):
        return replace(state, staged=staged_after(state.staged, event.part, event.rows))
    if isinstance(event, FeeScheduleImported):
        rows = canonical(state.staged) if event.parts else canonical(event.rows)
        return FeeScheduleState(
            fee_schedule_id=event.fee_schedule_id,
            name=event.name,
            versions={**state.versions, event.effective_from: rows},
        )
    return state


DECIDER: Decider[ImportFeeSchedule, FeeScheduleState] = Decider(
    initial=FeeScheduleState(), decide=decide, evolve=evolve, stream_type="fee-schedule"
)
