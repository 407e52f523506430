"""Edits on the procedure lines: shape, code sets, modifiers, pointers, duplicates, NCCI PTP and MUE."""

from __future__ import annotations

from collections.abc import Iterator

from coding.domain.codesets import code_system
from coding.domain.edits import catalogue as c
from coding.domain.edits.context import (
    MAX_LINES,
    MAX_MODIFIERS,
    MAX_POINTERS,
    MAX_UNITS,
    EditContext,
)
from coding.domain.values import Finding, ProposedLine, shown

# NCCI-associated modifiers (NCCI Policy Manual, chapter I): they may bypass a PTP edit with modifier
# indicator 1 when the documentation supports a separate service. Anatomic modifiers bypass only when
# the two lines name different sites; a same-side pair is still the same site.
ANATOMIC_MODIFIERS = frozenset(
    {"E1", "E2", "E3", "E4", "FA", "LC", "LD", "LM", "LT", "RC", "RI", "RT", "TA"}
    | {f"F{n}" for n in range(1, 10)}
    | {f"T{n}" for n in range(1, 10)}
)
DISTINCT_SERVICE_MODIFIERS = frozenset(
    {"24", "25", "27", "57", "58", "59", "78", "79", "91", "XE", "XP", "XS", "XU"}
)


def line_count(ctx: EditContext) -> Iterator[Finding]:
    count = len(ctx.coding.lines)
    if not 1 <= count <= MAX_LINES:
        yield c.LINE_COUNT.finding("lines", f"List 1 to {MAX_LINES} procedure lines; {count} were given.")


def line_codes(ctx: EditContext) -> Iterator[Finding]:
    hcpcs = ctx.code_sets.reference.hcpcs
    licence = ctx.code_sets.cpt
    for index, line in enumerate(ctx.coding.lines):
        field = f"lines[{index}].code"
        system = code_system(line.code)
        if system is None:
            yield c.CPT_FORMAT.finding(
                field,
                f"{shown(line.code)} is neither a CPT code (5 digits, or 4 digits and F, T, U or M) "
                "nor a HCPCS Level II code (a letter and 4 digits).",
            )
        elif system == "CPT":
            if not licence.allows(line.code):
                yield c.CPT_UNLICENSED.finding(
                    field, f"{line.code} is not in this organisation's imported CPT code list."
                )
        elif hcpcs.loaded:
            entry = hcpcs.codes.get(line.code)
            if entry is None:
                yield c.HCPCS_INVALID.finding(field, f"{line.code} is not a HCPCS Level II code.")
            elif not entry.valid_on(ctx.service_date):
                when = (
                    f"it was added on {entry.added}"
                    if entry.added and ctx.service_date < entry.added
                    else f"it was terminated after {entry.terminated}"
                )
                yield c.HCPCS_DATE.finding(field, f"{line.code} is not valid on the service date: {when}.")


def modifiers(ctx: EditContext) -> Iterator[Finding]:
    known = ctx.code_sets.reference.modifiers
    for index, line in enumerate(ctx.coding.lines):
        if len(line.modifiers) > MAX_MODIFIERS:
            yield c.MOD_COUNT.finding(
                f"lines[{index}].modifiers",
                f"A line takes at most {MAX_MODIFIERS} modifiers; {len(line.modifiers)} were given.",
            )
        seen: set[str] = set()
        for position, modifier in enumerate(line.modifiers):
            field = f"lines[{index}].modifiers[{position}]"
            if known and modifier not in known:
                yield c.MOD_UNKNOWN.finding(field, f"{shown(modifier)} is not a known modifier.")
            elif modifier in seen:
                yield c.MOD_DUPLICATE.finding(field, f"{modifier} is already on this line.")
            seen.add(modifier)


def units(ctx: EditContext) -> Iterator[Finding]:
    for index, line in enumerate(ctx.coding.lines):
        if not 1 <= line.units <= MAX_UNITS:
            yield c.UNITS_RANGE.finding(f"lines[{index}].units", f"Units are 1 to {MAX_UNITS}.")


