"""The patient side's copies of registration's data: providers (a good-faith estimate names the
convening provider's NPI and TIN) and eligibility answers (an estimate uses the coverage's latest);
and the financial-assistance policy on invoicing's own invoices: a balance that reaches an eligible
patient (a self-pay invoice, a payer's answer) is brought down to what they may be charged."""

from __future__ import annotations

from billing_events.consumer import SafeError, Subscription, handlers
from billing_events.contracts.invoicing import InsurancePaymentPosted, InvoiceIssued
from billing_events.contracts.registration import EligibilityCheckAnswered, ProviderEnrolled
from billing_events.envelope import EventEnvelope
from billing_events.store import Session
from billing_service.commands import metadata_caused_by
from invoicing.adapters import patient_side
from invoicing.application import patient_side as patient_side_app
from invoicing.domain.errors import DomainError


async def on_provider_enrolled(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    if not isinstance(event, ProviderEnrolled):
        raise SafeError(f"expected ProviderEnrolled, got {envelope.event_type}")
    await patient_side.save_provider(session.connection, envelope.tenant, event)


async def on_eligibility_answered(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    if not isinstance(event, EligibilityCheckAnswered):
        raise SafeError(f"expected EligibilityCheckAnswered, got {envelope.event_type}")
    await patient_side.save_benefits(session.connection, envelope.tenant, event, envelope.position or 0)


async def on_patient_balance(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    if isinstance(event, InvoiceIssued):
        patient_id: str | None = event.patient_id
    elif isinstance(event, InsurancePaymentPosted):
        patient_id = await session.connection.fetchval(
            "SELECT patient_id FROM invoicing_invoices WHERE tenant = $1 AND invoice_id = $2",
            envelope.tenant,
            event.invoice_id,
        )
    else:
        raise SafeError(f"expected an invoice event, got {envelope.event_type}")
    if patient_id is None:
        return
    try:
        await patient_side_app.apply_charity(
            patient_side.patient_side_unit(session),
            metadata_caused_by(envelope),
            patient_id,
            envelope.occurred_at.date(),
        )
    except DomainError as error:
        raise SafeError(f"{type(error).__name__}: {error}") from None


def patient_side_subscription() -> Subscription:
    return Subscription(
        name="invoicing-patient-side",
        topics=[
            ("registration", "provider"),
            ("registration", "eligibility-check"),
            ("invoicing", "invoice"),
        ],
        handlers=handlers(
            (ProviderEnrolled, on_provider_enrolled),
            (EligibilityCheckAnswered, on_eligibility_answered),
            (InvoiceIssued, on_patient_balance),
            (InsurancePaymentPosted, on_patient_balance),
        ),
        owned_tables=patient_side.REGISTRATION_COPY_TABLES,
    )
