"""The scrubber: the edits a payer would apply, run before a claim may leave.

Each edit has a stable id (like coding's edits), so a work queue, a report or a test can name it.
`scrub` is pure: the claim, the facts about its parties, and the day it would be filed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta

from billing_events.contracts.claims import Finding
from billing_events.identifiers import is_valid_edi_payer_id, is_valid_npi
from claims.domain.model import ClaimContent, ProviderFacts, ScrubContext

BILLING_NPI = "SCRUB-BILLING-NPI"
TAXONOMY = "SCRUB-TAXONOMY"
TAX_ID = "SCRUB-TAX-ID"
ZIP9 = "SCRUB-ZIP9"
RENDERING_NPI = "SCRUB-RENDERING-NPI"
SUBSCRIBER = "SCRUB-SUBSCRIBER"
PATIENT = "SCRUB-PATIENT"
COVERAGE_DATES = "SCRUB-COVERAGE-DATES"
PAYER_ID = "SCRUB-PAYER-ID"
CLM02_SUM = "SCRUB-CLM02-SUM"
DX_POINTER = "SCRUB-DX-POINTER"
SERVICE_LINE = "SCRUB-SERVICE-LINE"
PLACE_OF_SERVICE = "SCRUB-PLACE-OF-SERVICE"
TIMELY_FILING = "SCRUB-TIMELY-FILING"
DUPLICATE = "SCRUB-DUPLICATE"
# Institutional (837I) edits.
INSTITUTIONAL = "SCRUB-INSTITUTIONAL"
STATEMENT_DATES = "SCRUB-STATEMENT-DATES"
ADMISSION = "SCRUB-ADMISSION"
TYPE_OF_BILL = "SCRUB-TYPE-OF-BILL"
REVENUE_CODE = "SCRUB-REVENUE-CODE"
PRINCIPAL_DX = "SCRUB-PRINCIPAL-DX"
POA = "SCRUB-POA"
DRG = "SCRUB-DRG"

DEFAULT_TIMELY_FILING_DAYS = 365
# X12 837P limits: 12 diagnoses in HI, 4 pointers per line, 50 lines per claim, 4 modifiers.
MAX_DIAGNOSES = 12
MAX_POINTERS = 4
MAX_LINES = 50
MAX_MODIFIERS = 4
CLAIM_FILING_INDICATORS = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "AM",
        "BL",
        "CH",
        "CI",
        "DS",
        "FI",
        "HM",
        "LM",
        "MA",
        "MB",
        "MC",
        "OF",
        "TV",
        "VA",
        "WC",
        "ZZ",
    ]
)
_TAXONOMY = re.compile(r"^[0-9A-Z]{9}X$")
_TAX_ID = re.compile(r"^[0-9]{9}$")
_PROCEDURE = re.compile(r"^[0-9A-Z]{5}$")
_MODIFIER = re.compile(r"^[0-9A-Z]{2}$")
_PLACE_OF_SERVICE = re.compile(r"^[0-9]{2}$")
_ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")

Edit = Callable[[ClaimContent, ScrubContext, date], Iterator[Finding]]


def digits(value: str | None) -> str:
    return re.sub(r"[^0-9]", "", value or "")


def _finding(edit_id: str, field: str, message: str) -> Finding:
    return Finding(edit_id=edit_id, field=field, message=message)


def billing_npi(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    provider = context.billing_provider
    if provider is None:
        yield _finding(BILLING_NPI, "billing_provider_id", "The billing provider is not enrolled.")
    elif not is_valid_npi(provider.npi):
        yield _finding(BILLING_NPI, "billing_provider.npi", "The billing provider's NPI is not valid.")


def taxonomy(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    provider = context.billing_provider
    if provider is not None and not _TAXONOMY.match(provider.taxonomy_code or ""):
        yield _finding(
            TAXONOMY,
            "billing_provider.taxonomy_code",
            "The billing provider needs a 10-character taxonomy code (PRV*BI*PXC).",
        )


def tax_id(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    provider = context.billing_provider
    if provider is not None and not _TAX_ID.match(digits(provider.tax_id)):
        yield _finding(
            TAX_ID, "billing_provider.tax_id", "The billing provider needs a 9-digit tax id (EIN)."
        )


def zip9(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    provider = context.billing_provider
    if provider is not None and len(digits(provider.postal_code)) != 9:
        yield _finding(
            ZIP9, "billing_provider.address.postal_code", "The billing provider's ZIP code needs 9 digits."
        )


def rendering_npi(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    provider: ProviderFacts | None = context.rendering_provider
    if provider is None:
        yield _finding(RENDERING_NPI, "rendering_provider_id", "The rendering provider is not enrolled.")
    elif not is_valid_npi(provider.npi):
        yield _finding(RENDERING_NPI, "rendering_provider.npi", "The rendering provider's NPI is not valid.")


def subscriber(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    coverage = context.coverage
    if coverage is None:
        yield _finding(SUBSCRIBER, "coverage_id", "The coverage is not on file.")
        return
    if coverage.patient_id != claim.patient_id:
        yield _finding(SUBSCRIBER, "coverage_id", "The coverage belongs to another patient.")
    if not coverage.has_member_id:
        yield _finding(SUBSCRIBER, "coverage.member_id", "The subscriber's member id is missing.")
    if coverage.relationship != "self" and not coverage.has_subscriber:
        yield _finding(
            SUBSCRIBER,
            "coverage.subscriber",
            "The subscriber is not the patient, and the subscriber's "
            "name, birth date and address are missing.",
        )


def patient(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    facts = context.patient
    if facts is None:
        yield _finding(PATIENT, "patient_id", "The patient is not registered.")
        return
    for present, field in (
        (facts.has_name, "name"),
        (facts.has_birth_date, "birth_date"),
        (facts.has_address, "address"),
    ):
        if not present:
            yield _finding(
                PATIENT, f"patient.{field}", f"The patient's {field.replace('_', ' ')} is missing."
            )


def coverage_dates(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    coverage = context.coverage
    if coverage is None:
        return
    ended = coverage.effective_to is not None and claim.service_date > coverage.effective_to
    if claim.service_date < coverage.effective_from or ended:
        yield _finding(
            COVERAGE_DATES, "service_date", "The coverage was not in effect on the date of service."
        )


def payer_id(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    payer = context.payer
    if payer is None:
        yield _finding(PAYER_ID, "payer_id", "The payer is not registered.")
        return
    if not is_valid_edi_payer_id(payer.edi_payer_id or ""):
        yield _finding(PAYER_ID, "payer.edi_payer_id", "The payer has no valid EDI payer id.")
    if payer.claim_filing_indicator not in CLAIM_FILING_INDICATORS:
        yield _finding(
            PAYER_ID,
            "payer.claim_filing_indicator",
            "The payer's claim filing indicator is not an SBR09 code.",
        )
    if context.coverage is not None and context.coverage.payer_id != claim.payer_id:
        yield _finding(PAYER_ID, "payer_id", "The claim's payer is not the coverage's payer.")


def clm02_sum(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    total = sum(line.charge_cents for line in claim.lines)
    if claim.total_charge_cents != total:
        yield _finding(CLM02_SUM, "total_charge_cents", "The claim total is not the sum of its line charges.")
    if claim.total_charge_cents <= 0:
        yield _finding(CLM02_SUM, "total_charge_cents", "The claim total must be more than zero.")


def dx_pointer(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    if not claim.diagnoses:
        yield _finding(DX_POINTER, "diagnoses", "The claim has no diagnosis.")
    if len(claim.diagnoses) > MAX_DIAGNOSES:
        yield _finding(DX_POINTER, "diagnoses", f"An 837P carries at most {MAX_DIAGNOSES} diagnoses.")
    for index, code in enumerate(claim.diagnoses):
        if not _ICD10.match(code):
            yield _finding(DX_POINTER, f"diagnoses.{index}", "The diagnosis is not an ICD-10-CM code.")
    usable = min(len(claim.diagnoses), MAX_DIAGNOSES)
    for line in claim.lines:
        pointers = line.diagnosis_pointers
        field = f"lines.{line.line_number}.diagnosis_pointers"
        if not pointers:
            yield _finding(DX_POINTER, field, "The line points to no diagnosis.")
        elif len(pointers) > MAX_POINTERS:
            yield _finding(DX_POINTER, field, f"A line points to at most {MAX_POINTERS} diagnoses.")
        elif any(p < 1 or p > usable for p in pointers) or len(set(pointers)) != len(pointers):
            yield _finding(DX_POINTER, field, "The line points to a diagnosis the claim does not have.")


def service_line(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    if not claim.lines:
        yield _finding(SERVICE_LINE, "lines", "The claim has no service line.")
    if len(claim.lines) > MAX_LINES:
        yield _finding(SERVICE_LINE, "lines", f"An 837P carries at most {MAX_LINES} lines per claim.")
    for line in claim.lines:
        field = f"lines.{line.line_number}"
        if not _PROCEDURE.match(line.code):
            yield _finding(SERVICE_LINE, f"{field}.code", "The procedure code is not a CPT or HCPCS code.")
        if len(line.modifiers) > MAX_MODIFIERS or not all(_MODIFIER.match(m) for m in line.modifiers):
            yield _finding(
                SERVICE_LINE, f"{field}.modifiers", "A line has at most 4 two-character modifiers."
            )
        if line.units < 1:
            yield _finding(SERVICE_LINE, f"{field}.units", "A line bills at least one unit.")
        if line.charge_cents <= 0:
            yield _finding(SERVICE_LINE, f"{field}.charge_cents", "A line's charge must be more than zero.")


def place_of_service(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    if not _PLACE_OF_SERVICE.match(claim.place_of_service):
        yield _finding(
            PLACE_OF_SERVICE, "place_of_service", "The place of service is not a 2-digit CMS code."
        )


def timely_filing(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    days = context.payer.timely_filing_days if context.payer else DEFAULT_TIMELY_FILING_DAYS
    if today > claim.service_date + timedelta(days=days):
        yield _finding(
            TIMELY_FILING,
            "service_date",
            f"The payer's filing limit of {days} days after service has passed.",
        )


def duplicate(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    if context.duplicate_of is not None:
        yield _finding(
            DUPLICATE,
            "lines",
            f"Claim {context.duplicate_of} already bills this patient, payer, date and codes.",
        )


EDITS: tuple[Edit, ...] = (
    billing_npi,
    taxonomy,
    tax_id,
    zip9,
    rendering_npi,
    patient,
    subscriber,
    coverage_dates,
    payer_id,
    clm02_sum,
    dx_pointer,
    service_line,
    place_of_service,
    timely_filing,
    duplicate,
)


# Institutional (837I) edits: what a UB-04 needs that a professional claim does not.
_TYPE_OF_BILL = re.compile(r"^1[1-4]$")
_REVENUE_CODE = re.compile(r"^0[1-9][0-9]{2}$")
_PATIENT_STATUS = re.compile(r"^[0-9]{2}$")
_ADMISSION_CODE = re.compile(r"^[0-9A-Z]$")
_DRG = re.compile(r"^[0-9]{3}$")
# Present on admission: Y, N, U, W, or 1 (exempt); absent only on an outpatient claim.
_POA = frozenset({"Y", "N", "U", "W", "1"})
MAX_INSTITUTIONAL_LINES = 999


def type_of_bill(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    bill = claim.institutional
    if bill is None:
        return
    if not _TYPE_OF_BILL.match(bill.type_of_bill):
        yield _finding(TYPE_OF_BILL, "type_of_bill", "The type of bill is not a hospital's (11x-14x).")
    if not _PATIENT_STATUS.match(bill.discharge_status):
        yield _finding(TYPE_OF_BILL, "discharge_status", "The patient status (CL103) is not a 2-digit code.")
    if not _ADMISSION_CODE.match(bill.admission_type) or not _ADMISSION_CODE.match(bill.admission_source):
        yield _finding(
            TYPE_OF_BILL, "admission_type", "The admission type and source (CL101, CL102) need one character."
        )
    if bill.statement_to < bill.statement_from:
        yield _finding(STATEMENT_DATES, "statement_to", "The statement period ends before it starts.")


def revenue_code(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    bill = claim.institutional
    if bill is None:
        return
    if not bill.lines or not claim.lines:
        yield _finding(REVENUE_CODE, "lines", "An institutional claim needs a revenue-code line.")
    if len(bill.lines) > MAX_INSTITUTIONAL_LINES:
        yield _finding(REVENUE_CODE, "lines", f"An 837I carries at most {MAX_INSTITUTIONAL_LINES} lines.")
    for line in bill.lines:
        field = f"lines.{line.line_number}"
        if not _REVENUE_CODE.match(line.revenue_code):
            yield _finding(REVENUE_CODE, f"{field}.revenue_code", "The revenue code is not 0100-0999.")
        if line.hcpcs is not None and not _PROCEDURE.match(line.hcpcs):
            yield _finding(REVENUE_CODE, f"{field}.hcpcs", "The HCPCS code is not 5 characters.")
    for billed in claim.lines:
        if billed.units < 1 or billed.charge_cents <= 0:
            yield _finding(
                REVENUE_CODE, f"lines.{billed.line_number}", "A line bills at least one unit, above zero."
            )


def principal_dx(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    bill = claim.institutional
    if bill is None:
        return
    codes = [bill.principal_diagnosis.code, *(d.code for d in bill.diagnoses)]
    if bill.admitting_diagnosis:
        codes.append(bill.admitting_diagnosis)
    for index, code in enumerate(codes):
        if not _ICD10.match(code):
            yield _finding(PRINCIPAL_DX, f"diagnoses.{index}", "The diagnosis is not an ICD-10-CM code.")
    if bill.setting == "inpatient":
        if not bill.admitting_diagnosis:
            yield _finding(
                PRINCIPAL_DX, "admitting_diagnosis", "An inpatient claim needs the admitting diagnosis."
            )
        for index, diagnosis in enumerate((bill.principal_diagnosis, *bill.diagnoses)):
            if diagnosis.poa not in _POA:
                yield _finding(
                    POA,
                    f"diagnoses.{index}.poa",
                    "An inpatient diagnosis needs its present-on-admission indicator.",
                )


def drg(claim: ClaimContent, context: ScrubContext, today: date) -> Iterator[Finding]:
    bill = claim.institutional
    if bill is None or bill.setting != "inpatient":
        return
    if bill.drg is None or not _DRG.match(bill.drg.code):
        yield _finding(DRG, "drg", "An inpatient claim needs its 3-digit MS-DRG.")


INSTITUTIONAL_EDITS: tuple[Edit, ...] = (
    billing_npi,
    taxonomy,
    tax_id,
    zip9,
    rendering_npi,  # the attending provider
    patient,
    subscriber,
    coverage_dates,
    payer_id,
    clm02_sum,
    type_of_bill,
    revenue_code,
    principal_dx,
    drg,
    timely_filing,
    duplicate,
)


def scrub(claim: ClaimContent, context: ScrubContext, today: date) -> tuple[Finding, ...]:
    """Every finding of every edit of the claim's form, in a stable order (empty: the claim may go)."""
    edits = INSTITUTIONAL_EDITS if claim.institutional is not None else EDITS
    return tuple(finding for edit in edits for finding in edit(claim, context, today))
