"""837I Health Care Claim: Institutional (005010X223A2), read as far as a payer needs to adjudicate a
hospital's claim: the hierarchy of the 837P (billing provider, subscriber, patient, payer), and the
claim's own: CLM05 type of bill, DTP*434 statement dates, DTP*435 admission, CL1, HI (principal,
admitting and other diagnoses with POA, PCS procedures, DRG) and the SV2 revenue-code lines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from billing_x12.common import Party, read_nm1
from billing_x12.errors import SegmentError, WrongTransactionError
from billing_x12.professional_claim import _Context, _hierarchy_segment
from billing_x12.reader import (
    EnvelopeRef,
    TransactionSet,
    envelope_ref,
    iter_transaction_sets,
    read_interchanges,
)
from billing_x12.segments import Segment, parse_date, parse_period

IMPLEMENTATION = "005010X223A2"


@dataclass(frozen=True)
class CodedDiagnosis:
    """An HI composite: qualifier (ABK, ABJ, ABF), ICD-10-CM code and present-on-admission indicator."""

    qualifier: str
    code: str
    poa: str | None = None


@dataclass(frozen=True)
class Procedure:
    """An HI composite BBR (principal) or BBQ (other): ICD-10-PCS code and date performed."""

    qualifier: str
    code: str
    performed_on: dt.date | None = None


@dataclass(frozen=True)
class InstitutionalServiceLine:
    """Loop 2400: LX, SV2 (revenue code, HCPCS where present, charge, unit basis, units), DTP*472, REF*6R."""

    line_number: int
    revenue_code: str
    charge_cents: int
    units: Decimal
    procedure_qualifier: str | None = None
    hcpcs: str | None = None
    modifiers: tuple[str, ...] = ()
    unit_basis: str = "UN"
    service_date_from: dt.date | None = None
    service_date_to: dt.date | None = None
    line_control_number: str | None = None
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class InstitutionalClaim:
    """Loop 2300 with the hierarchy it sits in. `subscriber` and `patient` are PHI: never log them."""

    envelope: EnvelopeRef
    patient_control_number: str
    charge_cents: int
    type_of_bill: str
    frequency_code: str
    payer: Party
    subscriber: Party
    billing_provider: Party
    payer_responsibility: str
    claim_filing_indicator: str
    lines: tuple[InstitutionalServiceLine, ...]
    patient_status: str
    statement_from: dt.date
    statement_to: dt.date
    admitted_at: dt.datetime | None = None
    admission_type: str | None = None
    admission_source: str | None = None
    patient: Party | None = None
    relationship_code: str = "18"
    billing_tax_id: str | None = field(default=None, repr=False)
    original_claim_number: str | None = None
    diagnoses: tuple[CodedDiagnosis, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    drg: str | None = None
    attending_provider: Party | None = None
    service_facility: Party | None = None
    submitter: Party | None = None
    batch_reference: str | None = None
    position: int = field(default=0, compare=False)

    @property
    def payer_id(self) -> str:
        return self.payer.identifier

    @property
    def member_id(self) -> str:
        """2010BA NM109 (PHI)."""
        return self.subscriber.identifier

    @property
    def is_inpatient(self) -> bool:
        """Bill classification 1 (inpatient, Part A) or 2 (inpatient, Part B): the type of bill's
        second digit."""
        return self.type_of_bill[1:2] in ("1", "2")

    @property
    def principal_diagnosis(self) -> CodedDiagnosis | None:
        return next((d for d in self.diagnoses if d.qualifier == "ABK"), None)

    @property
    def line_charge_total_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)

    @property
    def covered_days(self) -> int:
        """Days of the stay: the nights between the statement dates (a same-day stay counts one)."""
        return max(1, (self.statement_to - self.statement_from).days)


def parse_837i(data: str | bytes) -> tuple[InstitutionalClaim, ...]:
    """Every claim of every 837I transaction set in the file; envelopes are checked strictly."""
    claims: list[InstitutionalClaim] = []
    for interchange, group, transaction_set in iter_transaction_sets(read_interchanges(data)):
        claims.extend(
            read_institutional_claims(
                transaction_set,
                envelope_ref(interchange, group, transaction_set),
                group_version=group.version,
            )
        )
    return tuple(claims)


def is_837i(transaction_set: TransactionSet, group_version: str = "") -> bool:
    version = transaction_set.implementation or group_version
    return transaction_set.id == "837" and version.startswith("005010X223")


def check_837i(transaction_set: TransactionSet, group_version: str = "") -> None:
    st = transaction_set.header
    if transaction_set.id != "837":
        raise WrongTransactionError("ST01 is not 837", position=st.position, segment_id="ST", element="ST01")
    if not is_837i(transaction_set, group_version):
        raise WrongTransactionError(
            "the implementation is not 005010X223A2", position=st.position, segment_id="ST", element="ST03"
        )


class _ClaimBuilder:
    def __init__(self, clm: Segment) -> None:
        self.clm = clm
        self.dates: dict[str, Segment] = {}
        self.cl1: Segment | None = None
        self.original: str | None = None
        self.diagnoses: list[CodedDiagnosis] = []
        self.procedures: list[Procedure] = []
        self.drg: str | None = None
        self.attending: Party | None = None
        self.facility: Party | None = None
        self.lines: list[InstitutionalServiceLine] = []
        self.lx: Segment | None = None
        self.sv2: Segment | None = None
        self.line_dates: tuple[dt.date, dt.date] | None = None
        self.line_control: str | None = None
        self.in_other_subscriber = False

    def close_line(self) -> None:
        if self.lx is None:
            return
        lx, sv2 = self.lx, self.sv2
        if sv2 is None:
            raise SegmentError("service line has no SV2", position=lx.position, segment_id="LX", ack_code="3")
        procedure = sv2.components(2)
        self.lines.append(
            InstitutionalServiceLine(
                line_number=lx.integer(1),
                revenue_code=sv2.required(1),
                procedure_qualifier=procedure[0] if procedure else None,
                hcpcs=procedure[1] if len(procedure) > 1 and procedure[1] else None,
                modifiers=tuple(m for m in procedure[2:6] if m),
                charge_cents=sv2.cents(3),
                unit_basis=sv2.get(4) or "UN",
                units=sv2.decimal(5),
                service_date_from=self.line_dates[0] if self.line_dates else None,
                service_date_to=self.line_dates[1] if self.line_dates else None,
                line_control_number=self.line_control,
                position=sv2.position,
            )
        )
        self.lx = self.sv2 = None
        self.line_dates = None
        self.line_control = None


def read_institutional_claims(
    transaction_set: TransactionSet, envelope: EnvelopeRef, *, group_version: str = ""
) -> tuple[InstitutionalClaim, ...]:
    check_837i(transaction_set, group_version)
    context = _Context()
    claims: list[InstitutionalClaim] = []
    claim: _ClaimBuilder | None = None

    def finish() -> None:
        nonlocal claim
        if claim is not None:
            claims.append(_build_claim(claim, context, envelope))
            claim = None

    for segment in transaction_set.segments:
        if segment.id == "HL":
            finish()
            _hierarchy_segment_hl(context, segment)
            continue
        if segment.id == "CLM":
            finish()
            if context.level not in ("22", "23"):
                raise SegmentError(
                    "CLM outside a subscriber or patient level", position=segment.position, segment_id="CLM"
                )
            claim = _ClaimBuilder(segment)
            continue
        if claim is None:
            _hierarchy_segment(context, segment)
        else:
            _claim_segment(claim, segment)
    finish()
    return tuple(claims)


def _hierarchy_segment_hl(context: _Context, segment: Segment) -> None:
    level = segment.required(3)
    context.level = level
    if level == "20":
        context.billing_provider = None
        context.billing_tax_id = None
    elif level == "22":
        context.subscriber = context.payer = context.sbr = context.patient = None
        context.relationship = "18"
    elif level == "23":
        context.patient = None


def _claim_segment(claim: _ClaimBuilder, segment: Segment) -> None:
    sid = segment.id
    if sid == "LX":
        claim.close_line()
        claim.lx = segment
        claim.in_other_subscriber = False
        return
    if claim.lx is not None:
        if sid == "SV2":
            claim.sv2 = segment
        elif sid == "DTP" and segment.get(1) == "472":
            claim.line_dates = parse_period(segment, 2)
        elif sid == "REF" and segment.get(1) == "6R":
            claim.line_control = segment.required(2)
        return
    if sid == "SBR":
        claim.in_other_subscriber = True
    elif claim.in_other_subscriber:
        return
    elif sid == "DTP":
        claim.dates[segment.get(1)] = segment
    elif sid == "CL1":
        claim.cl1 = segment
    elif sid == "REF" and segment.get(1) == "F8":
        claim.original = segment.required(2)
    elif sid == "HI":
        _read_hi(claim, segment)
    elif sid == "NM1" and segment.get(1) == "71":
        claim.attending = read_nm1(segment)
    elif sid == "NM1" and segment.get(1) == "77":
        claim.facility = read_nm1(segment)


def _read_hi(claim: _ClaimBuilder, segment: Segment) -> None:
    for index in range(1, 13):
        parts = segment.components(index)
        if not parts:
            continue
        if len(parts) < 2 or not parts[1]:
            raise segment.error(index, "is not a qualifier:code composite", ack_code="1")
        qualifier, code = parts[0], parts[1]
        if qualifier in ("ABK", "ABJ", "ABF"):
            poa = parts[8] if len(parts) > 8 and parts[8] else None
            claim.diagnoses.append(CodedDiagnosis(qualifier, code, poa))
        elif qualifier in ("BBR", "BBQ"):
            performed = None
            if len(parts) > 3 and parts[2] == "D8" and parts[3]:
                performed = parse_date(segment, index, parts[3])
            claim.procedures.append(Procedure(qualifier, code, performed))
        elif qualifier == "DR":
            claim.drg = code


def _build_claim(claim: _ClaimBuilder, context: _Context, envelope: EnvelopeRef) -> InstitutionalClaim:
    claim.close_line()
    clm = claim.clm
    bill = clm.components(5)
    if len(bill) < 3 or len(bill[0]) != 2 or bill[1] != "A" or not bill[2]:
        raise clm.error(5, "is not a type of bill composite (facility type:A:frequency)", ack_code="1")
    statement = claim.dates.get("434")
    if statement is None:
        raise SegmentError(
            "claim has no statement dates (DTP*434)", position=clm.position, segment_id="CLM", ack_code="3"
        )
    statement_from, statement_to = parse_period(statement, 2)
    if claim.cl1 is None:
        raise SegmentError("claim has no CL1", position=clm.position, segment_id="CLM", ack_code="3")
    if context.payer is None or context.subscriber is None or context.sbr is None:
        raise SegmentError(
            "claim has no payer or subscriber (2010BB, 2000B)",
            position=clm.position,
            segment_id="CLM",
            ack_code="3",
        )
    if context.billing_provider is None:
        raise SegmentError(
            "claim has no billing provider (2010AA NM1*85)",
            position=clm.position,
            segment_id="CLM",
            ack_code="3",
        )
    if not claim.lines:
        raise SegmentError(
            "claim has no service line (LX/SV2)", position=clm.position, segment_id="CLM", ack_code="3"
        )
    admission = claim.dates.get("435")
    admitted_at = None
    if admission is not None:
        value = admission.required(3)
        try:
            admitted_at = dt.datetime.strptime(value, "%Y%m%d%H%M" if len(value) == 12 else "%Y%m%d")
        except ValueError:
            raise admission.error(3, "is not a date and hour", ack_code="8") from None
    return InstitutionalClaim(
        envelope=envelope,
        patient_control_number=clm.required(1),
        charge_cents=clm.cents(2),
        type_of_bill=bill[0],
        frequency_code=bill[2],
        payer=context.payer,
        subscriber=context.subscriber,
        patient=context.patient if context.level == "23" else None,
        relationship_code=context.relationship,
        billing_provider=context.billing_provider,
        billing_tax_id=context.billing_tax_id,
        payer_responsibility=context.sbr.get(1),
        claim_filing_indicator=context.sbr.get(9),
        original_claim_number=claim.original,
        statement_from=statement_from,
        statement_to=statement_to,
        admitted_at=admitted_at,
        admission_type=claim.cl1.optional(1),
        admission_source=claim.cl1.optional(2),
        patient_status=claim.cl1.required(3),
        diagnoses=tuple(claim.diagnoses),
        procedures=tuple(claim.procedures),
        drg=claim.drg,
        attending_provider=claim.attending,
        service_facility=claim.facility,
        submitter=context.submitter,
        batch_reference=context.batch_reference,
        lines=tuple(claim.lines),
        position=clm.position,
    )
