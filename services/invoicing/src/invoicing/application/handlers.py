"""Commands and policies: load an aggregate, decide, append, then bring the read models up to date.

Every function runs inside the caller's Session (one PostgreSQL transaction) and every command goes
through billing_events.decider.execute: events and read models commit together or not at all, the
read models are brought up to date after the append (why: see execute).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from billing_events.contracts.claims import ClaimAdjudicated
from billing_events.contracts.invoicing import (
    CapturedCharge,
    ChargemasterRow,
    ChargesCaptured,
    FeeScheduleImported,
    FeeScheduleRow,
    InstitutionalBill,
    InsurancePaymentPosted,
    InvoiceIssued,
    PatientPaymentApplied,
)
from billing_events.decider import execute
from billing_events.envelope import Metadata
from billing_events.unit_of_work import EventSession
from invoicing.application import accounting, streams
from invoicing.application.ports import FeeScheduleVersion, Unit
from invoicing.domain import (
    chargemaster,
    encounter_charges,
    fee_schedule,
    ids,
    institutional_bill,
    invoice,
)
from invoicing.domain.encounter_charges import EncounterChargesState
from invoicing.domain.errors import InvalidInput, UnknownInvoice
from invoicing.domain.invoice import (
    ApplyPatientPayment,
    Coding,
    InvoiceState,
    IssueInstitutionalInvoice,
    IssueInvoice,
    RepriceHeldInvoice,
    VoidInvoice,
    adjudication_from,
)
from invoicing.domain.patient_account import IssueStatement, RecordPayment

log = logging.getLogger(__name__)

C = TypeVar("C")
S = TypeVar("S")


# The one command path for invoices and accounts (kept in streams.py, shared with accounting.py).
_on_invoice = streams.on_invoice
_on_account = streams.on_account


async def _send_statement(unit: Unit, metadata: Metadata, state: InvoiceState, cause: str, on: date) -> None:
    """A statement of everything the patient owes now, once per cause."""
    items = await unit.views.open_items(metadata.tenant, state.patient_id)
    command = IssueStatement(
        statement_id=ids.statement_id(metadata.tenant, state.invoice_id, cause),
        patient_id=state.patient_id,
        statement_date=on,
        open_items=tuple(items),
    )
    await _on_account(unit, state.patient_id, command, metadata)


# Fee schedules.


@dataclass(frozen=True)
class ImportResult:
    fee_schedule_id: str
    name: str
    effective_from: date
    row_count: int
    created: bool
    versions: int


async def import_fee_schedule(
    unit: Unit,
    metadata: Metadata,
    name: str,
    effective_from: date,
    rows: tuple[FeeScheduleRow, ...],
) -> ImportResult:
    schedule_id = ids.fee_schedule_id(metadata.tenant, name)
    command = fee_schedule.ImportFeeSchedule(schedule_id, name, effective_from, rows)
    outcome = await execute(unit.session, fee_schedule.DECIDER, schedule_id, command, metadata)
    if outcome.appended:
        last = outcome.appended[-1]
        version = FeeScheduleVersion(
            schedule_id, name, effective_from, outcome.after.versions[effective_from]
        )
        await unit.views.save_fee_schedule_version(
            metadata.tenant, version, last.position or 0, last.occurred_at
        )
    return ImportResult(
        schedule_id, name, effective_from, len(rows), bool(outcome.appended), len(outcome.after.versions)
    )


# The chargemaster and charge capture.


@dataclass(frozen=True)
class ChargemasterImport:
    chargemaster_id: str
    effective_from: date
    row_count: int
    created: bool


async def import_chargemaster(
    unit: Unit, metadata: Metadata, effective_from: date, rows: tuple[ChargemasterRow, ...]
) -> ChargemasterImport:
    cdm_id = ids.chargemaster_id(metadata.tenant)
    command = chargemaster.ImportChargemaster(cdm_id, effective_from, rows)
    outcome = await execute(unit.session, chargemaster.DECIDER, cdm_id, command, metadata)
    if outcome.appended:
        last = outcome.appended[-1]
        await unit.views.save_chargemaster_version(
            metadata.tenant,
            effective_from,
            chargemaster.canonical(rows),
            last.position or 0,
            last.occurred_at,
        )
    return ChargemasterImport(cdm_id, effective_from, len(rows), bool(outcome.appended))


@dataclass(frozen=True)
class CaptureResult:
    lines: tuple[CapturedCharge, ...]
    late: bool
    encounter_total_charge_cents: int


async def capture_charges(
    unit: Unit,
    metadata: Metadata,
    encounter_id: str,
    capture_id: str,
    requested: tuple[encounter_charges.RequestedCharge, ...],
) -> CaptureResult:
    """Price the lines at their service dates and record them on the encounter; a line the chargemaster
    lacks refuses the whole capture. Charges after the encounter's institutional invoice are late."""
    prices = await unit.views.charge_prices(
        metadata.tenant, {(line.charge_code.upper(), line.service_date) for line in requested}
    )
    billed = any(
        found.status != "voided"
        for found in await unit.views.invoices_of_encounter(metadata.tenant, encounter_id)
    )

    async def decide_on(state: EncounterChargesState) -> encounter_charges.CaptureCharges:
        # Line numbers follow the encounter's earlier captures.
        lines, errors = encounter_charges.price_charges(requested, prices, state.next_line_number)
        if errors:
            raise InvalidInput(errors)
        return encounter_charges.CaptureCharges(encounter_id, capture_id, lines, late=billed)

    outcome = await execute(unit.session, encounter_charges.DECIDER, encounter_id, decide_on, metadata)
    lines: tuple[CapturedCharge, ...] = ()
    for envelope in outcome.appended:
        event = envelope.event()
        if isinstance(event, ChargesCaptured):
            await unit.views.save_charges(metadata.tenant, event, envelope.position or 0)
            lines += event.lines
    return CaptureResult(lines, billed, outcome.after.total_charge_cents)


