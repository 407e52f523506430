"""837P Health Care Claim: Professional (005010X222A1), read as far as a payer needs to adjudicate:
the envelope's control numbers, billing provider, subscriber, patient, payer, the claim (CLM, REF*F8,
HI) and its service lines (LX, SV1, DTP*472, REF*6R), with what earlier payers paid and adjusted on
each line (loop 2430: SVD, CAS) when the claim goes to a secondary or tertiary payer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from billing_x12.amounts import is_digits
from billing_x12.common import Party, read_nm1
from billing_x12.errors import SegmentError, WrongTransactionError
from billing_x12.reader import (
    EnvelopeRef,
    TransactionSet,
    envelope_ref,
    iter_transaction_sets,
    read_interchanges,
)
from billing_x12.remittance import Adjustment, read_cas
from billing_x12.segments import Segment, parse_period

TRANSACTION_SET_ID = "837"
IMPLEMENTATION = "005010X222A1"

_DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})


@dataclass(frozen=True)
class Diagnosis:
    qualifier: str
    code: str


@dataclass(frozen=True)
class PriorLinePayment:
    """Loop 2430: an earlier payer's answer on the line (SVD01 payer id, SVD02 paid, its CAS)."""

    payer_id: str
    paid_cents: int
    adjustments: tuple[Adjustment, ...] = ()


@dataclass(frozen=True)
class ProfessionalServiceLine:
    """Loop 2400: LX, SV1, DTP*472, REF*6R."""

    line_number: int
    code: str
    charge_cents: int
    units: Decimal
    procedure_qualifier: str = "HC"
    modifiers: tuple[str, ...] = ()
    unit_basis: str = "UN"
    place_of_service: str | None = None
    diagnosis_pointers: tuple[int, ...] = ()
    service_date_from: dt.date | None = None
    service_date_to: dt.date | None = None
    line_control_number: str | None = None
    rendering_provider: Party | None = None
    position: int = field(default=0, compare=False)
    prior_payments: tuple[PriorLinePayment, ...] = ()


@dataclass(frozen=True)
class ProfessionalClaim:
    """Loop 2300 with the hierarchy it sits in. `subscriber` and `patient` are PHI: never log them."""

    envelope: EnvelopeRef
    patient_control_number: str
    charge_cents: int
    place_of_service: str
    frequency_code: str
    payer: Party
    subscriber: Party
    billing_provider: Party
    payer_responsibility: str
    claim_filing_indicator: str
    lines: tuple[ProfessionalServiceLine, ...]
    patient: Party | None = None
    relationship_code: str = "18"
    billing_tax_id: str | None = field(default=None, repr=False)
    original_claim_number: str | None = None
    diagnoses: tuple[Diagnosis, ...] = ()
    rendering_provider: Party | None = None
    submitter: Party | None = None
    batch_reference: str | None = None
    position: int = field(default=0, compare=False)

    @property
    def payer_id(self) -> str:
        """2010BB NM109: the payer's EDI id."""
        return self.payer.identifier

    @property
    def member_id(self) -> str:
        """2010BA NM109: the subscriber's member id (PHI)."""
        return self.subscriber.identifier

    @property
    def service_date_from(self) -> dt.date | None:
        dates = [line.service_date_from for line in self.lines if line.service_date_from]
        return min(dates) if dates else None

    @property
    def line_charge_total_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)


def parse_837p(data: str | bytes) -> tuple[ProfessionalClaim, ...]:
    """Every claim of every 837P transaction set in the file; envelopes are checked strictly."""
    claims: list[ProfessionalClaim] = []
    for interchange, group, transaction_set in iter_transaction_sets(read_interchanges(data)):
        claims.extend(
            read_professional_claims(
                transaction_set,
                envelope_ref(interchange, group, transaction_set),
                group_version=group.version,
            )
        )
    return tuple(claims)


def check_837p(transaction_set: TransactionSet, group_version: str = "") -> None:
    st = transaction_set.header
    if transaction_set.id != TRANSACTION_SET_ID:
        raise WrongTransactionError("ST01 is not 837", position=st.position, segment_id="ST", element="ST01")
    version = transaction_set.implementation or group_version
    if not version.startswith("005010X222"):
        raise WrongTransactionError(
            "the implementation is not 005010X222A1", position=st.position, segment_id="ST", element="ST03"
        )


