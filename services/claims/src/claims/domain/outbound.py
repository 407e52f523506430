"""A claim as it leaves: the 837's content with the patient's identifiers decrypted.

Built in memory by the submission worker, handed to the writer, never stored or logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Priority = Literal["P", "S", "T"]


@dataclass(frozen=True)
class Address837:
    line1: str
    city: str
    state: str
    postal_code: str
    line2: str | None = None


@dataclass(frozen=True)
class Person837:
    family_name: str
    given_name: str | None = None
    birth_date: date | None = None
    sex: str = "U"
    address: Address837 | None = None


@dataclass(frozen=True)
class Provider837:
    npi: str
    taxonomy_code: str
    organization_name: str | None = None
    family_name: str | None = None
    given_name: str | None = None
    tax_id: str | None = None
    address: Address837 | None = None

    @property
    def is_person(self) -> bool:
        return not self.organization_name


@dataclass(frozen=True)
class Payer837:
    name: str
    edi_payer_id: str
    claim_filing_indicator: str


@dataclass(frozen=True)
class Adjustment837:
    """One CAS triplet: group (CO, PR, OA, PI), reason code (CARC) and amount."""

    group: str
    reason_code: str
    amount_cents: int


@dataclass(frozen=True)
class LineAdjudication837:
    """An earlier payer's answer on one service line (loop 2430: SVD, CAS, DTP*573)."""

    line_number: int
    code: str
    modifiers: tuple[str, ...]
    units: int
    paid_cents: int
    adjustments: tuple[Adjustment837, ...] = ()


@dataclass(frozen=True)
class PayerAdjudication837:
    """An earlier payer's answer on the claim (loop 2320: CAS, AMT*D, AMT*EAF; and its lines)."""

    paid_cents: int
    remaining_patient_liability_cents: int
    adjudicated_on: date
    claim_adjustments: tuple[Adjustment837, ...] = ()
    lines: tuple[LineAdjudication837, ...] = ()


@dataclass(frozen=True)
class OtherCoverage837:
    """A coverage of the patient besides the one billed (COB), reported in loop 2320; with its
    payer's adjudication when that payer answered before the one billed."""

    priority: Priority
    relationship: str
    member_id: str
    subscriber: Person837
    payer: Payer837
    group_number: str | None = None
    adjudication: PayerAdjudication837 | None = None


@dataclass(frozen=True)
class Line837:
    line_number: int
    line_control_number: str
    code: str
    modifiers: tuple[str, ...]
    units: int
    charge_cents: int
    diagnosis_pointers: tuple[int, ...]
    service_date: date


@dataclass(frozen=True)
class CodedDiagnosis837:
    """An ICD-10-CM code with its present-on-admission indicator (Y, N, U, W, 1, or None when exempt)."""

    code: str
    poa: str | None = None


@dataclass(frozen=True)
class Procedure837:
    """An ICD-10-PCS procedure and the day it was performed."""

    code: str
    performed_on: date


@dataclass(frozen=True)
class InstitutionalLine837:
    """Loop 2400 of an 837I: a revenue code, the HCPCS code where the chargemaster has one."""

    line_number: int
    line_control_number: str
    revenue_code: str
    units: int
    charge_cents: int
    hcpcs: str | None = None
    modifiers: tuple[str, ...] = ()
    service_date: date | None = None


@dataclass(frozen=True)
class Institutional837:
    """What a UB-04 adds to a claim: the stay, its institutional coding and revenue-code lines.

    `type_of_bill` is the facility type and the bill classification ("11" inpatient hospital, "13"
    outpatient hospital); the claim's frequency code completes it in CLM05. The first procedure is
    the principal one (BBR), the others BBQ."""

    type_of_bill: str
    statement_from: date
    statement_to: date
    patient_status: str
    principal_diagnosis: CodedDiagnosis837
    lines: tuple[InstitutionalLine837, ...]
    admitted_at: datetime | None = None
    discharged_at: datetime | None = None
    admission_type: str | None = None
    admission_source: str | None = None
    admitting_diagnosis: str | None = None
    other_diagnoses: tuple[CodedDiagnosis837, ...] = ()
    procedures: tuple[Procedure837, ...] = ()
    drg: str | None = None
    attending_provider: Provider837 | None = None
    service_facility: Provider837 | None = None
    condition_codes: tuple[str, ...] = ()
    occurrence_codes: tuple[tuple[str, date], ...] = ()
    value_codes: tuple[tuple[str, int], ...] = ()

    @property
    def is_inpatient(self) -> bool:
        return self.type_of_bill[-1:] in ("1", "2")


@dataclass(frozen=True)
class Claim837:
    patient_control_number: str
    total_charge_cents: int
    place_of_service: str
    frequency_code: str
    diagnoses: tuple[str, ...]
    lines: tuple[Line837, ...]
    billing_provider: Provider837
    payer: Payer837
    priority: Priority
    relationship: str
    member_id: str
    subscriber: Person837
    # None when the patient is the subscriber (no 2000C loop).
    patient: Person837 | None = None
    group_number: str | None = None
    rendering_provider: Provider837 | None = None
    payer_claim_control_number: str | None = None
    other_coverages: tuple[OtherCoverage837, ...] = ()
    # Set for an institutional claim (837I): then `lines`, `diagnoses` and `place_of_service` of the
    # professional form are not written.
    institutional: Institutional837 | None = None


@dataclass(frozen=True)
class Submitter837:
    name: str
    identifier: str
    contact_name: str
    phone: str


@dataclass(frozen=True)
class Interchange837:
    sender_id: str
    receiver_id: str
    receiver_name: str
    control_number: int
    created_at: datetime
    submitter: Submitter837
    claims: tuple[Claim837, ...]
    usage: Literal["P", "T"] = "P"
    reference: str = ""


@dataclass(frozen=True)
class Problem837:
    field: str
    message: str
    edit_id: str  # the scrubber edit (claims.domain.scrubber) the biller's work queue shows