async def capture_and_bill(
    unit: Unit,
    metadata: Metadata,
    encounter_id: str,
    capture_id: str,
    requested: tuple[encounter_charges.RequestedCharge, ...],
    *,
    today: date,
    hold_days: int,
    claim_for: Callable[[str | None], institutional_bill.LateChargeClaim],
) -> CaptureResult:
    """Capture charges, then bill what they make billable: a stay waiting only for its charges, or
    late charges after the bill."""
    result = await capture_charges(unit, metadata, encounter_id, capture_id, requested)
    if result.lines and result.late:
        captured = ChargesCaptured(
            encounter_id=encounter_id,
            capture_id=capture_id,
            lines=result.lines,
            total_charge_cents=sum(line.charge_cents for line in result.lines),
            late=True,
        )
        await bill_late_charges(unit, metadata, encounter_id, captured, claim_for, today)
    elif result.lines:
        await bill_stay_if_ready(unit, metadata, encounter_id, today, hold_days)
    return result


# Institutional bills.


async def bill_stay_if_ready(
    unit: Unit, metadata: Metadata, encounter_id: str, today: date, hold_days: int
) -> InvoiceState | None:
    """Policy: a stay discharged, coded, with charges, and past its bill hold gets its institutional
    invoice (once: the invoice id is the stay's first bill)."""
    tenant = metadata.tenant
    stay = await unit.views.stay(tenant, encounter_id)
    if stay is None or stay.coding is None or not stay.ready(today, hold_days):
        return None
    charges = [charge for charge, _ in await unit.views.charges_of(tenant, encounter_id)]
    if not charges:
        return None  # nothing to bill yet: the first charge captured will bill the stay
    bill = institutional_bill.bill_of(stay, charges)
    existing = await unit.views.invoices_of_encounter(tenant, encounter_id)
    live = [found for found in existing if found.status != "voided"]
    if live:
        latest = live[-1]
        if latest.coding_version >= stay.coding.coding_version:
            return None  # billed with this coding already: a redelivery changes nothing
        billed = await _billed_institutional(unit, latest.invoice_id)
        if billed is None or institutional_bill.same_coding(billed, bill.institutional):
            return None  # a new coding version with the same codes (a provisional DRG made final)
        previous, _ = await _load_invoice(unit.session, latest.invoice_id, tenant)
        if any(posting.kind != "charge" for posting in previous.postings):
            log.info("recoded stay with postings left for a biller", extra={"invoice_id": latest.invoice_id})
            return None
        # Recoded after the bill: the bill is voided (its claim too) and the stay billed again.
        void = VoidInvoice(
            reason=f"recoded: superseded by coding version {stay.coding.coding_version}",
            superseded_by_coding_version=stay.coding.coding_version,
        )
        await _on_invoice(unit, latest.invoice_id, void, metadata)
    invoice_id = ids.institutional_invoice_id(tenant, encounter_id, len(existing) + 1)
    coverage = await unit.views.primary_coverage_on(tenant, stay.opened.patient_id, bill.service_date)
    command = IssueInstitutionalInvoice(
        invoice_id, encounter_id, stay.opened.patient_id, stay.coding.coding_version, bill, coverage
    )
    outcome = await _on_invoice(unit, invoice_id, command, metadata)
    if any(isinstance(e, InvoiceIssued) for e in outcome.events):
        await _statement_if_self_pay(unit, metadata, outcome.after, today)
    return outcome.after