class _Context:
    def __init__(self) -> None:
        self.billing_provider: Party | None = None
        self.billing_tax_id: str | None = None
        self.subscriber: Party | None = None
        self.payer: Party | None = None
        self.sbr: Segment | None = None
        self.patient: Party | None = None
        self.relationship = "18"
        self.level = ""
        self.submitter: Party | None = None
        self.batch_reference: str | None = None


class _ClaimBuilder:
    def __init__(self, clm: Segment) -> None:
        self.clm = clm
        self.original: str | None = None
        self.diagnoses: list[Diagnosis] = []
        self.rendering: Party | None = None
        self.lines: list[ProfessionalServiceLine] = []
        self.lx: Segment | None = None
        self.sv1: Segment | None = None
        self.dates: tuple[dt.date, dt.date] | None = None
        self.line_control: str | None = None
        self.line_rendering: Party | None = None
        self.prior_payments: list[tuple[Segment, list[Adjustment]]] = []
        self.in_other_subscriber = False

    def close_line(self) -> None:
        if self.lx is None:
            return
        lx, sv1 = self.lx, self.sv1
        if sv1 is None:
            raise SegmentError("service line has no SV1", position=lx.position, segment_id="LX", ack_code="3")
        procedure = sv1.components(1)
        if len(procedure) < 2 or not procedure[1]:
            raise sv1.error(1, "is not a procedure composite (HC:code)", ack_code="1")
        pointers = []
        for pointer in sv1.components(7):
            if not is_digits(pointer) or len(pointer) > 2:
                raise sv1.error(7, "is not a list of diagnosis pointers")
            pointers.append(int(pointer))
        self.lines.append(
            ProfessionalServiceLine(
                line_number=lx.integer(1),
                procedure_qualifier=procedure[0],
                code=procedure[1],
                modifiers=tuple(m for m in procedure[2:6] if m),
                charge_cents=sv1.cents(2),
                unit_basis=sv1.get(3) or "UN",
                units=sv1.decimal(4),
                place_of_service=sv1.optional(5),
                diagnosis_pointers=tuple(pointers),
                service_date_from=self.dates[0] if self.dates else None,
                service_date_to=self.dates[1] if self.dates else None,
                line_control_number=self.line_control,
                rendering_provider=self.line_rendering,
                position=sv1.position,
                prior_payments=tuple(
                    PriorLinePayment(svd.required(1), svd.cents(2), tuple(adjustments))
                    for svd, adjustments in self.prior_payments
                ),
            )
        )
        self.prior_payments = []
        self.lx = self.sv1 = None
        self.dates = None
        self.line_control = None
        self.line_rendering = None


def read_professional_claims(
    transaction_set: TransactionSet, envelope: EnvelopeRef, *, group_version: str = ""
) -> tuple[ProfessionalClaim, ...]:
    check_837p(transaction_set, group_version)
    context = _Context()
    claims: list[ProfessionalClaim] = []
    claim: _ClaimBuilder | None = None

    def finish() -> None:
        nonlocal claim
        if claim is not None:
            claims.append(_build_claim(claim, context, envelope))
            claim = None

    for segment in transaction_set.segments:
        sid = segment.id
        if sid == "HL":
            finish()
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
            continue
        if claim is None:
            if sid == "CLM":
                if context.level not in ("22", "23"):
                    raise SegmentError(
                        "CLM outside a subscriber or patient level",
                        position=segment.position,
                        segment_id="CLM",
                    )
                claim = _ClaimBuilder(segment)
            else:
                _hierarchy_segment(context, segment)
            continue
        if sid == "CLM":
            finish()
            claim = _ClaimBuilder(segment)
            continue
        _claim_segment(claim, segment)
    finish()
    return tuple(claims)


