"""Reading fee-schedule files (CSV and JSON) into raw rows that know their line in the file.

Nothing here decides whether a row is acceptable (domain.fee_schedule does); this only finds the rows
and where they are, so an error can name the line a person has to fix.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field

from invoicing.domain.errors import FieldError
from invoicing.domain.fee_schedule import RawRow

CSV_COLUMNS = ("code", "modifier", "amount_cents")
_SPACE = re.compile(r"\s*")


@dataclass
class ParsedFile:
    rows: list[RawRow] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    effective_from: object = None
    extra: dict[str, object] = field(default_factory=dict)


def read_csv(text: str, amount_column: str = "amount_cents") -> ParsedFile:
    """A CSV with the header code,modifier,amount_cents (modifier may be left out; payer contracts
    name the amount allowed_cents). Blank lines are skipped; line numbers count them, as an editor
    does."""
    parsed = ParsedFile()
    columns = ("code", "modifier", amount_column)
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
            parsed.rows.append(
                RawRow(
                    field_prefix=f"line {line}",
                    where=f"line {line}",
                    code=cells["code"],
                    modifier=cells.get("modifier"),
                    amount_cents=cells[amount_column],
                    from_text=True,
                    amount_field=amount_column,
                )
            )
    except csv.Error as error:
        parsed.errors.append(
            FieldError(f"line {reader.line_num}", f"line {reader.line_num}: not valid CSV ({error})")
        )
    if header is None:
        parsed.errors.append(FieldError("line 1", f"line 1: the header {','.join(columns)} is missing"))
    return parsed


def _header_errors(header: list[str], line: int, columns: tuple[str, ...] = CSV_COLUMNS) -> list[FieldError]:
    errors = []
    unknown = [name for name in header if name not in columns]
    if unknown:
        errors.append(
            FieldError(
                f"line {line}",
                f"line {line}: unknown column(s) {', '.join(unknown)}; expected {','.join(columns)}",
            )
        )
    missing = [name for name in (columns[0], columns[2]) if name not in header]
    if missing:
        errors.append(FieldError(f"line {line}", f"line {line}: the header lacks {', '.join(missing)}"))
    if len(set(header)) != len(header):
        errors.append(FieldError(f"line {line}", f"line {line}: a column is named twice"))
    return errors


def read_json(
    text: str, amount_column: str = "amount_cents", extra_fields: tuple[str, ...] = ()
) -> ParsedFile:
    """A JSON object {effective_from, rows: [{code, modifier?, amount_cents}]} (payer contracts name
    the amount allowed_cents). `extra_fields` are top-level fields the caller reads itself."""
    parsed = ParsedFile()
    columns = ("code", "modifier", amount_column)
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
        parsed.errors.append(FieldError("rows", f"must be a list of {{{', '.join(columns)}}}"))
        return parsed
    lines = _row_lines(text)
    for index, row in enumerate(rows):
        line = lines[index] if index < len(lines) else None
        where = f"line {line} (row {index + 1})" if line else f"row {index + 1}"
        if not isinstance(row, dict):
            parsed.errors.append(FieldError(f"rows.{index}", f"{where}: must be an object"))
            continue
        unknown = sorted(set(row) - set(columns))
        if unknown:
            parsed.errors.append(
                FieldError(f"rows.{index}", f"{where}: unknown field(s) {', '.join(unknown)}")
            )
        parsed.rows.append(
            RawRow(
                field_prefix=f"rows.{index}",
                where=where,
                code=row.get("code"),
                modifier=row.get("modifier"),
                amount_cents=row.get(amount_column),
                amount_field=amount_column,
            )
        )
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