async def _billed_institutional(unit: Unit, invoice_id: str) -> InstitutionalBill | None:
    for envelope in await unit.session.load(invoice_id):
        event = envelope.event()
        if isinstance(event, InvoiceIssued) and event.institutional is not None:
            return event.institutional
    return None


async def bill_late_charges(
    unit: Unit,
    metadata: Metadata,
    encounter_id: str,
    captured: ChargesCaptured,
    claim_for: Callable[[str | None], institutional_bill.LateChargeClaim],
    today: date,
) -> InvoiceState | None:
    """Policy: charges captured after the stay's bill go on a new bill: the late lines alone
    (frequency 5) or every line, replacing the bill before (frequency 7), as the payer's setting says.
    The replaced invoice is voided only while nothing was posted to it; otherwise a biller decides."""
    tenant = metadata.tenant
    stay = await unit.views.stay(tenant, encounter_id)
    existing = [
        i for i in await unit.views.invoices_of_encounter(tenant, encounter_id) if i.status != "voided"
    ]
    if stay is None or stay.coding is None or stay.discharged is None or not existing:
        return None
    latest = existing[-1]
    previous, _ = await _load_invoice(unit.session, latest.invoice_id, tenant)
    kind = claim_for(previous.payer_id)
    everything = [charge for charge, _ in await unit.views.charges_of(tenant, encounter_id)]
    number = len(await unit.views.invoices_of_encounter(tenant, encounter_id)) + 1
    invoice_id = ids.institutional_invoice_id(tenant, encounter_id, number)
    if kind == "late_charge":
        bill = institutional_bill.bill_of(
            stay, captured.lines, frequency="5", replaces_invoice_id=latest.invoice_id
        )
    else:
        bill = institutional_bill.bill_of(
            stay, everything, frequency="7", replaces_invoice_id=latest.invoice_id
        )
        if all(posting.kind == "charge" for posting in previous.postings):
            void = VoidInvoice(
                reason="replaced by a bill with late charges", replaced_by_invoice_id=invoice_id
            )
            await _on_invoice(unit, latest.invoice_id, void, metadata)
    coverage = await unit.views.primary_coverage_on(tenant, stay.opened.patient_id, bill.service_date)
    command = IssueInstitutionalInvoice(
        invoice_id, encounter_id, stay.opened.patient_id, stay.coding.coding_version, bill, coverage
    )
    outcome = await _on_invoice(unit, invoice_id, command, metadata)
    if any(isinstance(e, InvoiceIssued) for e in outcome.events):
        await _statement_if_self_pay(unit, metadata, outcome.after, today)
    return outcome.after