def pointers(ctx: EditContext) -> Iterator[Finding]:
    diagnoses = len(ctx.coding.diagnoses)
    for index, line in enumerate(ctx.coding.lines):
        if not 1 <= len(line.diagnosis_pointers) <= MAX_POINTERS:
            yield c.PTR_COUNT.finding(
                f"lines[{index}].diagnosis_pointers",
                f"A line points to 1 to {MAX_POINTERS} diagnoses; {len(line.diagnosis_pointers)} were given.",
            )
        seen: set[int] = set()
        for position, pointer in enumerate(line.diagnosis_pointers):
            field = f"lines[{index}].diagnosis_pointers[{position}]"
            if not 1 <= pointer <= diagnoses:
                yield c.PTR_INVALID.finding(
                    field,
                    f"Pointer {pointer} names no diagnosis: pointers count the listed diagnoses from 1 "
                    f"to {diagnoses}.",
                )
            elif pointer in seen:
                yield c.PTR_DUPLICATE.finding(field, f"Pointer {pointer} is already on this line.")
            seen.add(pointer)


def duplicate_lines(ctx: EditContext) -> Iterator[Finding]:
    first_seen: dict[tuple[str, frozenset[str]], int] = {}
    for index, line in enumerate(ctx.coding.lines):
        key = (line.code, frozenset(line.modifiers))
        if key in first_seen:
            yield c.DUP_LINE.finding(
                f"lines[{index}]",
                f"This line repeats lines[{first_seen[key]}] ({shown(line.code)} with the same modifiers): "
                "combine the units on one line, or add a modifier that tells the services apart "
                "(such as 76, 77 or 91).",
            )
        else:
            first_seen[key] = index


def _bypassed(first: ProposedLine, second: ProposedLine) -> bool:
    if DISTINCT_SERVICE_MODIFIERS & (set(first.modifiers) | set(second.modifiers)):
        return True
    sites_first = ANATOMIC_MODIFIERS & set(first.modifiers)
    sites_second = ANATOMIC_MODIFIERS & set(second.modifiers)
    return bool(sites_first and sites_second and sites_first != sites_second)


def ncci_pairs(ctx: EditContext) -> Iterator[Finding]:
    table = ctx.code_sets.reference.ptp
    lines = ctx.coding.lines
    if not table.loaded or len(lines) > MAX_LINES:
        return
    for i, column1 in enumerate(lines):
        for j, column2 in enumerate(lines):
            if i == j or column1.code == column2.code:
                continue
            edit = table.edit_for(column1.code, column2.code, ctx.service_date)
            if edit is None or edit.modifier_indicator == "9":
                continue
            if edit.modifier_indicator == "0":
                yield c.NCCI_PTP.finding(
                    f"lines[{j}].code",
                    f"{column2.code} is not billed with {column1.code} (lines[{i}]) on the same day: "
                    "NCCI procedure-to-procedure edit with modifier indicator 0, which no modifier bypasses.",
                )
            elif not _bypassed(column1, column2):
                yield c.NCCI_PTP.finding(
                    f"lines[{j}].code",
                    f"{column2.code} is bundled into {column1.code} (lines[{i}]) by an NCCI "
                    "procedure-to-procedure edit: bill both only for a distinct service, marked with a "
                    "modifier such as 25 (on an E/M), 59, XE, XS, XP, XU, or different anatomic modifiers.",
                )


def unlikely_units(ctx: EditContext) -> Iterator[Finding]:
    table = ctx.code_sets.reference.mue.for_date(ctx.service_date)
    if table is None:
        return
    totals: dict[str, list[int]] = {}
    for index, line in enumerate(ctx.coding.lines):
        limit = table.limits.get(line.code)
        if limit is None or not 1 <= line.units <= MAX_UNITS:
            continue
        if limit.adjudication == 1:
            if line.units > limit.units:
                yield c.MUE.finding(
                    f"lines[{index}].units",
                    f"{line.code} is reported with {line.units} units on one line; its medically unlikely "
                    f"edit allows {limit.units} per line.",
                )
        else:
            totals.setdefault(line.code, []).append(index)
    for code, indexes in totals.items():
        limit = table.limits[code]
        total = sum(ctx.coding.lines[i].units for i in indexes)
        if total > limit.units:
            where = ", ".join(f"lines[{i}]" for i in indexes)
            yield c.MUE.finding(
                f"lines[{indexes[0]}].units",
                f"{code} is reported with {total} units on the date of service ({where}); its medically "
                f"unlikely edit allows {limit.units} per day.",
            )


PROCEDURE_EDITS = (
    line_count,
    line_codes,
    modifiers,
    units,
    pointers,
    duplicate_lines,
    ncci_pairs,
    unlikely_units,
)
