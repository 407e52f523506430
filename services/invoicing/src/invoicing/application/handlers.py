"""Commands and policies: load an aggregate, decide, append, then bring the read models up to date.

Every function runs inside the caller's Session (one PostgreSQL transaction) and every command goes
through billing_events.decider.execute: events and read models commit together or not at all, the
read models are brought up to date after the append (why: see execute).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from billing_events.contracts.claims import ClaimAdjudicated
from billing_events.contracts.invoicing import (
    FeeScheduleImported,
    FeeScheduleRow,
    InsurancePaymentPosted,
    InvoiceIssued,
    PatientPaymentApplied,
)
from billing_events.decider import execute
from billing_events.envelope import Metadata
from billing_events.unit_of_work import EventSession
from invoicing.application import accounting, streams
from invoicing.application.ports import FeeScheduleVersion, Unit
from invoicing.domain import fee_schedule, ids, invoice
from invoicing.domain.errors import UnknownInvoice
from invoicing.domain.invoice import (
    ApplyPatientPayment,
    Coding,
    InvoiceState,
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