async def reprice_held_invoices(
    unit: Unit, metadata: Metadata, imported: FeeScheduleImported, on: date
) -> int:
    """Policy: a newly imported schedule may price invoices that were held for want of a price."""
    issued = 0
    for invoice_id in await unit.views.held_invoice_ids(metadata.tenant):
        state, _ = await _load_invoice(unit.session, invoice_id, metadata.tenant)
        if state.lifecycle != "held" or state.service_date is None:
            continue
        if state.service_date < imported.effective_from:
            continue  # this version is not in effect on that date, so it cannot change the pricing
        price_list = await unit.views.price_list_on(metadata.tenant, state.service_date)
        coverage = await unit.views.primary_coverage_on(metadata.tenant, state.patient_id, state.service_date)
        outcome = await _on_invoice(unit, invoice_id, RepriceHeldInvoice(price_list, coverage), metadata)
        if any(isinstance(e, InvoiceIssued) for e in outcome.events):
            issued += 1
            await _statement_if_self_pay(unit, metadata, outcome.after, on)
    return issued


async def _load_invoice(session: EventSession, invoice_id: str, tenant: str) -> tuple[InvoiceState, int]:
    history = await session.load(invoice_id)
    if any(envelope.tenant != tenant for envelope in history):
        raise UnknownInvoice(invoice_id)
    return invoice.DECIDER.fold(e.event() for e in history), len(history)


async def _statement_if_self_pay(unit: Unit, metadata: Metadata, state: InvoiceState, on: date) -> None:
    if state.responsibility == "self_pay" and state.patient_responsibility_cents > 0:
        # The patient's credit (say, from a voided earlier coding's payment) pays first.
        await accounting.settle_patient_credit(unit, metadata, state.patient_id, on)
        await _send_statement(unit, metadata, state, "issued", on)


# Coding.


async def invoice_coding(unit: Unit, metadata: Metadata, coding: Coding, on: date) -> None:
    """Policy: a (re)coded encounter voids its earlier invoices and gets one priced (or held) invoice."""
    tenant = metadata.tenant
    invoice_id = ids.invoice_id(tenant, coding.encounter_id, coding.coding_version)
    existing = await unit.views.invoices_of_encounter(tenant, coding.encounter_id)
    if any(other.coding_version > coding.coding_version for other in existing):
        return  # a later coding already superseded this one
    if any(
        other.coding_version == coding.coding_version and other.invoice_id != invoice_id for other in existing
    ):
        return  # this coding was invoiced, then handed to a coverage that arrived late
    for other in existing:
        if other.invoice_id != invoice_id and other.status != "voided":
            # Coding's free-text reason is not copied: it may mention the patient.
            void = VoidInvoice(
                reason=f"recoded: superseded by coding version {coding.coding_version}",
                superseded_by_coding_version=coding.coding_version,
            )
            await _on_invoice(unit, other.invoice_id, void, metadata)
    price_list = await unit.views.price_list_on(tenant, coding.service_date)
    coverage = await unit.views.primary_coverage_on(tenant, coding.patient_id, coding.service_date)
    outcome = await _on_invoice(
        unit, invoice_id, IssueInvoice(invoice_id, coding, price_list, coverage), metadata
    )
    if outcome.after.lifecycle == "held" and outcome.events:
        log.info(
            "invoice held for pricing",
            extra={"invoice_id": invoice_id, "pricing_errors": len(outcome.after.pricing_errors)},
        )
    if any(isinstance(e, InvoiceIssued) for e in outcome.events):
        await _statement_if_self_pay(unit, metadata, outcome.after, on)
    if any(other.invoice_id != invoice_id and other.status != "voided" for other in existing):
        # What the patient paid on a voided coding's invoice becomes credit for what they owe now.
        await accounting.settle_patient_credit(unit, metadata, coding.patient_id, on)


