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

# Institutional coding (an admission's principal/admitting/other diagnoses, ICD-10-PCS, MS-DRG).
PDX_REQUIRED = _spec("PDX-REQUIRED", "error", "an institutional encounter has a principal diagnosis")
PDX_UNACCEPTABLE = _spec(
    "PDX-UNACCEPTABLE",
    "error",
    "the principal diagnosis may be principal (MCE: not an external cause, manifestation or "
    "unacceptable principal diagnosis)",
)
PDX_QUESTIONABLE = _spec(
    "PDX-QUESTIONABLE", "warning", "the principal diagnosis is a questionable admission (MCE)"
)
ADMIT_DX_MISSING = _spec("ADMIT-DX-MISSING", "warning", "an inpatient stay reports an admitting diagnosis")
INST_DX_COUNT = _spec("INST-DX-COUNT", "error", "at most 24 other diagnoses (the 837I's HI ABF)")
POA_INVALID = _spec("POA-INVALID", "error", "a POA indicator is Y, N, U, W or 1")
POA_REQUIRED = _spec(
    "POA-REQUIRED", "error", "an inpatient diagnosis has a POA indicator unless its code is POA-exempt"
)
POA_EXEMPT_MISMATCH = _spec("POA-EXEMPT-MISMATCH", "error", "POA 1 is reported only for POA-exempt codes")
PCS_COUNT = _spec("PCS-COUNT", "error", "at most 25 ICD-10-PCS procedures (the 837I's HI BBR and BBQ)")
PCS_FORMAT = _spec(
    "PCS-FORMAT", "error", "a procedure is 7 ICD-10-PCS characters (digits, letters but I and O)"
)
PCS_INVALID = _spec(
    "PCS-INVALID", "error", "the procedure is a valid ICD-10-PCS code on its date (CMS MCE, by release)"
)
PCS_DUPLICATE = _spec("PCS-DUPLICATE", "warning", "a procedure code and date are listed once")
PCS_OUTPATIENT = _spec(
    "PCS-OUTPATIENT",
    "warning",
    "ICD-10-PCS procedures are for inpatient claims (outpatient uses HCPCS lines)",
)
PROC_DATE = _spec(
    "PROC-DATE", "error", "a procedure date lies within the stay (from 3 days before admission to discharge)"
)
PROC_SEX_CONFLICT = _spec(
    "PROC-SEX-CONFLICT", "error", "a sex-specific procedure matches the patient's sex (CMS MCE, by release)"
)
DRG_UNGROUPABLE = _spec("DRG-UNGROUPABLE", "error", "an inpatient stay groups to a payable MS-DRG")
DRG_PROVISIONAL = _spec(
    "DRG-PROVISIONAL", "warning", "the DRG is grouped after discharge (before it, as a routine discharge)"
)
DRG_WEIGHTS = _spec(
    "DRG-WEIGHTS", "warning", "the relative weights of the discharge's fiscal year are loaded"
)

INSTITUTIONAL_SPECS = (
    PDX_REQUIRED,
    PDX_UNACCEPTABLE,
    PDX_QUESTIONABLE,
    ADMIT_DX_MISSING,
    INST_DX_COUNT,
    POA_INVALID,
    POA_REQUIRED,
    POA_EXEMPT_MISMATCH,
    PCS_COUNT,
    PCS_FORMAT,
    PCS_INVALID,
    PCS_DUPLICATE,
    PCS_OUTPATIENT,
    PROC_DATE,
    PROC_SEX_CONFLICT,
    DRG_UNGROUPABLE,
    DRG_PROVISIONAL,
    DRG_WEIGHTS,
)

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
        *INSTITUTIONAL_SPECS,
    )
}
