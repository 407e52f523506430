"""X12 837I 005010X223A2 writer: the hospital's claim (the electronic UB-04).

The envelope, the billing provider, subscriber, patient and payer levels and the other-coverage
loops are the 837P's (`claims.adapters.x12_837`); what differs is loop 2300 and its lines:

- CLM05: type of bill as facility type code, qualifier `A` (UB-04 bill type) and frequency code;
  CLM06 is not used in an 837I.
- DTP*096 discharge hour (inpatient, when discharged), DTP*434 statement dates (RD8), DTP*435
  admission date and hour (inpatient).
- CL1: admission type, admission source, patient (discharge) status.
- REF*F8 the payer's claim number, for replacements (7), voids (8) and late charges (5).
- HI in the guide's order: ABK principal and ABJ admitting diagnosis, DR (DRG), ABF other diagnoses,
  BBR principal and BBQ other ICD-10-PCS procedures with their dates, BH occurrence, BE value and BG
  condition codes; the present-on-admission indicator is the ninth component of each diagnosis.
- 2310A attending provider, 2310E service facility when it is not the billing provider.
- 2400: LX, SV2 (revenue code, HCPCS where present, charge, units), DTP*472, REF*6R.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from billing_x12 import format_cents
from billing_x12.writer import Element, TransactionSetOut, render_single_group

from claims.adapters.x12_837 import (
    Segments,
    address_segments,
    check_claim,
    d8,
    identifier,
    other_subscriber_loops,
    provider_name,
    transaction,
    write_837,
)
from claims.domain import scrubber
from claims.domain.outbound import (
    Claim837,
    CodedDiagnosis837,
    Institutional837,
    Interchange837,
    Problem837,
)

IMPLEMENTATION = "005010X223A2"
# HI holds at most 12 composites; the guide allows two HI segments for other diagnoses and two for
# other procedures, so 24 of each.
HI_COMPOSITES = 12
MAX_OTHER_DIAGNOSES = 24
MAX_OTHER_PROCEDURES = 24


def icd(code: str) -> str:
    """ICD codes travel without their period."""
    return code.replace(".", "").upper()


def d8_time(value: datetime) -> str:
    return value.strftime("%Y%m%d%H%M")


def _diagnosis(qualifier: str, diagnosis: CodedDiagnosis837) -> tuple[str, ...]:
    # C022-09 is the present-on-admission indicator; components 3-8 stay empty.
    if diagnosis.poa:
        return (qualifier, icd(diagnosis.code), "", "", "", "", "", "", diagnosis.poa)
    return (qualifier, icd(diagnosis.code))


def _hi_segments(out: Segments, composites: list[tuple[str, ...]], limit: int) -> None:
    composites = composites[:limit]
    for start in range(0, len(composites), HI_COMPOSITES):
        out.add("HI", *composites[start : start + HI_COMPOSITES])


def _health_care_codes(out: Segments, bill: Institutional837) -> None:
    out.add("HI", _diagnosis("ABK", bill.principal_diagnosis))
    if bill.admitting_diagnosis:
        out.add("HI", ("ABJ", icd(bill.admitting_diagnosis)))
    if bill.drg:
        out.add("HI", ("DR", bill.drg))
    _hi_segments(out, [_diagnosis("ABF", d) for d in bill.other_diagnoses], MAX_OTHER_DIAGNOSES)
    if bill.procedures:
        principal, *others = bill.procedures
        out.add("HI", ("BBR", icd(principal.code), "D8", d8(principal.performed_on)))
        _hi_segments(
            out, [("BBQ", icd(p.code), "D8", d8(p.performed_on)) for p in others], MAX_OTHER_PROCEDURES
        )
    _hi_segments(out, [("BH", code, "D8", d8(day)) for code, day in bill.occurrence_codes], 24)
    _hi_segments(out, [("BE", code, "", "", format_cents(cents)) for code, cents in bill.value_codes], 24)
    _hi_segments(out, [("BG", code) for code in bill.condition_codes], 24)


def institutional_claim_loop(out: Segments, claim: Claim837) -> None:
    """Loop 2300 of an 837I and its 2310/2320/2400 loops."""
    bill = claim.institutional
    assert bill is not None, "an 837I claim carries its institutional part"
    out.add(
        "CLM",
        claim.patient_control_number,
        format_cents(claim.total_charge_cents),
        "",
        "",
        (bill.type_of_bill, "A", claim.frequency_code),
        "",  # CLM06 is not used in an 837I
        "A",  # assignment accepted
        "Y",  # benefits assigned
        "Y",  # release of information signed
    )
    if bill.is_inpatient and bill.discharged_at is not None:
        out.add("DTP", "096", "TM", bill.discharged_at.strftime("%H%M"))
    out.add("DTP", "434", "RD8", f"{d8(bill.statement_from)}-{d8(bill.statement_to)}")
    if bill.is_inpatient and bill.admitted_at is not None:
        out.add("DTP", "435", "DT", d8_time(bill.admitted_at))
    cl1: list[Element] = [bill.admission_type or "", bill.admission_source or "", bill.patient_status]
    out.add("CL1", *cl1)
    if claim.frequency_code in ("5", "7", "8") and claim.payer_claim_control_number:
        out.add("REF", "F8", identifier(claim.payer_claim_control_number, 50))
    _health_care_codes(out, bill)
    attending = bill.attending_provider
    if attending is not None:
        provider_name(out, "71", attending)
        if attending.taxonomy_code:
            out.add("PRV", "AT", "PXC", attending.taxonomy_code)
    facility = bill.service_facility
    if facility is not None and facility.npi != claim.billing_provider.npi and facility.address:
        provider_name(out, "77", facility)
        address_segments(out, facility.address)
    other_subscriber_loops(out, claim)
    for line in bill.lines:
        out.add("LX", str(line.line_number))
        procedure: Element = ("HC", line.hcpcs, *line.modifiers[:4]) if line.hcpcs else ""
        out.add("SV2", line.revenue_code, procedure, format_cents(line.charge_cents), "UN", str(line.units))
        if line.service_date is not None:
            out.add("DTP", "472", "D8", d8(line.service_date))
        out.add("REF", "6R", identifier(line.line_control_number, 50))


def check_institutional_claim(claim: Claim837) -> list[Problem837]:
    """The 837P's party checks, and what an 837I needs besides (field names only, never values)."""
    problems = check_claim(claim)
    bill = claim.institutional
    if bill is None:
        return [*problems, Problem837("claim.kind", "is not institutional", scrubber.INSTITUTIONAL)]
    problems += _check_institutional(bill, claim.total_charge_cents)
    return problems