async def reassign_to_late_coverage(unit: Unit, metadata: Metadata, patient_id: str) -> int:
    """Policy: a coverage that reaches invoicing after an encounter was invoiced as self-pay.

    Registration records the coverage before the encounter, but its events travel on another topic
    than coding's, so a lagging consumer can price a coding before it sees the coverage. A self-pay
    invoice that nobody has paid yet is then voided and the same coding invoiced to the payer that
    covers its date of service; one that already carries payments stays as it is, for a biller.
    """
    tenant = metadata.tenant
    moved = 0
    for invoice_id in await unit.views.self_pay_invoice_ids(tenant, patient_id):
        state, _ = await _load_invoice(unit.session, invoice_id, tenant)
        if state.lifecycle != "issued" or state.paid_cents != 0 or state.service_date is None:
            continue
        coverage = await unit.views.primary_coverage_on(tenant, patient_id, state.service_date)
        if coverage is None:
            continue
        coding = Coding(
            encounter_id=state.encounter_id,
            patient_id=state.patient_id,
            coding_version=state.coding_version,
            service_date=state.service_date,
            billing_provider_id=state.billing_provider_id or "",
            rendering_provider_id=state.rendering_provider_id or "",
            place_of_service=state.place_of_service or "",
            diagnoses=state.diagnoses,
            lines=state.coded_lines,
        )
        await _on_invoice(unit, invoice_id, VoidInvoice(reason="coverage recorded after invoicing"), metadata)
        replacement = ids.reassigned_invoice_id(
            tenant, state.encounter_id, state.coding_version, coverage.coverage_id
        )
        price_list = await unit.views.price_list_on(tenant, state.service_date)
        await _on_invoice(
            unit, replacement, IssueInvoice(replacement, coding, price_list, coverage), metadata
        )
        moved += 1
    return moved


# Claims.


async def post_adjudication(unit: Unit, metadata: Metadata, claim: ClaimAdjudicated) -> None:
    """Policy: post a payer's adjudication (or reversal, or denial) to the invoice's ledger."""
    command = adjudication_from(claim)
    outcome = await _on_invoice(unit, claim.invoice_id, command, metadata)
    posted = [e for e in outcome.events if isinstance(e, InsurancePaymentPosted)]
    if posted:
        # A patient who paid more than the payers left them now has credit; one who owes has credit
        # to pay with. Either moves before the statement is sent, so it asks for the right amount.
        await accounting.settle_patient_credit(unit, metadata, outcome.after.patient_id, claim.adjudicated_on)
    if (
        posted
        and not posted[0].reversal
        and not posted[0].denied
        and posted[0].patient_responsibility_cents > 0
        and outcome.after.patient_responsibility_cents > 0
    ):
        await _send_statement(unit, metadata, outcome.after, command.adjudication_id, claim.adjudicated_on)


# Patient payments.


@dataclass(frozen=True)
class PaymentReceipt:
    payment_id: str
    invoice_id: str
    patient_id: str
    amount_cents: int
    applied_cents: int
    credit_cents: int
    invoice: InvoiceState


async def receive_patient_payment(
    unit: Unit, metadata: Metadata, command: ApplyPatientPayment
) -> PaymentReceipt:
    applied = await _on_invoice(unit, command.invoice_id, command, metadata)
    applied_cents = sum(e.applied_cents for e in applied.events if isinstance(e, PatientPaymentApplied))
    patient_id = applied.after.patient_id
    record = RecordPayment(
        payment_id=command.payment_id,
        patient_id=patient_id,
        invoice_id=command.invoice_id,
        amount_cents=command.amount_cents,
        applied_cents=applied_cents,
        method=command.method,
        received_on=command.received_on,
    )
    await _on_account(unit, patient_id, record, metadata)
    if applied_cents < command.amount_cents:
        await accounting.settle_patient_credit(unit, metadata, patient_id, command.received_on)
    await accounting.after_patient_balance_fell(unit, metadata, patient_id, command.received_on)
    return PaymentReceipt(
        command.payment_id,
        command.invoice_id,
        patient_id,
        command.amount_cents,
        applied_cents,
        command.amount_cents - applied_cents,
        applied.after,
    )
