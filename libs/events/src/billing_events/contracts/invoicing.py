"""Invoicing's events: fee schedules, invoices and their ledger, patient accounts. Money is integer cents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from billing_events.contracts.adjustments import AdjustmentGroup as AdjustmentGroup
from billing_events.contracts.adjustments import CasAdjustment
from billing_events.contracts.base import Event, Sealed, event
from billing_events.contracts.coding import DrgAssignment, InstitutionalDiagnosis, InstitutionalProcedure

SERVICE = "invoicing"

Responsibility = Literal["insurance", "self_pay"]


class FeeScheduleRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    modifier: str | None = None
    amount_cents: int


@event(service=SERVICE, aggregate="fee-schedule", subject="fee_schedule_id")
class FeeScheduleRowsStaged(Event):
    """One part of a large fee schedule version (an event is a fact, not a file: it stays far under
    Kafka's message limit). The version takes effect only with the FeeScheduleImported that follows."""

    fee_schedule_id: str
    effective_from: date
    part: int
    parts: int
    rows: tuple[FeeScheduleRow, ...]


@event(service=SERVICE, aggregate="fee-schedule", subject="fee_schedule_id")
class FeeScheduleImported(Event):
    """A version of the fee schedule takes effect. Its rows are here, or, for a large version
    (`parts` > 0), in the `parts` FeeScheduleRowsStaged events just before it in the same stream; then
    `rows` is empty and `row_count` is the version's size."""

    fee_schedule_id: str
    name: str
    effective_from: date
    rows: tuple[FeeScheduleRow, ...]
    parts: int = 0
    row_count: int | None = None


class InvoiceLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_number: int
    code: str
    modifiers: tuple[str, ...] = ()
    units: int
    unit_price_cents: int
    charge_cents: int
    diagnosis_pointers: tuple[int, ...] = ()


class PricingError(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_number: int
    code: str
    modifiers: tuple[str, ...] = ()
    reason: str


class InstitutionalLine(BaseModel):
    """An institutional invoice line (its InvoiceLine of the same line_number carries the amounts):
    the UB-04 revenue code, HCPCS where the chargemaster has one, and the charge code it came from."""

    model_config = ConfigDict(frozen=True)

    line_number: int
    charge_code: str
    revenue_code: str
    hcpcs: str | None = None
    service_date: date


class InstitutionalBill(BaseModel):
    """What an institutional invoice (the hospital's UB-04) carries besides a professional one, copied
    from registration's admission and coding's institutional coding, so that claims can write the 837I
    without asking anyone. `type_of_bill` is facility type and classification ("11" inpatient
    hospital, "13" outpatient hospital); `frequency_code` completes it: "1" admit through discharge,
    "5" late charges only, "7" replacement of `replaces_invoice_id`."""

    model_config = ConfigDict(frozen=True)

    facility_id: str
    setting: Literal["inpatient", "outpatient"]
    type_of_bill: str
    frequency_code: Literal["1", "5", "7"] = "1"
    statement_from: date
    statement_to: date
    admitted_at: datetime
    discharged_at: datetime
    admission_type: str
    admission_source: str
    discharge_status: str
    attending_provider_id: str
    principal_diagnosis: InstitutionalDiagnosis
    admitting_diagnosis: str | None = None
    diagnoses: tuple[InstitutionalDiagnosis, ...] = ()
    procedures: tuple[InstitutionalProcedure, ...] = ()
    drg: DrgAssignment | None = None
    lines: tuple[InstitutionalLine, ...] = ()
    replaces_invoice_id: str | None = None


@event(service=SERVICE, aggregate="invoice", subject="invoice_id")
class InvoiceIssued(Event):
    invoice_id: str
    encounter_id: str
    patient_id: str
    coding_version: int
    service_date: date
    billing_provider_id: str
    rendering_provider_id: str
    place_of_service: str
    diagnoses: tuple[str, ...]
    lines: tuple[InvoiceLine, ...]
    total_charge_cents: int
    responsibility: Responsibility
    coverage_id: str | None = None
    payer_id: str | None = None
    fee_schedule: str
    # An institutional invoice (optional: added for hospitals); absent on a professional one.
    institutional: InstitutionalBill | None = None
    # ACA preventive services (optional: added later). The lines the preventive-services table
    # names, and whether the payer is in network (a payer contract in effect on the date of service):
    # in network, the payer's patient responsibility on these lines is withheld from the patient.
    preventive_line_numbers: tuple[int, ...] = ()
    in_network: bool = False


class CodedInvoiceLine(BaseModel):
    """A line as coded, priced where the schedule had a price (None where it had not)."""

    model_config = ConfigDict(frozen=True)

    line_number: int
    code: str
    modifiers: tuple[str, ...] = ()
    units: int
    diagnosis_pointers: tuple[int, ...] = ()
    unit_price_cents: int | None = None


@event(service=SERVICE, aggregate="invoice", subject="invoice_id")
class InvoiceHeld(Event):
    """Coding arrived but a line could not be priced; the invoice waits, it is never priced at zero.

    The optional fields carry the coding itself, so a later fee schedule can price the held invoice
    without asking coding again. An InvoiceHeld may follow another (the errors changed) and an
    InvoiceIssued of the same invoice_id ends the hold.
    """

    invoice_id: str
    encounter_id: str
    patient_id: str
    coding_version: int
    service_date: date
    pricing_errors: tuple[PricingError, ...]
    billing_provider_id: str | None = None
    rendering_provider_id: str | None = None
    place_of_service: str | None = None
    diagnoses: tuple[str, ...] = ()
    lines: tuple[CodedInvoiceLine, ...] = ()
    fee_schedule: str | None = None


@event(service=SERVICE, aggregate="invoice", subject="invoice_id")
class InvoiceVoided(Event):
    invoice_id: str
    encounter_id: str
    reason: str
    superseded_by_coding_version: int | None = None
    # A hospital bill replaced by a bill with late charges (optional: added later). Its claim is then
    # replaced at the payer by the new bill's claim (frequency 7), not voided (frequency 8).
    replaced_by_invoice_id: str | None = None


# A payer's CAS adjustment, as claims published it and as invoicing posts it: one model for both.
Adjustment = CasAdjustment


class PostedLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_number: int
    paid_cents: int
    adjustments: tuple[Adjustment, ...] = ()


@event(service=SERVICE, aggregate="invoice", subject="invoice_id")
class InsurancePaymentPosted(Event):
    """One adjudication posted to the ledger. A reversal carries the negated amounts of what it undoes."""

    invoice_id: str
    claim_id: str
    payer_id: str
    adjudication_id: str
    reversal: bool = False
    denied: bool = False
    lines: tuple[PostedLine, ...]
    paid_cents: int
    contractual_adjustment_cents: int
    other_adjustment_cents: int
    patient_responsibility_cents: int
    denial_reasons: tuple[str, ...] = ()
    posted_on: date
    # Set on a reversal: the adjudication_id of the posting it undoes.
    reverses_adjudication_id: str | None = None
    # Coordination of benefits (optional: added later). The payer's place among the patient's
    # coverages, and whether its answer awaits a payer after it (then the patient owes nothing yet).
    sequence: Literal["primary", "secondary", "tertiary"] = "primary"
    awaiting_next_payer: bool = False
    # ACA preventive services (optional: added later): PR the payer assigned on in-network preventive
    # lines. It is not the patient's (patient_responsibility_cents excludes it) and stays in the
    # payer's part of the balance while the claim waits in the preventive cost-sharing work queue.
    preventive_cost_sharing_cents: int = 0


@event(service=SERVICE, aggregate="patient-account", subject="patient_id")
class PatientStatementIssued(Event):
    statement_id: str
    patient_id: str
    statement_date: date
    due_date: date
    amount_due_cents: int
    invoice_ids: tuple[str, ...]
    # Dunning (optional: added later). The statement's place in the account's statement cycle: 0 is
    # the first demand, 1, 2 and 3 the reminders sent 30, 60 and 90 days after it while a balance is
    # due; cycle_started_on is the date of that first demand. None on statements issued before cycles.
    cycle: int | None = None
    cycle_started_on: date | None = None
    # The invoices this statement bills to the patient for the first time: its statement_date is
    # their first (post-discharge) statement, from which IRC 501(r) counts the 120 days before any
    # extraordinary collection action.
    first_statement_invoice_ids: tuple[str, ...] = ()


@event(service=SERVICE, aggregate="patient-account", subject="patient_id")
class PatientPaymentReceived(Event):
    payment_id: str
    patient_id: str
    invoice_id: str
    amount_cents: int
    applied_cents: int
    credit_cents: int
    method: str
    received_on: date


@event(service=SERVICE, aggregate="invoice", subject="invoice_id")
class PatientPaymentApplied(Event):
    """The invoice's side of a PatientPaymentReceived (same payment_id): the part applied to this
    invoice's ledger. Not a second payment: sum cash from PatientPaymentReceived."""

    invoice_id: str
    payment_id: str
    patient_id: str
    applied_cents: int
    method: str
    received_on: date


@event(service=SERVICE, aggregate="invoice", subject="invoice_id")
class InvoiceSettled(Event):
    invoice_id: str
    patient_id: str
    settled_on: date


# Payer contracts: per-payer contracted allowed amounts, effective-dated and chunked like fee schedules.


class ContractRateRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    modifier: str | None = None
    allowed_cents: int


@event(service=SERVICE, aggregate="payer-contract", subject="payer_contract_id")
class PayerContractRowsStaged(Event):
    """One part of a large contract version; it takes effect with the PayerContractImported after it."""

    payer_contract_id: str
    effective_from: date
    part: int
    parts: int
    rows: tuple[ContractRateRow, ...]


@event(service=SERVICE, aggregate="payer-contract", subject="payer_contract_id")
class PayerContractImported(Event):
    """A version of a payer's contracted allowed amounts takes effect (rows here, or in `parts`
    PayerContractRowsStaged events just before it). A payer with a contract in effect on a date of
    service is in network for it. `requires_modifier_33`: the payer wants modifier 33 on preventive
    service lines."""

    payer_contract_id: str
    payer_id: str
    effective_from: date
    rows: tuple[ContractRateRow, ...]
    parts: int = 0
    row_count: int | None = None
    requires_modifier_33: bool = False


# Estimates (No Surprises Act good-faith estimates where there is no coverage).

EstimateKind = Literal["insured", "good_faith"]


class EstimateLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_number: int
    code: str
    units: int
    unit_price_cents: int
    charge_cents: int
    allowed_cents: int
    expected_payer_cents: int
    patient_estimate_cents: int
    preventive: bool = False
    # Where the allowed amount came from: contract | charge (no contracted rate) | self_pay.
    allowed_basis: str = "contract"


@event(service=SERVICE, aggregate="estimate", subject="estimate_id")
class EstimateIssued(Event):
    """A cost estimate given to a patient before the service. Benefits are the eligibility answer
    it used (none for a good-faith estimate). Reporting compares it with the final patient bill."""

    estimate_id: str
    patient_id: str
    kind: EstimateKind
    service_date: date
    coverage_id: str | None = None
    payer_id: str | None = None
    billing_provider_id: str | None = None
    lines: tuple[EstimateLine, ...]
    total_charge_cents: int
    expected_payer_cents: int
    patient_estimate_cents: int
    fee_schedule: str
    contract_effective_from: date | None = None
    deductible_remaining_cents: int | None = None
    copay_cents: int | None = None
    coinsurance_basis_points: int | None = None
    out_of_pocket_remaining_cents: int | None = None
    benefits_source: str = "none"


# Financial assistance (IRC 501(r)).


class FplRow(BaseModel):
    """The federal poverty guideline for a household size; sizes above the table add `per_additional`."""

    model_config = ConfigDict(frozen=True)

    household_size: int
    amount_cents: int


class AssistanceTier(BaseModel):
    """Households with income up to `max_fpl_percent` of the poverty guideline get `discount_basis_points`
    off what they owe (10000 = free care)."""

    model_config = ConfigDict(frozen=True)

    max_fpl_percent: int
    discount_basis_points: int


@event(service=SERVICE, aggregate="financial-assistance-policy", subject="policy_id")
class FinancialAssistancePolicySet(Event):
    """A tenant's financial-assistance policy (501(r)(4)) from `effective_from` on."""

    policy_id: str
    effective_from: date
    agb_basis_points: int
    agb_method: str
    tiers: tuple[AssistanceTier, ...]
    fpl_year: int
    fpl_source: str
    fpl: tuple[FplRow, ...]
    fpl_per_additional_person_cents: int


@event(service=SERVICE, aggregate="financial-assistance-application", subject="application_id")
class FinancialAssistanceDetermined(Event):
    """An application decided under the policy. Household size and income are PHI: sealed under the
    patient's key (`household`: {household_size, household_income_cents, fpl_percent}); the outcome
    (eligible, discount, AGB) is in clear, as billing needs it."""

    application_id: str
    patient_id: str
    policy_id: str
    household: Sealed
    eligible: bool
    discount_basis_points: int
    agb_basis_points: int
    received_on: date
    valid_from: date
    valid_until: date


# Patient accounting: write-offs, credits, refunds, payment plans, dunning.

WriteOffReason = Literal["small_balance", "bad_debt", "charity", "administrative"]
# Whose part of the balance is written off: the patient's responsibility, or what a payer still owes.
WriteOffParty = Literal["patient", "insurance"]


@event(service=SERVICE, aggregate="invoice", subject="invoice_id")
class WriteOffPosted(Event):
    """Part of an invoice's outstanding balance taken off the books, never more than the party owes.

    An adjustment on the ledger (reporting counts it with the other adjustments): the balance falls by
    amount_cents and charges = payments + adjustments + balance still holds. `charity` is a write-off
    under the tenant's financial-assistance policy (IRC 501(r))."""

    invoice_id: str
    write_off_id: str
    patient_id: str
    reason: WriteOffReason
    party: WriteOffParty
    amount_cents: int
    written_off_on: date


@event(service=SERVICE, aggregate="invoice", subject="invoice_id")
class PatientCreditReleased(Event):
    """What the patient paid on this invoice beyond what they owe on it (after the payers answered,
    or after a void) leaves the invoice for the patient's account credit: the invoice's patient
    payments fall by amount_cents (on a voided invoice its charge too), the account's credit rises
    by the same amount (PatientCreditAdded, same credit_id)."""

    invoice_id: str
    credit_id: str
    patient_id: str
    amount_cents: int
    released_on: date


@event(service=SERVICE, aggregate="invoice", subject="invoice_id")
class PatientCreditApplied(Event):
    """The patient's account credit paying this invoice: counted as a patient payment on its ledger,
    not new cash (the cash is the PatientPaymentReceived that made the credit). The account's side is
    PatientCreditUsed with the same credit_id."""

    invoice_id: str
    credit_id: str
    patient_id: str
    amount_cents: int
    applied_on: date


@event(service=SERVICE, aggregate="patient-account", subject="patient_id")
class PatientCreditAdded(Event):
    """The account's side of a PatientCreditReleased (same credit_id)."""

    patient_id: str
    credit_id: str
    invoice_id: str
    amount_cents: int
    added_on: date


@event(service=SERVICE, aggregate="patient-account", subject="patient_id")
class PatientCreditUsed(Event):
    """The account's side of a PatientCreditApplied (same credit_id): the credit it took."""

    patient_id: str
    credit_id: str
    invoice_id: str
    amount_cents: int
    used_on: date


RefundMethod = Literal["check", "card", "ach", "other"]
RefundReason = Literal["overpayment", "duplicate_payment", "patient_request", "other"]


@event(service=SERVICE, aggregate="patient-account", subject="patient_id")
class PatientRefundIssued(Event):
    """Money paid back to the patient out of their unapplied credit (never more than it). Cash out."""

    patient_id: str
    refund_id: str
    amount_cents: int
    method: RefundMethod
    reason: RefundReason
    issued_on: date


class Installment(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    due_on: date
    amount_cents: int


@event(service=SERVICE, aggregate="patient-account", subject="patient_id")
class PaymentPlanCreated(Event):
    """The patient pays total_cents (their balance when the plan was agreed) in monthly installments."""

    plan_id: str
    patient_id: str
    monthly_amount_cents: int
    first_due_on: date
    total_cents: int
    installments: tuple[Installment, ...]
    created_on: date


@event(service=SERVICE, aggregate="patient-account", subject="patient_id")
class PaymentPlanCompleted(Event):
    """The patient's balance reached zero while the plan was active."""

    plan_id: str
    patient_id: str
    completed_on: date


@event(service=SERVICE, aggregate="patient-account", subject="patient_id")
class DunningCycleEnded(Event):
    """Nothing is due from the patient any more: the statement cycle that began on cycle_started_on
    stops; a later balance starts a new one at cycle 0."""

    patient_id: str
    cycle_started_on: date
    ended_on: date


# The hospital's chargemaster (CDM) and charge capture.


class ChargemasterRow(BaseModel):
    """One charge of the chargemaster: the hospital's own charge code, its description (no patient
    data: a price list's text), the UB-04 revenue code (4 digits), the HCPCS code where the charge
    has one, and the price of one unit."""

    model_config = ConfigDict(frozen=True)

    charge_code: str
    description: str
    revenue_code: str
    hcpcs: str | None = None
    amount_cents: int


@event(service=SERVICE, aggregate="chargemaster", subject="chargemaster_id")
class ChargemasterRowsStaged(Event):
    """One part of a chargemaster version (20,000-60,000 rows do not fit one event); the version takes
    effect only with the ChargemasterImported that follows, as for FeeScheduleRowsStaged."""

    chargemaster_id: str
    effective_from: date
    part: int
    parts: int
    rows: tuple[ChargemasterRow, ...]


@event(service=SERVICE, aggregate="chargemaster", subject="chargemaster_id")
class ChargemasterImported(Event):
    """A version of the tenant's chargemaster takes effect on `effective_from`, replacing the whole
    price list from that day. Its rows are in the `parts` ChargemasterRowsStaged events just before
    it in the same stream (`rows` holds them only for a version small enough for one event)."""

    chargemaster_id: str
    effective_from: date
    rows: tuple[ChargemasterRow, ...] = ()
    parts: int = 0
    row_count: int


class CapturedCharge(BaseModel):
    """A charge line as captured, priced from the chargemaster version in effect on its service date."""

    model_config = ConfigDict(frozen=True)

    line_number: int
    charge_code: str
    revenue_code: str
    hcpcs: str | None = None
    units: int
    unit_price_cents: int
    charge_cents: int
    service_date: date
    chargemaster_effective_from: date


@event(service=SERVICE, aggregate="encounter-charges", subject="encounter_id")
class ChargesCaptured(Event):
    """Charges posted to an institutional encounter during (or after) the stay. `late` when the
    encounter's institutional bill was already final: such charges go on a late-charge (frequency 5)
    or replacement (frequency 7) claim, as the payer's setting says."""

    encounter_id: str
    capture_id: str
    lines: tuple[CapturedCharge, ...]
    total_charge_cents: int
    late: bool = False


# Extraordinary collection actions (IRC 501(r)-6): recorded only once the rule allows them.

CollectionAction = Literal["credit_reporting", "debt_sale", "legal_action", "other"]


@event(service=SERVICE, aggregate="collection-action", subject="action_id")
class ExtraordinaryCollectionActionRecorded(Event):
    """An extraordinary collection action on a patient's account (reporting to a credit agency,
    selling the debt, legal action), taken no earlier than 120 days after the first statement and
    30 days after the written notice (`notice_sent_on`)."""

    action_id: str
    patient_id: str
    action: CollectionAction
    recorded_on: date
    first_statement_on: date
    notice_sent_on: date | None = None
    amount_due_cents: int
