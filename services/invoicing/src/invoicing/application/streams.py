"""Running one command on an invoice or a patient account: execute, then save its read model."""

from __future__ import annotations

from billing_events.decider import Outcome, StreamOfAnotherTenant, execute
from billing_events.envelope import Metadata
from invoicing.application.ports import Unit
from invoicing.domain import invoice, patient_account
from invoicing.domain.errors import UnknownInvoice
from invoicing.domain.invoice import InvoiceState
from invoicing.domain.patient_account import PatientAccountState


async def on_invoice(
    unit: Unit, invoice_id: str, command: invoice.Command, metadata: Metadata
) -> Outcome[InvoiceState]:
    async def project(outcome: Outcome[InvoiceState]) -> None:
        await unit.views.save_invoice(
            metadata.tenant, outcome.after, outcome.first_position, outcome.last_position
        )

    try:
        return await execute(unit.session, invoice.DECIDER, invoice_id, command, metadata, project=project)
    except StreamOfAnotherTenant:
        raise UnknownInvoice(invoice_id) from None


async def on_account(
    unit: Unit, patient_id: str, command: patient_account.Command, metadata: Metadata
) -> Outcome[PatientAccountState]:
    async def project(outcome: Outcome[PatientAccountState]) -> None:
        await unit.views.save_account(metadata.tenant, outcome.after, outcome.last_position)

    return await execute(
        unit.session, patient_account.DECIDER, patient_id, command, metadata, project=project
    )


async def load_account(unit: Unit, tenant: str, patient_id: str) -> PatientAccountState:
    history = await unit.session.load(patient_id)
    if any(envelope.tenant != tenant for envelope in history):
        return patient_account.DECIDER.initial
    return patient_account.DECIDER.fold(e.event() for e in history)
