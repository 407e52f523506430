"""Reading price-list files (fee schedules and the chargemaster, CSV and JSON) into raw rows that
know their line in the file.

Nothing here decides whether a row is acceptable (domain.fee_schedule and domain.chargemaster do);
this only finds the rows and where they are, so an error can name the line a person has to fix. The
readers take the list's columns (`Columns`); `read_csv` and `read_json` read fee schedules.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from invoicing.domain.errors import FieldError
from invoicing.domain.fee_schedule import RawRow

CSV_COLUMNS = ("code", "modifier", "amount_cents")
_SPACE = re.compile(r"\s*")


@dataclass(frozen=True)
class Columns:
    """A price list's columns: all it may have, and those a row must have."""

    names: tuple[str, ...]
    required: tuple[str, ...]

    @property
    def header(self) -> str:
        return ",".join(self.names)


FEE_SCHEDULE = Columns(CSV_COLUMNS, ("code", "amount_cents"))


@dataclass(frozen=True)
class RawRecord:
    """A row's cells as the file gave them, and where the row is (see RawRow)."""

    field_prefix: str
    where: str
    cells: Mapping[str, object]
    from_text: bool = False


@dataclass
class ParsedRecords:
    rows: list[RawRecord] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    effective_from: object = None
    # Top-level JSON fields the caller asked for and reads itself (a payer contract's options).
    extra: dict[str, object] = field(default_factory=dict)


@dataclass
class ParsedFile:
    rows: list[RawRow] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    effective_from: object = None
    extra: dict[str, object] = field(default_factory=dict)


def price_columns(amount_column: str) -> Columns:
    """A code-priced list's columns: fee schedules name the amount amount_cents, payer contracts
    allowed_cents."""
    return Columns(("code", "modifier", amount_column), ("code", amount_column))


def _price_list(parsed: ParsedRecords, amount_column: str) -> ParsedFile:
    rows = [
        RawRow(
            field_prefix=record.field_prefix,
            where=record.where,
            code=record.cells.get("code"),
            modifier=record.cells.get("modifier"),
            amount_cents=record.cells.get(amount_column),
            from_text=record.from_text,
            amount_field=amount_column,
        )
        for record in parsed.rows
    ]
    return ParsedFile(rows, parsed.errors, parsed.effective_from, parsed.extra)


def read_csv(text: str, amount_column: str = "amount_cents") -> ParsedFile:
    """A fee schedule as CSV with the header code,modifier,amount_cents (modifier may be left out;
    payer contracts name the amount allowed_cents)."""
    return _price_list(read_csv_records(text, price_columns(amount_column)), amount_column)


def read_json(
    text: str, amount_column: str = "amount_cents", extra_fields: tuple[str, ...] = ()
) -> ParsedFile:
    """A fee schedule as a JSON object {effective_from, rows: [{code, modifier?, amount_cents}]}
    (payer contracts name the amount allowed_cents; `extra_fields` are top-level fields the caller
    reads itself)."""
    parsed = read_json_records(text, price_columns(amount_column), extra_fields)
    return _price_list(parsed, amount_column)


def read_csv_records(text: str, columns: Columns) -> ParsedRecords:
    """A CSV whose header names some of `columns` (all the required ones). Blank lines are skipped;
    line numbers count them, as an editor does."""
    parsed = ParsedRecords()
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header: list[str] | None = None
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in record]
                parsed.errors += _header_errors(header, line, columns)
                if parsed.errors:
                    return parsed
                continue
            if len(record) != len(header):
                parsed.errors.append(
                    FieldError(
                        f"line {line}", f"line {line}: has {len(record)} fields, the header has {len(header)}"
                    )
                )
                continue
            cells = dict(zip(header, record, strict=True))
            parsed.rows.append(RawRecord(f"line {line}", f"line {line}", cells, from_text=True))
    except csv.Error as error:
        parsed.errors.append(
            FieldError(f"line {reader.line_num}", f"line {reader.line_num}: not valid CSV ({error})")
        )
    if header is None:
        parsed.errors.append(FieldError("line 1", f"line 1: the header {columns.header} is missing"))
    return parsed


