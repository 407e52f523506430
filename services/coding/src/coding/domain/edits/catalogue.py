"""Every edit's stable id and severity. Ids are part of the API: clients and stored warnings use them."""

from __future__ import annotations

from dataclasses import dataclass

from coding.domain.values import Finding, Severity


@dataclass(frozen=True)
class EditSpec:
    edit_id: str
    severity: Severity
    summary: str

    def finding(self, field: str, message: str) -> Finding:
        return Finding(self.edit_id, self.severity, message[:1].upper() + message[1:], field)


def _spec(edit_id: str, severity: Severity, summary: str) -> EditSpec:
    return EditSpec(edit_id, severity, summary)


DX_COUNT = _spec("DX-COUNT", "error", "1 to 12 diagnoses")
DX_DUPLICATE = _spec("DX-DUPLICATE", "error", "a diagnosis is listed once")
ICD_INVALID = _spec("ICD-INVALID", "error", "the diagnosis is an ICD-10-CM code of any loaded release")
ICD_NONBILLABLE = _spec("ICD-NONBILLABLE", "error", "the diagnosis is a billable leaf code, not a header")
ICD_DATE = _spec("ICD-DATE", "error", "the diagnosis is valid on the service date (not yet / no longer)")
ICD_RELEASE = _spec(
    "ICD-RELEASE",
    "warning",
    "the ICD-10-CM release for the service date is loaded (else the nearest is used)",
)
SEX_CONFLICT = _spec("SEX-CONFLICT", "error", "a sex-specific diagnosis matches the patient's sex")
AGE_NEWBORN = _spec("AGE-NEWBORN", "warning", "a newborn diagnosis (age 0) on an older patient")
AGE_PEDIATRIC = _spec("AGE-PEDIATRIC", "error", "a pediatric diagnosis (ages 0-17) on an adult")
AGE_MATERNITY = _spec("AGE-MATERNITY", "error", "a maternity diagnosis outside ages 9-64")
AGE_ADULT = _spec("AGE-ADULT", "error", "an adult diagnosis (ages 15-124) on a child")
LINE_COUNT = _spec("LINE-COUNT", "error", "1 to 50 procedure lines")
CPT_FORMAT = _spec(
    "CPT-FORMAT", "error", "a line code is CPT (5 digits, or 4 digits and F/T/U/M) or HCPCS Level II"
)
CPT_UNLICENSED = _spec("CPT-UNLICENSED", "error", "a CPT code is in the tenant's imported CPT list")
HCPCS_INVALID = _spec("HCPCS-INVALID", "error", "a HCPCS Level II code is in the loaded HCPCS file")
HCPCS_DATE = _spec("HCPCS-DATE", "error", "a HCPCS Level II code is valid on the service date")
MOD_COUNT = _spec("MOD-COUNT", "error", "at most 4 modifiers on a line")
MOD_UNKNOWN = _spec("MOD-UNKNOWN", "error", "a modifier is in the known modifier list")
MOD_DUPLICATE = _spec("MOD-DUPLICATE", "error", "a modifier appears once on a line")
UNITS_RANGE = _spec("UNITS-RANGE", "error", "units are 1 to 999")
PTR_COUNT = _spec("PTR-COUNT", "error", "1 to 4 diagnosis pointers on a line")
PTR_INVALID = _spec("PTR-INVALID", "error", "a pointer names a listed diagnosis (1-based)")
PTR_DUPLICATE = _spec("PTR-DUPLICATE", "error", "a pointer appears once on a line")
DUP_LINE = _spec("DUP-LINE", "error", "no two lines have the same code and modifiers")
NCCI_PTP = _spec(
    "NCCI-PTP", "error", "NCCI procedure-to-procedure pairs: indicator 0 never, 1 only with a bypass modifier"
)
MUE = _spec("MUE", "error", "units per code per day within the medically unlikely edit")

CATALOGUE: dict[str, EditSpec] = {
    spec.edit_id: spec
    for spec in (
        DX_COUNT,
        DX_DUPLICATE,
        ICD_INVALID,
        ICD_NONBILLABLE,
        ICD_DATE,
        ICD_RELEASE,
        SEX_CONFLICT,
        AGE_NEWBORN,
        AGE_PEDIATRIC,
        AGE_MATERNITY,
        AGE_ADULT,
        LINE_COUNT,
        CPT_FORMAT,
        CPT_UNLICENSED,
        HCPCS_INVALID,
        HCPCS_DATE,
        MOD_COUNT,
        MOD_UNKNOWN,
        MOD_DUPLICATE,
        UNITS_RANGE,
        PTR_COUNT,
        PTR_INVALID,
        PTR_DUPLICATE,
        DUP_LINE,
        NCCI_PTP,
        MUE,
    )
}
