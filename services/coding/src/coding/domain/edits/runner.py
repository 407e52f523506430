"""Apply every edit and order the findings the way the coder reads the form."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from coding.domain.edits.context import EditContext
from coding.domain.edits.diagnoses import DIAGNOSIS_EDITS
from coding.domain.edits.procedures import PROCEDURE_EDITS
from coding.domain.values import Finding

Edit = Callable[[EditContext], Iterable[Finding]]
EDITS: tuple[Edit, ...] = (*DIAGNOSIS_EDITS, *PROCEDURE_EDITS)

_SEGMENT = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")
_ORDER = {
    "service_date": 0,
    "diagnoses": 1,
    "lines": 2,
    "code": 3,
    "modifiers": 4,
    "units": 5,
    "diagnosis_pointers": 6,
}


def _field_key(field: str) -> tuple[tuple[int, int], ...]:
    # A bare list ("lines") sorts before its items ("lines[0]"), which get index + 1.
    return tuple(
        (_ORDER.get(name, 9), int(index) + 1 if index else 0) for name, index in _SEGMENT.findall(field)
    )


def run_edits(ctx: EditContext) -> tuple[Finding, ...]:
    findings = [finding for edit in EDITS for finding in edit(ctx)]
    return tuple(sorted(findings, key=lambda f: _field_key(f.field)))
