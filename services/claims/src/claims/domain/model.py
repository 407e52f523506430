"""Value objects of a claim: what it bills, and the facts about its parties that the scrubber checks.

The facts carry no patient data: for sealed fields they only say whether a value is on file. What a
value looks like is checked when the 837 is written, the one moment the service decrypts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from billing_events.contracts.claims import ClaimCreated, ClaimLine, ClaimSequence, PriorAdjudication
from billing_events.contracts.invoicing import InstitutionalBill

Status = Literal[
    "created",
    "scrub_failed",
    "ready",
    "submitted",
    "accepted",
    "rejected",
    "paid",
    "partially_paid",
    "denied",
    "resubmitted",
    "voided",
    "closed",
]
Frequency = Literal["1", "7", "8"]


@dataclass(frozen=True)
class ClaimContent:
    """What a claim bills, fixed when it is created from an invoice."""

    claim_id: str
    patient_control_number: str
    invoice_id: str
    encounter_id: str
    patient_id: str
    coverage_id: str
    payer_id: str
    billing_provider_id: str
    rendering_provider_id: str
    place_of_service: str
    service_date: date
    diagnoses: tuple[str, ...]
    lines: tuple[ClaimLine, ...]
    total_charge_cents: int
    # Coordination of benefits: which coverage this claim bills, the claim of the payer before it,
    # and every earlier payer's answer (reported to this payer in loops 2320 and 2430).
    sequence: ClaimSequence = "primary"
    predecessor_claim_id: str | None = None
    prior_adjudications: tuple[PriorAdjudication, ...] = ()
    # Forwarded by the earlier payer (a crossover): the platform never sends it.
    crossover: bool = False
    # A hospital's claim, written as an 837I from its institutional bill.
    institutional: InstitutionalBill | None = None

    @property
    def kind(self) -> Literal["professional", "institutional"]:
        return "institutional" if self.institutional is not None else "professional"

    def created_event(self) -> ClaimCreated:
        return ClaimCreated(
            claim_id=self.claim_id,
            patient_control_number=self.patient_control_number,
            invoice_id=self.invoice_id,
            encounter_id=self.encounter_id,
            patient_id=self.patient_id,
            coverage_id=self.coverage_id,
            payer_id=self.payer_id,
            service_date=self.service_date,
            diagnoses=self.diagnoses,
            lines=self.lines,
            total_charge_cents=self.total_charge_cents,
            billing_provider_id=self.billing_provider_id,
            rendering_provider_id=self.rendering_provider_id,
            place_of_service=self.place_of_service,
            sequence=self.sequence,
            predecessor_claim_id=self.predecessor_claim_id,
            prior_adjudications=self.prior_adjudications,
            crossover=self.crossover,
            kind=self.kind,
            institutional=self.institutional,
        )

    @classmethod
    def from_event(cls, event: ClaimCreated) -> ClaimContent:
        return cls(
            claim_id=event.claim_id,
            patient_control_number=event.patient_control_number,
            invoice_id=event.invoice_id,
            encounter_id=event.encounter_id,
            patient_id=event.patient_id,
            coverage_id=event.coverage_id,
            payer_id=event.payer_id,
            billing_provider_id=event.billing_provider_id or "",
            rendering_provider_id=event.rendering_provider_id or "",
            place_of_service=event.place_of_service or "",
            service_date=event.service_date,
            diagnoses=event.diagnoses,
            lines=event.lines,
            total_charge_cents=event.total_charge_cents,
            sequence=event.sequence,
            predecessor_claim_id=event.predecessor_claim_id,
            prior_adjudications=event.prior_adjudications,
            crossover=event.crossover,
            institutional=event.institutional,
        )

    def codes_signature(self) -> str:
        """Patient, payer, date and codes: two claims alike in all of them bill the same service twice."""
        codes = sorted("+".join((line.code, *line.modifiers)) + f"x{line.units}" for line in self.lines)
        return ",".join(codes)


@dataclass(frozen=True)
class ProviderFacts:
    npi: str
    taxonomy_code: str
    tax_id: str | None
    postal_code: str | None


@dataclass(frozen=True)
class PayerFacts:
    edi_payer_id: str
    claim_filing_indicator: str
    timely_filing_days: int = 365


@dataclass(frozen=True)
class CoverageFacts:
    payer_id: str
    patient_id: str
    has_member_id: bool
    relationship: str
    has_subscriber: bool
    effective_from: date
    effective_to: date | None


@dataclass(frozen=True)
class PatientFacts:
    has_name: bool
    has_birth_date: bool
    has_address: bool


@dataclass(frozen=True)
class ScrubContext:
    """Everything the edits look at besides the claim itself; None where the service knows nothing yet."""

    billing_provider: ProviderFacts | None = None
    rendering_provider: ProviderFacts | None = None
    payer: PayerFacts | None = None
    coverage: CoverageFacts | None = None
    patient: PatientFacts | None = None
    # Another live claim with the same patient, payer, date and codes.
    duplicate_of: str | None = None
