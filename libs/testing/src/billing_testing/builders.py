"""Upstream events for tests: one builder per contract event a service consumes, named after the event
(ProviderEnrolled has one per role), and one per line or adjustment model those events carry.

Every builder returns the contract model with realistic, valid defaults; a test overrides, by keyword,
only the fields its point lies in. Amounts left as None are derived from the lines (totals, paid,
patient responsibility), as the publishing service would compute them.

    from billing_testing import builders

    builders.payer_registered(PAYER)
    builders.encounter_coded(ENCOUNTER, PATIENT, lines=(builders.coded_line(1, "99214"),))
    paid = builders.adjudicated_line(1, "99213", 14000, 9000, ("CO", "45", 3000), ("PR", "3", 2000))
    builders.claim_adjudicated(INVOICE, PAYER, lines=(paid,))

Events that carry patient data take `Sealed` values: by default the placeholder `SEALED`, enough for a
service that only stores them. A test whose service opens them uses the `sealed_...` builders, which
encrypt real values with the service's vault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, Protocol

from billing_events.contracts.base import Sealed
from billing_events.contracts.claims import (
    AdjudicatedLine,
    CasAdjustment,
    ClaimAdjudicated,
    ClaimClosed,
    ClaimCreated,
    ClaimLine,
    ClaimReady,
    ClaimRejected,
    ClaimResubmitted,
    ClaimScrubFailed,
    ClaimSequence,
    ClaimSubmitted,
    EligibilityInquiryFailed,
    EligibilityResponseReceived,
    Finding,
    RejectionReason,
)
from billing_events.contracts.coding import CodedLine, EditFinding, EncounterCoded, EncounterRecoded
from billing_events.contracts.invoicing import (
    Adjustment,
    InsurancePaymentPosted,
    InvoiceIssued,
    InvoiceLine,
    InvoiceVoided,
    PatientCreditApplied,
    PatientCreditReleased,
    PatientPaymentReceived,
    PatientRefundIssued,
    PatientStatementIssued,
    PostedLine,
    RefundMethod,
    RefundReason,
    Responsibility,
    WriteOffParty,
    WriteOffPosted,
    WriteOffReason,
)
from billing_events.contracts.registration import (
    Address,
    CoverageAdded,
    EligibilityCheckAnswered,
    EligibilityCheckRequested,
    EligibilityReason,
    EncounterOpened,
    PatientDemographicsUpdated,
    PatientForgotten,
    PatientRegistered,
    PayerRegistered,
    Priority,
    ProviderEnrolled,
    Relationship,
    Sex,
)

# --- Shared defaults -------------------------------------------------------------------------------

BILLING_NPI = "1234567893"
RENDERING_NPI = "1245319599"
BILLING_PROVIDER = "prov-billing"
RENDERING_PROVIDER = "prov-rendering"
SERVICE_DATE = date(2026, 3, 2)
MEMBER_ID = "XJH123456789"
CLINIC_ADDRESS = Address(line1="100 Main Street", city="Boston", state="MA", postal_code="02110-1234")
HOME = {
    "line1": "12 Elm Street",
    "line2": "Apt 3",
    "city": "Cambridge",
    "state": "MA",
    "postal_code": "02139",
}
# Not a real ciphertext: for services that carry sealed fields without opening them.
SEALED = Sealed(key_id="patient-key", nonce="bm9uY2U=", ciphertext="c2VhbGVk")

# The status code an 835 gives each outcome (CLP02).
STATUS_CODES = {"paid": "1", "partially_paid": "1", "denied": "4", "reversed": "22"}

Cas = tuple[str, str, int]  # an adjustment written short: (group, reason code, cents)
Outcome = Literal["paid", "partially_paid", "denied", "reversed"]


class Sealer(Protocol):
    """What the sealed builders need of a vault (billing_events.phi's, as `svc.runtime.vault`)."""

    async def seal_fields(self, key_id: str, values: dict[str, Any]) -> dict[str, Sealed | None]: ...


# --- Registration ----------------------------------------------------------------------------------


def payer_registered(
    payer_id: str,
    *,
    name: str = "Acme Health",
    edi_payer_id: str = "ACME1",
    claim_filing_indicator: str = "CI",
    address: Address | None = None,
    timely_filing_days: int = 365,
) -> PayerRegistered:
    return PayerRegistered(
        payer_id=payer_id,
        name=name,
        edi_payer_id=edi_payer_id,
        claim_filing_indicator=claim_filing_indicator,
        address=address,
        timely_filing_days=timely_filing_days,
    )


def billing_provider_enrolled(
    provider_id: str,
    *,
    npi: str = BILLING_NPI,
    name: str = "Harbor Family Medicine",
    taxonomy_code: str = "207Q00000X",
    tax_id: str | None = "04-1234567",
    address: Address = CLINIC_ADDRESS,
) -> ProviderEnrolled:
    """ProviderEnrolled of an organisation in the billing role."""
    return ProviderEnrolled(
        provider_id=provider_id,
        npi=npi,
        role="billing",
        organization_name=name,
        taxonomy_code=taxonomy_code,
        tax_id=tax_id,
        address=address,
    )


def rendering_provider_enrolled(
    provider_id: str,
    *,
    npi: str = RENDERING_NPI,
    given_name: str = "Ana",
    family_name: str = "Lopez",
    taxonomy_code: str = "207R00000X",
    address: Address = CLINIC_ADDRESS,
) -> ProviderEnrolled:
    """ProviderEnrolled of a person in the rendering role."""
    return ProviderEnrolled(
        provider_id=provider_id,
        npi=npi,
        role="rendering",
        given_name=given_name,
        family_name=family_name,
        taxonomy_code=taxonomy_code,
        address=address,
    )


def patient_registered(
    patient_id: str,
    *,
    mrn: Sealed = SEALED,
    mrn_index: str | None = None,
    name: Sealed = SEALED,
    birth_date: Sealed = SEALED,
    sex: Sex = "F",
    address: Sealed = SEALED,
    phone: Sealed | None = None,
) -> PatientRegistered:
    return PatientRegistered(
        patient_id=patient_id,
        mrn=mrn,
        mrn_index=mrn_index or f"index-{patient_id}",
        name=name,
        birth_date=birth_date,
        sex=sex,
        address=address,
        phone=phone,
    )


async def sealed_patient_registered(
    vault: Sealer,
    patient_id: str,
    *,
    given: str = "Maria",
    family: str = "Gonzalez",
    birth_date: str = "1984-07-09",
    sex: Sex = "F",
    address: dict[str, Any] | None = None,
) -> PatientRegistered:
    """PatientRegistered with its identifiers really sealed under the patient's key."""
    sealed = await vault.seal_fields(
        patient_id,
        {
            "mrn": f"MRN-{patient_id[:6]}",
            "name": {"given": given, "family": family},
            "birth_date": birth_date,
            "address": address or HOME,
        },
    )
    mrn, name, born, home = sealed["mrn"], sealed["name"], sealed["birth_date"], sealed["address"]
    assert mrn and name and born and home
    return patient_registered(patient_id, mrn=mrn, name=name, birth_date=born, sex=sex, address=home)


def patient_forgotten(
    patient_id: str, *, reason: str = "TICKET-1", legal_order: bool = False
) -> PatientForgotten:
    return PatientForgotten(patient_id=patient_id, reason=reason, legal_order=legal_order)


def patient_demographics_updated(
    patient_id: str,
    *,
    name: Sealed | None = None,
    birth_date: Sealed | None = None,
    sex: Sex | None = None,
    address: Sealed | None = None,
    phone: Sealed | None = None,
) -> PatientDemographicsUpdated:
    """Only the fields given changed."""
    return PatientDemographicsUpdated(
        patient_id=patient_id, name=name, birth_date=birth_date, sex=sex, address=address, phone=phone
    )


@dataclass(frozen=True)
class Subscriber:
    """The policy holder, when not the patient (sealed into CoverageAdded.subscriber)."""

    given: str = "Carlos"
    family: str = "Gonzalez"
    birth_date: str = "1980-02-29"
    sex: str = "M"
    address: dict[str, Any] = field(default_factory=lambda: dict(HOME))


def coverage_added(
    coverage_id: str,
    patient_id: str,
    payer_id: str,
    *,
    member_id: Sealed = SEALED,
    group_number: str | None = "GRP-001",
    priority: Priority = "primary",
    relationship: Relationship = "self",
    subscriber: Sealed | None = None,
    effective_from: date = date(2025, 1, 1),
    effective_to: date | None = None,
) -> CoverageAdded:
    return CoverageAdded(
        coverage_id=coverage_id,
        patient_id=patient_id,
        payer_id=payer_id,
        member_id=member_id,
        group_number=group_number,
        priority=priority,
        relationship_to_subscriber=relationship,
        subscriber=subscriber,
        effective_from=effective_from,
        effective_to=effective_to,
    )


async def sealed_coverage_added(
    vault: Sealer,
    coverage_id: str,
    patient_id: str,
    payer_id: str,
    *,
    member_id: str = MEMBER_ID,
    subscriber: Subscriber | None = None,
    group_number: str | None = "GRP-001",
    priority: Priority = "primary",
    relationship: Relationship = "self",
    effective_from: date = date(2025, 1, 1),
    effective_to: date | None = None,
) -> CoverageAdded:
    """CoverageAdded with the member id (and a subscriber, if given) really sealed under the patient's key."""
    values: dict[str, Any] = {"member_id": member_id}
    if subscriber is not None:
        values["subscriber"] = {
            "name": {"given": subscriber.given, "family": subscriber.family},
            "birth_date": subscriber.birth_date,
            "sex": subscriber.sex,
            "address": subscriber.address,
        }
    sealed = await vault.seal_fields(patient_id, values)
    member = sealed["member_id"]
    assert member is not None
    return coverage_added(
        coverage_id,
        patient_id,
        payer_id,
        member_id=member,
        group_number=group_number,
        priority=priority,
        relationship=relationship,
        subscriber=sealed.get("subscriber"),
        effective_from=effective_from,
        effective_to=effective_to,
    )


def encounter_opened(
    encounter_id: str,
    patient_id: str,
    *,
    billing_provider_id: str = BILLING_PROVIDER,
    rendering_provider_id: str = RENDERING_PROVIDER,
    service_date: date = SERVICE_DATE,
    place_of_service: str = "11",
    patient_sex: Sex = "F",
    patient_age_years: int = 41,
) -> EncounterOpened:
    return EncounterOpened(
        encounter_id=encounter_id,
        patient_id=patient_id,
        billing_provider_id=billing_provider_id,
        rendering_provider_id=rendering_provider_id,
        service_date=service_date,
        place_of_service=place_of_service,
        patient_sex=patient_sex,
        patient_age_years=patient_age_years,
    )


# --- Coding ----------------------------------------------------------------------------------------


def coded_line(
    line_number: int,
    code: str = "99213",
    *,
    code_system: Literal["CPT", "HCPCS"] = "CPT",
    modifiers: tuple[str, ...] = (),
    units: int = 1,
    diagnosis_pointers: tuple[int, ...] = (1,),
) -> CodedLine:
    return CodedLine(
        line_number=line_number,
        code=code,
        code_system=code_system,
        modifiers=modifiers,
        units=units,
        diagnosis_pointers=diagnosis_pointers,
    )


# An office visit with a separately identifiable E/M (modifier 25) and a urinalysis, twice.
CODED_LINES = (coded_line(1, "99213", modifiers=("25",)), coded_line(2, "81002", units=2))


def encounter_coded(
    encounter_id: str,
    patient_id: str,
    *,
    coding_version: int = 1,
    service_date: date = SERVICE_DATE,
    billing_provider_id: str = BILLING_PROVIDER,
    rendering_provider_id: str = RENDERING_PROVIDER,
    place_of_service: str = "11",
    diagnoses: tuple[str, ...] = ("E11.9",),
    lines: tuple[CodedLine, ...] = CODED_LINES,
    warnings: tuple[EditFinding, ...] = (),
) -> EncounterCoded:
    return EncounterCoded(
        encounter_id=encounter_id,
        patient_id=patient_id,
        coding_version=coding_version,
        service_date=service_date,
        billing_provider_id=billing_provider_id,
        rendering_provider_id=rendering_provider_id,
        place_of_service=place_of_service,
        diagnoses=diagnoses,
        lines=lines,
        warnings=warnings,
    )


def encounter_recoded(
    encounter_id: str,
    patient_id: str,
    *,
    coding_version: int = 2,
    previous_version: int | None = None,
    service_date: date = SERVICE_DATE,
    billing_provider_id: str = BILLING_PROVIDER,
    rendering_provider_id: str = RENDERING_PROVIDER,
    place_of_service: str = "11",
    diagnoses: tuple[str, ...] = ("E11.9",),
    lines: tuple[CodedLine, ...] = CODED_LINES,
    warnings: tuple[EditFinding, ...] = (),
    reason: str | None = None,
) -> EncounterRecoded:
    """previous_version defaults to the version before coding_version."""
    return EncounterRecoded(
        encounter_id=encounter_id,
        patient_id=patient_id,
        coding_version=coding_version,
        previous_version=coding_version - 1 if previous_version is None else previous_version,
        service_date=service_date,
        billing_provider_id=billing_provider_id,
        rendering_provider_id=rendering_provider_id,
        place_of_service=place_of_service,
        diagnoses=diagnoses,
        lines=lines,
        warnings=warnings,
        reason=reason,
    )


# --- Invoicing -------------------------------------------------------------------------------------


def invoice_line(
    line_number: int,
    code: str = "99213",
    charge_cents: int = 12500,
    *,
    modifiers: tuple[str, ...] = (),
    units: int = 1,
    diagnosis_pointers: tuple[int, ...] = (1,),
) -> InvoiceLine:
    """A priced line; the unit price is the charge divided by the units."""
    return InvoiceLine(
        line_number=line_number,
        code=code,
        modifiers=modifiers,
        units=units,
        unit_price_cents=charge_cents // units,
        charge_cents=charge_cents,
        diagnosis_pointers=diagnosis_pointers,
    )


INVOICE_LINES = (invoice_line(1, "99213", 12500, modifiers=("25",)), invoice_line(2, "81002", 1500))


def invoice_issued(
    invoice_id: str,
    *,
    encounter_id: str = "enc-1",
    patient_id: str = "patient-1",
    coverage_id: str | None = "cov-1",
    payer_id: str | None = "payer-1",
    billing_provider_id: str = BILLING_PROVIDER,
    rendering_provider_id: str = RENDERING_PROVIDER,
    service_date: date = SERVICE_DATE,
    coding_version: int = 1,
    lines: tuple[InvoiceLine, ...] = INVOICE_LINES,
    diagnoses: tuple[str, ...] = ("E11.9", "I10"),
    place_of_service: str = "11",
    responsibility: Responsibility | None = None,
    total_charge_cents: int | None = None,
    fee_schedule: str = "standard",
) -> InvoiceIssued:
    """responsibility defaults to insurance when there is a payer, else self-pay; the total to the lines'."""
    return InvoiceIssued(
        invoice_id=invoice_id,
        encounter_id=encounter_id,
        patient_id=patient_id,
        coding_version=coding_version,
        service_date=service_date,
        billing_provider_id=billing_provider_id,
        rendering_provider_id=rendering_provider_id,
        place_of_service=place_of_service,
        diagnoses=diagnoses,
        lines=lines,
        total_charge_cents=sum(x.charge_cents for x in lines)
        if total_charge_cents is None
        else total_charge_cents,
        responsibility=responsibility or ("insurance" if payer_id else "self_pay"),
        coverage_id=coverage_id,
        payer_id=payer_id,
        fee_schedule=fee_schedule,
    )


def invoice_voided(
    invoice_id: str,
    encounter_id: str,
    *,
    reason: str = "recoded",
    superseded_by_coding_version: int | None = None,
) -> InvoiceVoided:
    return InvoiceVoided(
        invoice_id=invoice_id,
        encounter_id=encounter_id,
        reason=reason,
        superseded_by_coding_version=superseded_by_coding_version,
    )


def posted_line(line_number: int, paid_cents: int, *adjustments: Cas) -> PostedLine:
    return PostedLine(
        line_number=line_number,
        paid_cents=paid_cents,
        adjustments=tuple(
            Adjustment.model_validate({"group": g, "reason_code": r, "amount_cents": a})
            for g, r, a in adjustments
        ),
    )


def insurance_payment_posted(
    invoice_id: str,
    payer_id: str,
    *,
    claim_id: str = "claim-1",
    adjudication_id: str = "adj-1",
    lines: tuple[PostedLine, ...] = (),
    reversal: bool = False,
    denied: bool = False,
    paid_cents: int | None = None,
    contractual_adjustment_cents: int | None = None,
    other_adjustment_cents: int | None = None,
    patient_responsibility_cents: int | None = None,
    denial_reasons: tuple[str, ...] = (),
    posted_on: date = date(2026, 4, 1),
    reverses_adjudication_id: str | None = None,
) -> InsurancePaymentPosted:
    """Amounts default to the lines': paid, CO (contractual), PR (patient), other groups (other)."""
    adjustments = [a for line in lines for a in line.adjustments]
    co = sum(a.amount_cents for a in adjustments if a.group == "CO")
    pr = sum(a.amount_cents for a in adjustments if a.group == "PR")
    other = sum(a.amount_cents for a in adjustments if a.group not in ("CO", "PR"))
    return InsurancePaymentPosted(
        invoice_id=invoice_id,
        claim_id=claim_id,
        payer_id=payer_id,
        adjudication_id=adjudication_id,
        reversal=reversal,
        denied=denied,
        lines=lines,
        paid_cents=sum(line.paid_cents for line in lines) if paid_cents is None else paid_cents,
        contractual_adjustment_cents=co
        if contractual_adjustment_cents is None
        else contractual_adjustment_cents,
        other_adjustment_cents=other if other_adjustment_cents is None else other_adjustment_cents,
        patient_responsibility_cents=pr
        if patient_responsibility_cents is None
        else patient_responsibility_cents,
        denial_reasons=denial_reasons,
        posted_on=posted_on,
        reverses_adjudication_id=reverses_adjudication_id,
    )


def patient_statement_issued(
    statement_id: str,
    patient_id: str,
    invoice_ids: tuple[str, ...],
    amount_due_cents: int,
    *,
    statement_date: date = date(2026, 4, 1),
    due_date: date | None = None,
) -> PatientStatementIssued:
    """due_date defaults to 30 days after the statement."""
    return PatientStatementIssued(
        statement_id=statement_id,
        patient_id=patient_id,
        statement_date=statement_date,
        due_date=due_date or statement_date + timedelta(days=30),
        amount_due_cents=amount_due_cents,
        invoice_ids=invoice_ids,
    )


def patient_payment_received(
    payment_id: str,
    patient_id: str,
    invoice_id: str,
    amount_cents: int,
    *,
    applied_cents: int | None = None,
    method: str = "card",
    received_on: date = date(2026, 4, 10),
) -> PatientPaymentReceived:
    """All of the amount applied unless told otherwise; the rest is credit."""
    applied = amount_cents if applied_cents is None else applied_cents
    return PatientPaymentReceived(
        payment_id=payment_id,
        patient_id=patient_id,
        invoice_id=invoice_id,
        amount_cents=amount_cents,
        applied_cents=applied,
        credit_cents=amount_cents - applied,
        method=method,
        received_on=received_on,
    )


def write_off_posted(
    invoice_id: str,
    patient_id: str,
    amount_cents: int,
    *,
    reason: WriteOffReason = "small_balance",
    party: WriteOffParty = "patient",
    write_off_id: str | None = None,
    written_off_on: date = date(2026, 5, 1),
) -> WriteOffPosted:
    return WriteOffPosted(
        invoice_id=invoice_id,
        write_off_id=write_off_id or f"write-off-{invoice_id}-{reason}",
        patient_id=patient_id,
        reason=reason,
        party=party,
        amount_cents=amount_cents,
        written_off_on=written_off_on,
    )


def patient_credit_released(
    invoice_id: str,
    patient_id: str,
    amount_cents: int,
    *,
    credit_id: str | None = None,
    released_on: date = date(2026, 5, 1),
) -> PatientCreditReleased:
    return PatientCreditReleased(
        invoice_id=invoice_id,
        credit_id=credit_id or f"credit-out-{invoice_id}",
        patient_id=patient_id,
        amount_cents=amount_cents,
        released_on=released_on,
    )


def patient_credit_applied(
    invoice_id: str,
    patient_id: str,
    amount_cents: int,
    *,
    credit_id: str | None = None,
    applied_on: date = date(2026, 5, 1),
) -> PatientCreditApplied:
    return PatientCreditApplied(
        invoice_id=invoice_id,
        credit_id=credit_id or f"credit-in-{invoice_id}",
        patient_id=patient_id,
        amount_cents=amount_cents,
        applied_on=applied_on,
    )


def patient_refund_issued(
    patient_id: str,
    amount_cents: int,
    *,
    refund_id: str | None = None,
    method: RefundMethod = "check",
    reason: RefundReason = "overpayment",
    issued_on: date = date(2026, 5, 1),
) -> PatientRefundIssued:
    return PatientRefundIssued(
        patient_id=patient_id,
        refund_id=refund_id or f"refund-{patient_id}-{amount_cents}",
        amount_cents=amount_cents,
        method=method,
        reason=reason,
        issued_on=issued_on,
    )


# --- Claims ----------------------------------------------------------------------------------------


def claim_line(
    line_number: int,
    code: str = "99213",
    charge_cents: int = 12500,
    *,
    line_control_number: str | None = None,
    modifiers: tuple[str, ...] = (),
    units: int = 1,
    diagnosis_pointers: tuple[int, ...] = (1,),
) -> ClaimLine:
    """line_control_number defaults to the line number."""
    return ClaimLine(
        line_number=line_number,
        line_control_number=line_control_number or str(line_number),
        code=code,
        modifiers=modifiers,
        units=units,
        charge_cents=charge_cents,
        diagnosis_pointers=diagnosis_pointers,
    )


def claim_created(
    claim_id: str,
    invoice: InvoiceIssued,
    *,
    patient_control_number: str | None = None,
    lines: tuple[ClaimLine, ...] | None = None,
    billing_provider_id: str | None = None,
    rendering_provider_id: str | None = None,
    place_of_service: str | None = None,
) -> ClaimCreated:
    """The claim of an insured invoice: its header from the invoice, one line per invoice line unless
    `lines` are given. The optional provider fields stay unset unless given, as older claims had them."""
    assert invoice.payer_id is not None, "a claim needs an invoice with a payer"
    return ClaimCreated(
        claim_id=claim_id,
        patient_control_number=patient_control_number or claim_id[:20],
        invoice_id=invoice.invoice_id,
        encounter_id=invoice.encounter_id,
        patient_id=invoice.patient_id,
        coverage_id=invoice.coverage_id or "",
        payer_id=invoice.payer_id,
        service_date=invoice.service_date,
        diagnoses=invoice.diagnoses,
        lines=tuple(
            claim_line(
                x.line_number,
                x.code,
                x.charge_cents,
                modifiers=x.modifiers,
                units=x.units,
                diagnosis_pointers=x.diagnosis_pointers or (1,),
            )
            for x in invoice.lines
        )
        if lines is None
        else lines,
        total_charge_cents=invoice.total_charge_cents,
        billing_provider_id=billing_provider_id,
        rendering_provider_id=rendering_provider_id,
        place_of_service=place_of_service,
    )


def claim_scrub_failed(claim_id: str, *findings: tuple[str, str, str]) -> ClaimScrubFailed:
    """findings as (edit id, message, field); one NCCI finding if none given."""
    given = findings or (("NCCI-1", "edit", "lines"),)
    return ClaimScrubFailed(
        claim_id=claim_id,
        failures=tuple(Finding(edit_id=e, message=m, field=f) for e, m, f in given),
    )


def claim_ready(claim_id: str, *, reason: str | None = None) -> ClaimReady:
    return ClaimReady(claim_id=claim_id, reason=reason)


def claim_submitted(
    claim_id: str,
    *,
    batch_id: str = "batch-1",
    frequency_code: Literal["1", "7", "8"] = "1",
    interchange_control_number: str = "000000001",
    group_control_number: str = "1",
    transaction_set_control_number: str = "0001",
    file_name: str = "claims-1.837",
) -> ClaimSubmitted:
    return ClaimSubmitted(
        claim_id=claim_id,
        batch_id=batch_id,
        frequency_code=frequency_code,
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        transaction_set_control_number=transaction_set_control_number,
        file_name=file_name,
    )


def claim_rejected(
    claim_id: str,
    *reasons: tuple[str, str],
    acknowledgement: Literal["999", "277CA"] = "277CA",
    control_number: str = "0001",
    file_name: str | None = None,
    batch_id: str | None = None,
) -> ClaimRejected:
    """reasons as (code, description); one 277CA entity error if none given."""
    given = reasons or (("A7:562", "entity identifier"),)
    return ClaimRejected(
        claim_id=claim_id,
        acknowledgement=acknowledgement,
        control_number=control_number,
        reasons=tuple(RejectionReason(code=c, description=d) for c, d in given),
        file_name=file_name,
        batch_id=batch_id,
    )


def claim_resubmitted(
    claim_id: str,
    *,
    frequency_code: Literal["7", "8"] = "7",
    reason: str = "records sent",
    payer_claim_control_number: str = "PCN-1",
    corrections: tuple[str, ...] = (),
) -> ClaimResubmitted:
    return ClaimResubmitted(
        claim_id=claim_id,
        frequency_code=frequency_code,
        reason=reason,
        payer_claim_control_number=payer_claim_control_number,
        corrections=corrections,
    )


def claim_closed(claim_id: str, *, reason: str = "invoice voided") -> ClaimClosed:
    return ClaimClosed(claim_id=claim_id, reason=reason)


def cas(group: str, reason_code: str, amount_cents: int) -> CasAdjustment:
    """One CAS adjustment: group (CO, PR, OA, ...), CARC reason code, amount."""
    return CasAdjustment.model_validate(
        {"group": group, "reason_code": reason_code, "amount_cents": amount_cents}
    )


def adjudicated_line(
    line_number: int,
    code: str,
    charge_cents: int,
    paid_cents: int,
    *adjustments: Cas,
    line_control_number: str | None = None,
    remark_codes: tuple[str, ...] = (),
) -> AdjudicatedLine:
    """A service line of an 835, its CAS adjustments written short: ("CO", "45", 3000), ..."""
    return AdjudicatedLine(
        line_number=line_number,
        line_control_number=line_control_number,
        code=code,
        charge_cents=charge_cents,
        paid_cents=paid_cents,
        adjustments=tuple(cas(*a) for a in adjustments),
        remark_codes=remark_codes,
    )


def claim_adjudicated(
    invoice_id: str,
    payer_id: str,
    *,
    claim_id: str = "claim-1",
    remittance_id: str = "remit-1",
    payer_claim_control_number: str = "PCN-1",
    outcome: Outcome = "paid",
    claim_status_code: str | None = None,
    lines: tuple[AdjudicatedLine, ...] = (),
    claim_adjustments: tuple[CasAdjustment, ...] = (),
    total_charge_cents: int | None = None,
    paid_cents: int | None = None,
    patient_responsibility_cents: int | None = None,
    remark_codes: tuple[str, ...] = (),
    adjudicated_on: date = date(2026, 4, 1),
    sequence: ClaimSequence = "primary",
    next_payer_id: str | None = None,
    crossover: bool = False,
) -> ClaimAdjudicated:
    """The status code defaults to the outcome's (1 paid, 4 denied, 22 reversed); the amounts to the
    lines' charges, payments and PR adjustments (with the claim-level PR ones)."""
    every_adjustment = [*claim_adjustments, *(a for line in lines for a in line.adjustments)]
    return ClaimAdjudicated(
        claim_id=claim_id,
        invoice_id=invoice_id,
        remittance_id=remittance_id,
        payer_id=payer_id,
        payer_claim_control_number=payer_claim_control_number,
        claim_status_code=claim_status_code or STATUS_CODES[outcome],
        outcome=outcome,
        total_charge_cents=sum(line.charge_cents for line in lines)
        if total_charge_cents is None
        else total_charge_cents,
        paid_cents=sum(line.paid_cents for line in lines) if paid_cents is None else paid_cents,
        patient_responsibility_cents=sum(a.amount_cents for a in every_adjustment if a.group == "PR")
        if patient_responsibility_cents is None
        else patient_responsibility_cents,
        claim_adjustments=claim_adjustments,
        lines=lines,
        remark_codes=remark_codes,
        adjudicated_on=adjudicated_on,
        sequence=sequence,
        next_payer_id=next_payer_id,
        crossover=crossover,
    )


# eligibility (registration asks, claims answers) --------------------------------------------------


def eligibility_check_requested(
    check_id: str,
    *,
    coverage_id: str = "cov-1",
    patient_id: str = "pat-1",
    payer_id: str = "payer-1",
    service_date: date = SERVICE_DATE,
    provider_id: str | None = None,
) -> EligibilityCheckRequested:
    return EligibilityCheckRequested(
        check_id=check_id,
        coverage_id=coverage_id,
        patient_id=patient_id,
        payer_id=payer_id,
        service_date=service_date,
        provider_id=provider_id,
    )


def eligibility_response_received(
    check_id: str,
    *,
    coverage_id: str = "cov-1",
    patient_id: str = "pat-1",
    payer_id: str = "payer-1",
    status: Literal["active", "inactive", "error"] = "active",
    plan_begin_on: date | None = date(2026, 1, 1),
    plan_end_on: date | None = date(2026, 12, 31),
    deductible_remaining_cents: int | None = 15000,
    copay_cents: int | None = 3000,
    coinsurance_basis_points: int | None = 2000,
    out_of_pocket_remaining_cents: int | None = 250000,
    reasons: tuple[tuple[str, str], ...] = (),
    file_name: str | None = "270-000000001.271.000000001.x12",
) -> EligibilityResponseReceived:
    """An active answer with every benefit stated by default: $150.00 deductible left, a $30.00
    copay, 20% coinsurance, $2,500.00 out of pocket left, on a 2026 calendar-year plan."""
    return EligibilityResponseReceived(
        check_id=check_id,
        coverage_id=coverage_id,
        patient_id=patient_id,
        payer_id=payer_id,
        status=status,
        plan_begin_on=plan_begin_on,
        plan_end_on=plan_end_on,
        deductible_remaining_cents=deductible_remaining_cents,
        copay_cents=copay_cents,
        coinsurance_basis_points=coinsurance_basis_points,
        out_of_pocket_remaining_cents=out_of_pocket_remaining_cents,
        reasons=tuple(RejectionReason(code=code, description=text) for code, text in reasons),
        file_name=file_name,
        interchange_control_number="000000001",
    )


def eligibility_inquiry_failed(
    check_id: str,
    *,
    coverage_id: str = "cov-1",
    patient_id: str = "pat-1",
    payer_id: str = "payer-1",
    reasons: tuple[tuple[str, str], ...] = (("PHI:erased", "the patient's data was erased"),),
) -> EligibilityInquiryFailed:
    return EligibilityInquiryFailed(
        check_id=check_id,
        coverage_id=coverage_id,
        patient_id=patient_id,
        payer_id=payer_id,
        reasons=tuple(RejectionReason(code=code, description=text) for code, text in reasons),
    )


def eligibility_check_answered(
    check_id: str,
    *,
    coverage_id: str = "cov-1",
    patient_id: str = "pat-1",
    status: Literal["active", "inactive", "error"] = "active",
    plan_begin_on: date | None = date(2026, 1, 1),
    plan_end_on: date | None = date(2026, 12, 31),
    deductible_remaining_cents: int | None = 15000,
    copay_cents: int | None = 3000,
    coinsurance_basis_points: int | None = 2000,
    out_of_pocket_remaining_cents: int | None = 250000,
    reasons: tuple[tuple[str, str], ...] = (),
) -> EligibilityCheckAnswered:
    """Registration's record of the payer's answer (what estimates read): by default active with
    $150.00 deductible left, a $30.00 copay, 20% coinsurance and $2,500.00 out of pocket left."""
    return EligibilityCheckAnswered(
        check_id=check_id,
        coverage_id=coverage_id,
        patient_id=patient_id,
        status=status,
        plan_begin_on=plan_begin_on,
        plan_end_on=plan_end_on,
        deductible_remaining_cents=deductible_remaining_cents,
        copay_cents=copay_cents,
        coinsurance_basis_points=coinsurance_basis_points,
        out_of_pocket_remaining_cents=out_of_pocket_remaining_cents,
        reasons=tuple(EligibilityReason(code=code, description=text) for code, text in reasons),
    )