def _header_errors(header: list[str], line: int, columns: Columns) -> list[FieldError]:
    errors = []
    unknown = [name for name in header if name not in columns.names]
    if unknown:
        errors.append(
            FieldError(
                f"line {line}",
                f"line {line}: unknown column(s) {', '.join(unknown)}; expected {columns.header}",
            )
        )
    missing = [name for name in columns.required if name not in header]
    if missing:
        errors.append(FieldError(f"line {line}", f"line {line}: the header lacks {', '.join(missing)}"))
    if len(set(header)) != len(header):
        errors.append(FieldError(f"line {line}", f"line {line}: a column is named twice"))
    return errors


def read_json_records(text: str, columns: Columns, extra_fields: tuple[str, ...] = ()) -> ParsedRecords:
    """A JSON object {effective_from, rows: [{...columns}]} (and the top-level `extra_fields`)."""
    parsed = ParsedRecords()
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        parsed.errors.append(FieldError("body", f"line {error.lineno}: not valid JSON ({error.msg})"))
        return parsed
    except ValueError:  # a number of thousands of digits (int's digit limit)
        parsed.errors.append(FieldError("body", "not valid JSON: a number is too long"))
        return parsed
    except RecursionError:
        parsed.errors.append(FieldError("body", "not valid JSON: nested too deeply"))
        return parsed
    if not isinstance(document, dict):
        parsed.errors.append(FieldError("body", "must be a JSON object with effective_from and rows"))
        return parsed
    parsed.effective_from = document.get("effective_from")
    parsed.extra = {name: document[name] for name in extra_fields if name in document}
    rows = document.get("rows")
    if not isinstance(rows, list):
        parsed.errors.append(FieldError("rows", f"must be a list of {{{', '.join(columns.names)}}}"))
        return parsed
    lines = _row_lines(text)
    for index, row in enumerate(rows):
        line = lines[index] if index < len(lines) else None
        where = f"line {line} (row {index + 1})" if line else f"row {index + 1}"
        if not isinstance(row, dict):
            parsed.errors.append(FieldError(f"rows.{index}", f"{where}: must be an object"))
            continue
        unknown = sorted(set(row) - set(columns.names))
        if unknown:
            parsed.errors.append(
                FieldError(f"rows.{index}", f"{where}: unknown field(s) {', '.join(unknown)}")
            )
        parsed.rows.append(RawRecord(f"rows.{index}", where, row))
    return parsed


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    return match.end() if match else position


def _row_lines(text: str) -> list[int]:
    """The line on which each element of the top-level "rows" array starts (text is valid JSON).

    json.loads keeps no positions, so walk the top-level object with raw_decode, which does.
    """
    decoder = json.JSONDecoder()
    position = _skip_space(text, 0)
    if not text.startswith("{", position):
        return []
    position += 1
    found: list[int] = []
    line, counted_to = 1, 0
    while True:
        position = _skip_space(text, position)
        if text.startswith("}", position):
            return found
        key, position = decoder.raw_decode(text, position)
        position = _skip_space(text, position) + 1  # the colon
        position = _skip_space(text, position)
        if key == "rows" and text.startswith("[", position):
            found = []
            position += 1
            while True:
                position = _skip_space(text, position)
                if text.startswith("]", position):
                    position += 1
                    break
                line += text.count("\n", counted_to, position)
                counted_to = position
                found.append(line)
                _, position = decoder.raw_decode(text, position)
                position = _skip_space(text, position)
                if text.startswith(",", position):
                    position += 1
        else:
            _, position = decoder.raw_decode(text, position)
        position = _skip_space(text, position)
        if text.startswith(",", position):
            position += 1