def _hierarchy_segment(context: _Context, segment: Segment) -> None:
    sid, level = segment.id, context.level
    if sid == "BHT":
        context.batch_reference = segment.optional(3)
    elif sid == "NM1" and level == "" and segment.get(1) == "41":
        context.submitter = read_nm1(segment)
    elif sid == "NM1":
        code = segment.get(1)
        if level == "20" and code == "85":
            context.billing_provider = read_nm1(segment)
        elif level == "22" and code == "IL":
            context.subscriber = read_nm1(segment)
        elif level == "22" and code == "PR":
            context.payer = read_nm1(segment)
        elif level == "23" and code == "QC":
            context.patient = read_nm1(segment)
    elif sid == "REF" and level == "20" and segment.get(1) in ("EI", "SY"):
        context.billing_tax_id = segment.get(2)
    elif sid == "SBR" and level == "22":
        context.sbr = segment
        if segment.get(2):
            context.relationship = segment.get(2)
    elif sid == "PAT" and level == "23":
        context.relationship = segment.get(1) or context.relationship


def _claim_segment(claim: _ClaimBuilder, segment: Segment) -> None:
    sid = segment.id
    if sid == "LX":
        claim.close_line()
        claim.lx = segment
        claim.in_other_subscriber = False
        return
    if claim.lx is not None:
        if sid == "SV1":
            claim.sv1 = segment
        elif sid == "DTP" and segment.get(1) == "472":
            claim.dates = parse_period(segment, 2)
        elif sid == "REF" and segment.get(1) == "6R":
            claim.line_control = segment.required(2)
        elif sid == "NM1" and segment.get(1) == "82":
            claim.line_rendering = read_nm1(segment)
        elif sid == "SVD":
            claim.prior_payments.append((segment, []))
        elif sid == "CAS" and claim.prior_payments:
            claim.prior_payments[-1][1].extend(read_cas(segment))
        return
    if sid == "SBR":
        # Loop 2320: other payers' subscriber information; its NM1s are not this claim's providers.
        claim.in_other_subscriber = True
    elif claim.in_other_subscriber:
        return
    elif sid == "REF" and segment.get(1) == "F8":
        claim.original = segment.required(2)
    elif sid == "HI":
        for index in range(1, 13):
            parts = segment.components(index)
            if not parts:
                continue
            if len(parts) < 2 or not parts[1]:
                raise segment.error(index, "is not a diagnosis composite (qualifier:code)", ack_code="1")
            if parts[0] in _DIAGNOSIS_QUALIFIERS:
                claim.diagnoses.append(Diagnosis(parts[0], parts[1]))
    elif sid == "NM1" and segment.get(1) == "82":
        claim.rendering = read_nm1(segment)


def _build_claim(claim: _ClaimBuilder, context: _Context, envelope: EnvelopeRef) -> ProfessionalClaim:
    claim.close_line()
    clm = claim.clm
    facility = clm.components(5)
    if len(facility) < 3 or not facility[0] or not facility[2]:
        raise clm.error(5, "is not a facility:qualifier:frequency composite", ack_code="1")
    if context.payer is None:
        raise SegmentError(
            "claim has no payer (2010BB NM1*PR)", position=clm.position, segment_id="CLM", ack_code="3"
        )
    if context.subscriber is None or context.sbr is None:
        raise SegmentError(
            "claim has no subscriber (2000B SBR, 2010BA NM1*IL)",
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
            "claim has no service line (LX/SV1)", position=clm.position, segment_id="CLM", ack_code="3"
        )
    return ProfessionalClaim(
        envelope=envelope,
        patient_control_number=clm.required(1),
        charge_cents=clm.cents(2),
        place_of_service=facility[0],
        frequency_code=facility[2],
        payer=context.payer,
        subscriber=context.subscriber,
        patient=context.patient if context.level == "23" else None,
        relationship_code=context.relationship,
        billing_provider=context.billing_provider,
        billing_tax_id=context.billing_tax_id,
        payer_responsibility=context.sbr.get(1),
        claim_filing_indicator=context.sbr.get(9),
        original_claim_number=claim.original,
        diagnoses=tuple(claim.diagnoses),
        rendering_provider=claim.rendering,
        submitter=context.submitter,
        batch_reference=context.batch_reference,
        lines=tuple(claim.lines),
        position=clm.position,
    )
