"""The Chargemaster aggregate (CDM): the hospital's price list of charge codes, kept in versions by
effective date, one per tenant (the network).

A version replaces the whole list from its date on: a charge is priced from the version in effect on
its service date. 20,000-60,000 rows arrive in one file; every row is checked and every broken one
reported with its line, so an import is all or nothing; the rows are staged in parts
(`domain.staging`) as a fee schedule's are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from billing_events.contracts.base import Event
from billing_events.contracts.invoicing import ChargemasterImported, ChargemasterRow, ChargemasterRowsStaged
from billing_events.decider import Decider
from invoicing.domain.errors import FieldError, InvalidInput
from invoicing.domain.fee_schedule import CODE as HCPCS
from invoicing.domain.fee_schedule import MAX_REPORTED_ERRORS, amount_cents_of
from invoicing.domain.staging import parts_of, staged_after

COLUMNS = ("charge_code", "description", "revenue_code", "hcpcs", "amount_cents")
REQUIRED = ("charge_code", "description", "revenue_code", "amount_cents")
CHARGE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
# UB-04 revenue codes are four digits, the first a zero (0100-0999); files often drop the zero.
REVENUE_CODE = re.compile(r"^0?[1-9][0-9]{2}$")
MAX_DESCRIPTION = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MIN_ROWS, MAX_ROWS = 1, 100_000
# 1,000 rows of at most ~260 bytes each stay far under the store's 512 KiB per event.
ROWS_PER_PART = 1_000


@dataclass(frozen=True)
class RawChargeRow:
    """A row as the file gave it (see fee_schedule.RawRow for `field_prefix` and `where`)."""

    field_prefix: str
    where: str
    cells: Mapping[str, object]
    from_text: bool = False


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) else None


def validate_row(raw: RawChargeRow) -> tuple[ChargemasterRow | None, list[FieldError]]:
    errors: list[FieldError] = []

    def refuse(column: str, problem: str) -> None:
        errors.append(FieldError(f"{raw.field_prefix}.{column}", f"{raw.where}: {column} {problem}"))

    charge_code = _text(raw.cells.get("charge_code"))
    if not charge_code:
        refuse("charge_code", "is required")
    elif not CHARGE_CODE.match(charge_code):
        refuse("charge_code", "must be 1-20 letters, digits, '.', '_' or '-'")
    description = _text(raw.cells.get("description"))
    if not description:
        refuse("description", "is required")
    elif len(description) > MAX_DESCRIPTION or _CONTROL.search(description):
        refuse("description", f"must be at most {MAX_DESCRIPTION} characters without control characters")
    revenue_code = _text(raw.cells.get("revenue_code"))
    if not revenue_code:
        refuse("revenue_code", "is required")
    elif not REVENUE_CODE.match(revenue_code):
        refuse("revenue_code", "must be a UB-04 revenue code (0100-0999)")
    hcpcs_cell = raw.cells.get("hcpcs")
    hcpcs = _text(hcpcs_cell)
    if hcpcs_cell is not None and hcpcs is None:
        refuse("hcpcs", "must be text")
    elif hcpcs and not HCPCS.match(hcpcs.upper()):
        refuse("hcpcs", "must be a CPT (5 characters) or HCPCS Level II code (a letter and 4 digits)")
    amount = amount_cents_of(raw.cells.get("amount_cents"), from_text=raw.from_text)
    if isinstance(amount, str):
        refuse("amount_cents", amount)
    if errors or not charge_code or not description or not revenue_code or isinstance(amount, str):
        return None, errors
    row = ChargemasterRow(
        charge_code=charge_code.upper(),
        description=description,
        revenue_code=revenue_code.zfill(4),
        hcpcs=hcpcs.upper() if hcpcs else None,
        amount_cents=amount,
    )
    return row, []


def validate_rows(raw_rows: Sequence[RawChargeRow]) -> tuple[tuple[ChargemasterRow, ...], list[FieldError]]:
    """Check every row; on any error the caller must refuse the whole import."""
    if not raw_rows:
        return (), [FieldError("rows", "the chargemaster has no rows")]
    if len(raw_rows) > MAX_ROWS:
        return (), [FieldError("rows", f"a chargemaster has at most {MAX_ROWS} rows")]
    rows: list[ChargemasterRow] = []
    errors: list[FieldError] = []
    seen: dict[str, str] = {}
    for raw in raw_rows:
        row, row_errors = validate_row(raw)
        errors += row_errors
        if row is None:
            continue
        if row.charge_code in seen:
            errors.append(
                FieldError(
                    f"{raw.field_prefix}.charge_code",
                    f"{raw.where}: duplicates the charge code at {seen[row.charge_code]}",
                )
            )
            continue
        seen[row.charge_code] = raw.where
        rows.append(row)
    if len(errors) > MAX_REPORTED_ERRORS:
        more = len(errors) - MAX_REPORTED_ERRORS
        errors = [*errors[:MAX_REPORTED_ERRORS], FieldError("rows", f"and {more} more errors")]
    return canonical(rows), errors


def canonical(rows: Sequence[ChargemasterRow]) -> tuple[ChargemasterRow, ...]:
    return tuple(sorted(rows, key=lambda r: r.charge_code))


# The aggregate.


@dataclass(frozen=True)
class ImportChargemaster:
    chargemaster_id: str
    effective_from: date
    rows: tuple[ChargemasterRow, ...]


@dataclass(frozen=True)
class ChargemasterState:
    # Versions by effective date, as the hash of their rows: enough to make a repeated import a no-op
    # without keeping 60,000 rows per version in memory (an in-process hash: never stored).
    versions: dict[date, int] = field(default_factory=dict)
    staged: tuple[ChargemasterRow, ...] = ()


def fingerprint(rows: tuple[ChargemasterRow, ...]) -> int:
    return hash(rows)


def decide(command: ImportChargemaster, state: ChargemasterState) -> list[Event]:
    rows = canonical(command.rows)
    if not rows:
        raise InvalidInput([FieldError("rows", "the chargemaster has no rows")])
    codes = [r.charge_code for r in rows]
    if len(set(codes)) != len(codes):
        raise InvalidInput([FieldError("rows", "a charge code may have one row only")])
    if state.versions.get(command.effective_from) == fingerprint(rows):
        return []
    chunks = parts_of(rows, ROWS_PER_PART)
    staged: list[Event] = [
        ChargemasterRowsStaged(
            chargemaster_id=command.chargemaster_id,
            effective_from=command.effective_from,
            part=number,
            parts=len(chunks),
            rows=chunk,
        )
        for number, chunk in enumerate(chunks, start=1)
    ]
    imported = ChargemasterImported(
        chargemaster_id=command.chargemaster_id,
        effective_from=command.effective_from,
        rows=() if staged else rows,
        parts=len(staged),
        row_count=len(rows),
    )
    return [*staged, imported]


def evolve(state: ChargemasterState, event: Event) -> ChargemasterState:
    if isinstance(event, ChargemasterRowsStaged):
        return replace(state, staged=staged_after(state.staged, event.part, event.rows))
    if isinstance(event, ChargemasterImported):
        rows = canonical(state.staged) if event.parts else canonical(event.rows)
        return ChargemasterState(versions={**state.versions, event.effective_from: fingerprint(rows)})
    return state


DECIDER: Decider[ImportChargemaster, ChargemasterState] = Decider(
    initial=ChargemasterState(), decide=decide, evolve=evolve, stream_type="chargemaster"
)
