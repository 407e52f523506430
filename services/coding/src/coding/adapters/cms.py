"""Readers (and one writer) of the public CMS file layouts the code sets come from.

- ICD-10-CM order file (`icd10cm_order_YYYY.txt`), fixed width: order number (1-5), code (7-13, no
  dot), billable flag (15: 1 valid for claims, 0 header), short description (17-76), long (78-).
- HCPCS Level II annual/quarterly file (`HCPCYYYY_<MON>_ANWEB.txt`), fixed width: code (1-5),
  sequence (6-10), record id (11: 3 procedure, 4 continuation, 7 modifier, 8 modifier continuation),
  long description (12-91), short description (92-119), added (269-276), action effective (277-284),
  termination (285-292), action code (293). The same columns as CSV (the Excel file saved as CSV) are
  read by their headers (HCPC, RECID, LONG DESCRIPTION, SHORT DESCRIPTION, ADD DT, TERM DT).
- NCCI PTP edits (practitioner `ccipra-*.txt`, tab separated, or saved as CSV): column 1, column 2,
  "*" if in existence before 1996, effective date, deletion date ("*" none), modifier indicator
  (0 / 1 / 9), rationale. Header and copyright lines are skipped.
- MUE table (`MCR_MUE_PractitionerServices_*.csv`): code, MUE value, adjudication indicator
  ("1 Line Edit", "2 Date of Service Edit: Policy", "3 Date of Service Edit: Clinical"), rationale.
- MCE-style diagnosis lists: one code or category range per line ("O00-O9A", "Z00.1"), text after
  the code ignored, `@age MIN MAX` sets the list's age range, `#` starts a comment.

These files are public reference data, so problems name the line and the value.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import TextIO, cast

from coding.domain.codesets import HcpcsCode, IcdCode, ModifierIndicator, MueLimit, PtpEdit, undotted


class ImportProblem(ValueError):
    """A file that does not have the expected layout; names the line."""


_ICD_CODE = re.compile(r"^[A-Z][0-9A-Z][0-9A-Z]{1,5}$")
_PROCEDURE_CODE = re.compile(r"^[0-9A-Z]{4}[0-9A-Z]$")
_MODIFIER = re.compile(r"^[0-9A-Z]{2}$")


def _yyyymmdd(value: str, where: str) -> date | None:
    value = value.strip()
    if not value or value == "*":
        return None
    try:
        if re.fullmatch(r"\d{8}", value):
            return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        return date.fromisoformat(value)
    except ValueError:
        raise ImportProblem(f"{where}: {value!r} is not a date (YYYYMMDD)") from None


# ICD-10-CM order file ----------------------------------------------------------------------------


def read_icd10cm_order(lines: Iterable[str]) -> Iterator[IcdCode]:
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        code, flag = line[6:13].strip(), line[14:15]
        if not line[:5].strip().isdigit() or not _ICD_CODE.match(code) or flag not in ("0", "1"):
            raise ImportProblem(f"line {number}: not an ICD-10-CM order file record")
        yield IcdCode(
            code=code,
            billable=flag == "1",
            description=line[77:].strip() or line[16:76].strip(),
            short_description=line[16:76].strip(),
        )


def write_icd10cm_order(codes: Iterable[IcdCode], out: TextIO) -> int:
    count = 0
    for count, code in enumerate(codes, start=1):
        short = (code.short_description or code.description)[:60]
        out.write(f"{count:05d} {code.code:<7} {int(code.billable)} {short:<60} {code.description}\n")
    return count


# HCPCS Level II -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HcpcsFile:
    codes: dict[str, HcpcsCode]
    modifiers: dict[str, date | None]  # modifier -> termination date


def read_hcpcs(lines: Iterable[str]) -> HcpcsFile:
    rows = [line.rstrip("\r\n") for line in lines]
    first = next((row for row in rows if row.strip()), "")
    records = _hcpcs_csv(rows) if "," in first and "HCPC" in first.upper() else _hcpcs_fixed(rows)
    codes: dict[str, HcpcsCode] = {}
    modifiers: dict[str, date | None] = {}
    for number, code, record_id, long_text, short_text, added, terminated in records:
        where = f"line {number}"
        if record_id in ("3", "4"):
            if not _PROCEDURE_CODE.match(code):
                raise ImportProblem(f"{where}: {code!r} is not a HCPCS code")
            if record_id == "4" and code in codes:
                previous = codes[code]
                codes[code] = HcpcsCode(
                    code, f"{previous.description} {long_text}".strip(), previous.added, previous.terminated
                )
            elif record_id == "3":
                codes[code] = HcpcsCode(
                    code,
                    long_text or short_text,
                    _yyyymmdd(added, where),
                    _yyyymmdd(terminated, where),
                )
        elif record_id == "7":
            modifier = code[:2]
            if not _MODIFIER.match(modifier):
                raise ImportProblem(f"{where}: {code!r} is not a modifier")
            modifiers[modifier] = _yyyymmdd(terminated, where)
        elif record_id != "8":
            raise ImportProblem(f"{where}: record id {record_id!r} is not 3, 4, 7 or 8")
    if not codes and not modifiers:
        raise ImportProblem("no HCPCS records found")
    return HcpcsFile(codes, modifiers)


HcpcsRecord = tuple[int, str, str, str, str, str, str]


def _hcpcs_fixed(rows: list[str]) -> Iterator[HcpcsRecord]:
    for number, row in enumerate(rows, start=1):
        if not row.strip():
            continue
        yield (
            number,
            row[0:5].strip(),
            row[10:11],
            row[11:91].strip(),
            row[91:119].strip(),
            row[268:276],
            row[284:292],
        )


def _hcpcs_csv(rows: list[str]) -> Iterator[HcpcsRecord]:
    reader = csv.reader(rows)
    header = {name.strip().upper(): index for index, name in enumerate(next(reader))}
    if not {"HCPC", "RECID", "LONG DESCRIPTION"} <= header.keys():
        raise ImportProblem("line 1: the CSV header lacks HCPC, RECID or LONG DESCRIPTION")

    def column(row: list[str], name: str) -> str:
        index = header.get(name, -1)
        return row[index].strip() if 0 <= index < len(row) else ""

    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        yield (
            number,
            column(row, "HCPC"),
            column(row, "RECID"),
            column(row, "LONG DESCRIPTION"),
            column(row, "SHORT DESCRIPTION"),
            column(row, "ADD DT"),
            column(row, "TERM DT"),
        )


# NCCI procedure-to-procedure edits ---------------------------------------------------------------


def _cells(rows: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    for number, raw in enumerate(rows, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        cells = line.split("\t") if "\t" in line else next(csv.reader([line]))
        yield number, [cell.strip() for cell in cells]


def read_ncci_ptp(lines: Iterable[str]) -> Iterator[PtpEdit]:
    for number, cells in _cells(lines):
        if len(cells) < 6 or not (_PROCEDURE_CODE.match(cells[0]) and _PROCEDURE_CODE.match(cells[1])):
            continue  # title, copyright and column header lines
        where = f"line {number}"
        effective = _yyyymmdd(cells[3], where)
        indicator = cells[5][:1]
        if effective is None or indicator not in ("0", "1", "9"):
            raise ImportProblem(f"{where}: needs an effective date and a modifier indicator 0, 1 or 9")
        yield PtpEdit(
            column1=cells[0],
            column2=cells[1],
            effective=effective,
            deleted=_yyyymmdd(cells[4], where),
            modifier_indicator=cast(ModifierIndicator, indicator),
        )


# Medically unlikely edits -------------------------------------------------------------------------


def read_mue(lines: Iterable[str]) -> Iterator[MueLimit]:
    for number, cells in _cells(lines):
        if len(cells) < 3 or not _PROCEDURE_CODE.match(cells[0]):
            continue
        indicator = cells[2][:1]
        if not cells[1].isdigit() or indicator not in ("1", "2", "3"):
            raise ImportProblem(f"line {number}: needs an MUE value and an adjudication indicator 1, 2 or 3")
        yield MueLimit(
            code=cells[0],
            units=int(cells[1]),
            adjudication=int(indicator),
            rationale=cells[3] if len(cells) > 3 else "",
        )


# MCE-style lists and the modifier list -----------------------------------------------------------


@dataclass(frozen=True)
class CodeList:
    entries: tuple[str, ...]
    min_age: int | None = None
    max_age: int | None = None


def read_code_list(lines: Iterable[str]) -> CodeList:
    entries: list[str] = []
    min_age: int | None = None
    max_age: int | None = None
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if words[0] == "@age":
            if len(words) != 3 or not (words[1].isdigit() and words[2].isdigit()):
                raise ImportProblem(f"line {number}: write the age range as '@age MIN MAX'")
            min_age, max_age = int(words[1]), int(words[2])
            continue
        entry = words[0].upper()
        parts = entry.split("-")
        if len(parts) > 2 or not all(_ICD_CODE.match(undotted(p)) or len(undotted(p)) == 3 for p in parts):
            raise ImportProblem(f"line {number}: {entry!r} is not an ICD-10-CM code or category range")
        entries.append(entry)
    return CodeList(tuple(entries), min_age, max_age)


def read_modifiers(lines: Iterable[str]) -> set[str]:
    modifiers: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        modifier = line.split()[0].upper()
        if not _MODIFIER.match(modifier):
            raise ImportProblem(f"line {number}: {modifier!r} is not a two-character modifier")
        modifiers.add(modifier)
    return modifiers
