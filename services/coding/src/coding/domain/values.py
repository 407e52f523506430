"""Value objects of coding: what registration told us about an encounter, what a coder proposes, and
what an edit finds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

Severity = Literal["error", "warning"]
Sex = Literal["M", "F", "U"]
CodeSystem = Literal["CPT", "HCPCS"]

# A value is shown back in a message only when it looks like a code: anything else might be text a
# user typed by mistake (a name, a note), and messages travel to clients, logs and stored warnings.
# Codes carry a digit; a value without one is echoed only when it is as short as a modifier ("LT").
_CODE_LIKE = re.compile(r"^(?=.*[0-9])[A-Z0-9][A-Z0-9.]{0,7}$|^[A-Z0-9]{1,2}$")


def shown(value: str) -> str:
    """The value itself when it looks like a code, otherwise a neutral placeholder."""
    return value if _CODE_LIKE.match(value) else "the value given"


@dataclass(frozen=True)
class EncounterFacts:
    """What the edits need from registration's EncounterOpened (and later sex corrections)."""

    encounter_id: str
    patient_id: str
    service_date: date
    patient_sex: Sex
    patient_age_years: int
    billing_provider_id: str
    rendering_provider_id: str
    place_of_service: str


@dataclass(frozen=True)
class ProposedLine:
    """A procedure line as the coder sent it (codes already trimmed and upper-cased)."""

    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    diagnosis_pointers: tuple[int, ...] = ()


@dataclass(frozen=True)
class ProposedCoding:
    diagnoses: tuple[str, ...]
    lines: tuple[ProposedLine, ...]
    reason: str | None = None

    @staticmethod
    def normalized(
        diagnoses: list[str], lines: list[ProposedLine], reason: str | None = None
    ) -> ProposedCoding:
        """Trim and upper-case every code, so "e11.9 " and "E11.9" are the same diagnosis."""
        return ProposedCoding(
            diagnoses=tuple(d.strip().upper() for d in diagnoses),
            lines=tuple(
                ProposedLine(
                    code=line.code.strip().upper(),
                    modifiers=tuple(m.strip().upper() for m in line.modifiers),
                    units=line.units,
                    diagnosis_pointers=tuple(line.diagnosis_pointers),
                )
                for line in lines
            ),
            reason=reason.strip() if reason and reason.strip() else None,
        )


@dataclass(frozen=True)
class Finding:
    """One edit's verdict on one field. `field` is a JSON path with zero-based indexes."""

    edit_id: str
    severity: Severity
    message: str
    field: str

    def as_json(self) -> dict[str, str]:
        return {
            "edit_id": self.edit_id,
            "severity": self.severity,
            "field": self.field,
            "message": self.message,
        }
