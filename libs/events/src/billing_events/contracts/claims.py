"""Claims' events: a claim's life from creation to adjudication, and the files that carried it."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from billing_events.contracts.adjustments import AdjustmentGroup as AdjustmentGroup
from billing_events.contracts.adjustments import CasAdjustment as CasAdjustment
from billing_events.contracts.base import Event, Sealed, event
from billing_events.contracts.invoicing import InstitutionalBill

SERVICE = "claims"

# Which of the patient's coverages a claim bills: the primary first, then each payer after it (COB).
ClaimSequence = Literal["primary", "secondary", "tertiary"]


class ClaimLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_number: int
    line_control_number: str
    code: str
    modifiers: tuple[str, ...] = ()
    units: int
    charge_cents: int
    diagnosis_pointers: tuple[int, ...]


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    edit_id: str
    message: str
    field: str


class AdjudicatedLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_number: int
    line_control_number: str | None = None
    code: str
    charge_cents: int
    paid_cents: int
    adjustments: tuple[CasAdjustment, ...] = ()
    remark_codes: tuple[str, ...] = ()


class PriorAdjudication(BaseModel):
    """An earlier payer's answer on the same invoice, which a secondary or tertiary claim reports
    (837P loops 2320/2330B and 2430)."""

    model_config = ConfigDict(frozen=True)

    claim_id: str
    payer_id: str
    coverage_id: str
    sequence: ClaimSequence
    payer_claim_control_number: str
    paid_cents: int
    patient_responsibility_cents: int
    claim_adjustments: tuple[CasAdjustment, ...] = ()
    lines: tuple[AdjudicatedLine, ...] = ()
    adjudicated_on: date


@event(service=SERVICE, aggregate="claim", subject="claim_id")
class ClaimCreated(Event):
    claim_id: str
    patient_control_number: str
    invoice_id: str
    encounter_id: str
    patient_id: str
    coverage_id: str
    payer_id: str
    service_date: date
    diagnoses: tuple[str, ...]
    lines: tuple[ClaimLine, ...]
    total_charge_cents: int
    # From the invoice, so that the claim can be written without asking anyone (optional: added later).
    billing_provider_id: str | None = None
    rendering_provider_id: str | None = None
    place_of_service: str | None = None
    # Coordination of benefits (optional: added later; absent means a primary claim).
    sequence: ClaimSequence = "primary"
    predecessor_claim_id: str | None = None
    prior_adjudications: tuple[PriorAdjudication, ...] = ()
    # A claim the earlier payer forwarded itself (a crossover): recorded to carry the next payer's
    # answer, never sent by the platform.
    crossover: bool = False
    # A hospital's claim (optional: added later): "institutional" is written as an 837I from the
    # invoice's institutional bill, kept here so the claim needs nobody to write it.
    kind: Literal["professional", "institutional"] = "professional"
    institutional: InstitutionalBill | None = None


@event(service=SERVICE, aggregate="claim", subject="claim_id")
class ClaimScrubFailed(Event):
    claim_id: str
    failures: tuple[Finding, ...]


@event(service=SERVICE, aggregate="claim", subject="claim_id")
class ClaimReady(Event):
    claim_id: str
    # Set when a biller sends a front-end-rejected claim again as an original (frequency 1).
    reason: str | None = None
    # The biller's words may be about the patient: sealed under the patient's key, `reason` then
    # reads SEALED_TEXT. Events before sealing carry the text in `reason` alone.
    sealed_reason: Sealed | None = None


@event(service=SERVICE, aggregate="claim", subject="claim_id")
class ClaimSubmitted(Event):
    claim_id: str
    batch_id: str
    frequency_code: Literal["1", "7", "8"]
    interchange_control_number: str
    group_control_number: str
    transaction_set_control_number: str
    file_name: str


@event(service=SERVICE, aggregate="submission-batch", subject="batch_id")
class SubmissionBatchSent(Event):
    batch_id: str
    payer_id: str
    claim_ids: tuple[str, ...]
    interchange_control_number: str
    file_name: str
    group_control_number: str | None = None
    transaction_set_control_number: str | None = None


class RejectionReason(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    description: str


@event(service=SERVICE, aggregate="claim", subject="claim_id")
class ClaimAcknowledged(Event):
    claim_id: str
    acknowledgement: Literal["999", "277CA"]
    control_number: str
    payer_claim_control_number: str | None = None
    # The acknowledgement file and the submission batch it answers.
    file_name: str | None = None
    batch_id: str | None = None


@event(service=SERVICE, aggregate="claim", subject="claim_id")
class ClaimRejected(Event):
    claim_id: str
    acknowledgement: Literal["999", "277CA"]
    control_number: str
    reasons: tuple[RejectionReason, ...]
    file_name: str | None = None
    batch_id: str | None = None


class ProviderLevelAdjustment(BaseModel):
    """One 835 PLB reason: money the payer adds to or takes from the payment outside any claim
    (WO overpayment recovery, L6 interest, FB forwarding balance, 72 authorized return, CS ...).
    A positive amount reduces the payment; a negative one increases it (L6 interest is negative)."""

    model_config = ConfigDict(frozen=True)

    provider_identifier: str
    fiscal_period_end: date
    reason_code: str
    amount_cents: int
    # PLB03-2: what the payer says it concerns (often the claim it recoups from); codes and numbers.
    reference: str | None = None


class HeldLinePayment(BaseModel):
    """An SVC of a claim payment that matched no claim, kept whole so it posts when matched."""

    model_config = ConfigDict(frozen=True)

    code: str
    modifiers: tuple[str, ...] = ()
    charge_cents: int
    paid_cents: int
    service_date: date | None = None
    line_control_number: str | None = None
    adjustments: tuple[CasAdjustment, ...] = ()
    remark_codes: tuple[str, ...] = ()


class HeldClaimPayment(BaseModel):
    """A CLP that matched no claim: held on the remittance until a biller matches it (no patient data:
    the 835's names and member ids are never carried over)."""

    model_config = ConfigDict(frozen=True)

    patient_control_number: str
    claim_status_code: str
    charge_cents: int
    paid_cents: int
    patient_responsibility_cents: int
    payer_claim_control_number: str | None = None
    claim_adjustments: tuple[CasAdjustment, ...] = ()
    remark_codes: tuple[str, ...] = ()
    lines: tuple[HeldLinePayment, ...] = ()


@event(service=SERVICE, aggregate="remittance", subject="remittance_id")
class RemittanceReceived(Event):
    remittance_id: str
    payer_id: str | None = None
    payer_name: str
    trace_number: str
    payment_cents: int
    payment_date: date
    claim_count: int
    matched_claim_ids: tuple[str, ...]
    unmatched_patient_control_numbers: tuple[str, ...] = ()
    provider_adjustment_cents: int = 0
    file_name: str | None = None
    interchange_control_number: str | None = None
    # Remittance completeness (optional: added later). The PLB reasons behind
    # provider_adjustment_cents; the sum of the claims' payments (CLP04), so that payment_cents =
    # claim_paid_cents - provider_adjustment_cents can be checked by anyone; the claim payments held
    # unmatched; and whether an 835 or a biller's paper EOB brought the payment.
    provider_adjustments: tuple[ProviderLevelAdjustment, ...] = ()
    claim_paid_cents: int | None = None
    held_claims: tuple[HeldClaimPayment, ...] = ()
    source: Literal["835", "paper_eob"] = "835"
    # A payer's file may answer hundreds of thousands of claims: past a few thousand, the two lists
    # above stay empty and travel in this many RemittanceClaimsListed parts just before this event
    # (an event is a fact, not a file; it stays far under the store's and Kafka's size limits).
    listed_in_parts: int = 0


@event(service=SERVICE, aggregate="remittance", subject="remittance_id")
class RemittanceClaimMatched(Event):
    """A biller matched a held claim payment (CLP01) of a remittance to a claim: it posts to it now."""

    remittance_id: str
    patient_control_number: str
    claim_id: str


@event(service=SERVICE, aggregate="remittance", subject="remittance_id")
class RemittanceClaimsListed(Event):
    """One part of a large remittance's claim lists; the RemittanceReceived that follows says how many."""

    remittance_id: str
    part: int
    parts: int
    matched_claim_ids: tuple[str, ...] = ()
    unmatched_patient_control_numbers: tuple[str, ...] = ()
    # The held claim payments (see RemittanceReceived.held_claims) travel in parts too: a file whose
    # claim numbers a payer cut short can hold thousands of them.
    held_claims: tuple[HeldClaimPayment, ...] = ()
    # A payer's large file is posted a part at a time, each part in its own transaction: the part
    # ends with this many of the file's claims posted (a restart goes on after them). `parts` is then
    # 0: the RemittanceReceived that closes the payment says how many parts were listed.
    claims_through: int | None = None


@event(service=SERVICE, aggregate="claim", subject="claim_id")
class ClaimAdjudicated(Event):
    claim_id: str
    invoice_id: str
    remittance_id: str
    payer_id: str
    payer_claim_control_number: str
    claim_status_code: str
    outcome: Literal["paid", "partially_paid", "denied", "reversed"]
    total_charge_cents: int
    paid_cents: int
    patient_responsibility_cents: int
    claim_adjustments: tuple[CasAdjustment, ...] = ()
    lines: tuple[AdjudicatedLine, ...]
    remark_codes: tuple[str, ...] = ()
    adjudicated_on: date
    # Coordination of benefits (optional: added later). The payer's place in the patient's coverages,
    # and the payer expected to answer next for the same invoice: a secondary claim billed to it, or
    # a crossover (the payer forwarded the claim itself). None: this payer is the last one.
    sequence: ClaimSequence = "primary"
    next_payer_id: str | None = None
    crossover: bool = False


@event(service=SERVICE, aggregate="claim", subject="claim_id")
class ClaimResubmitted(Event):
    claim_id: str
    frequency_code: Literal["7", "8"]
    reason: str
    payer_claim_control_number: str
    corrections: tuple[str, ...] = ()
    # Sealed under the patient's key (free text about a patient): `reason` then reads SEALED_TEXT and
    # `corrections` is empty. Events before sealing carry the text in the clear fields alone.
    sealed_reason: Sealed | None = None
    sealed_corrections: Sealed | None = None


@event(service=SERVICE, aggregate="claim", subject="claim_id")
class ClaimPriorPayersRevised(Event):
    """An earlier payer reversed or corrected its answer (CLP02 22 and a new CLP): the later payer's
    claim now carries the earlier payers' answers as they stand. A claim already at the payer is
    replaced (a ClaimResubmitted frequency 7 follows in the same append)."""

    claim_id: str
    prior_adjudications: tuple[PriorAdjudication, ...]
    reason: str


@event(service=SERVICE, aggregate="claim", subject="claim_id")
class ClaimVoided(Event):
    """The invoice was voided before the claim ever reached a payer: nothing to send, nothing to undo."""

    claim_id: str
    invoice_id: str
    reason: str


@event(service=SERVICE, aggregate="claim", subject="claim_id")
class ClaimClosed(Event):
    claim_id: str
    reason: str


EligibilityStatus = Literal["active", "inactive", "error"]


@event(service=SERVICE, aggregate="eligibility-inquiry", subject="check_id")
class EligibilityInquirySent(Event):
    """Registration's eligibility check left as an X12 270 (005010X279A1) in `file_name`; BHT03 and
    the patient's TRN02 carry the check id, which the 271 echoes."""

    check_id: str
    coverage_id: str
    patient_id: str
    payer_id: str
    file_name: str
    interchange_control_number: str
    transaction_set_control_number: str


@event(service=SERVICE, aggregate="eligibility-inquiry", subject="check_id")
class EligibilityResponseReceived(Event):
    """The payer's X12 271 to an inquiry. `status`: active (EB01 1-5), inactive (EB01 6-8, reasons
    name the code) or error (an AAA request rejection, reasons name AAA03). Money in cents,
    coinsurance in basis points (EB08 0.2 = 2000); a benefit the payer did not state is absent."""

    check_id: str
    coverage_id: str
    patient_id: str
    payer_id: str
    status: EligibilityStatus
    plan_begin_on: date | None = None
    plan_end_on: date | None = None
    deductible_remaining_cents: int | None = None
    copay_cents: int | None = None
    coinsurance_basis_points: int | None = None
    out_of_pocket_remaining_cents: int | None = None
    reasons: tuple[RejectionReason, ...] = ()
    file_name: str | None = None
    interchange_control_number: str | None = None


@event(service=SERVICE, aggregate="eligibility-inquiry", subject="check_id")
class EligibilityInquiryFailed(Event):
    """The inquiry could not be sent (its coverage, patient, payer or provider is not on file, or the
    patient's data was erased): the check ends in error with the reasons."""

    check_id: str
    coverage_id: str
    patient_id: str
    payer_id: str
    reasons: tuple[RejectionReason, ...]