def _check_institutional(bill: Institutional837, total_charge_cents: int) -> Iterable[Problem837]:
    if not bill.lines:
        yield Problem837("lines", "an institutional claim needs a revenue-code line", scrubber.INSTITUTIONAL)
    if sum(line.charge_cents for line in bill.lines) != total_charge_cents:
        yield Problem837("total_charge_cents", "is not the sum of the lines", scrubber.CLM02_SUM)
    if bill.statement_to < bill.statement_from:
        yield Problem837("statement_to", "is before statement_from", scrubber.STATEMENT_DATES)
    if bill.is_inpatient and bill.admitted_at is None:
        yield Problem837("admitted_at", "an inpatient claim needs the admission", scrubber.ADMISSION)
    if bill.attending_provider is not None and not bill.attending_provider.is_person:
        # 2310A NM102 is 1: the attending is a person, never an organisation.
        yield Problem837("attending_provider", "must be a person", scrubber.RENDERING_NPI)


def write_837i(interchange: Interchange837) -> str:
    """The whole file, one transaction set of institutional claims."""
    body = Segments()
    transaction(body, interchange, institutional_claim_loop)
    return render_single_group(
        functional_id="HC",
        version=IMPLEMENTATION,
        transaction_sets=[
            TransactionSetOut("837", interchange.control_number, body.items, implementation=IMPLEMENTATION)
        ],
        sender_id=identifier(interchange.sender_id, 15),
        receiver_id=identifier(interchange.receiver_id, 15),
        interchange_control_number=interchange.control_number,
        group_control_number=interchange.control_number,
        created=interchange.created_at,
        usage_indicator=interchange.usage,
    )


class X12ClaimFormat:
    """The application's ClaimFileFormat: X12 837P 005010X222A1 for professional claims, 837I
    005010X223A2 for institutional ones (a file holds one kind: the submission batches them so)."""

    def check(self, claim: Claim837) -> list[Problem837]:
        return check_institutional_claim(claim) if claim.institutional is not None else check_claim(claim)

    def render(self, interchange: Interchange837) -> str:
        if any(claim.institutional is not None for claim in interchange.claims):
            return write_837i(interchange)
        return write_837(interchange)
