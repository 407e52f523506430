"""Subscribers: registration's reference data and invoicing's invoices, translated into application calls."""

from __future__ import annotations

from billing_events.consumer import Handler, Lock, Subscription, handlers, tenant_scoped
from billing_events.contracts.invoicing import InvoiceIssued, InvoiceSettled, InvoiceVoided
from billing_events.contracts.registration import (
    CoverageAdded,
    CoverageTerminated,
    EligibilityCheckRequested,
    FacilityRegistered,
    PatientDemographicsUpdated,
    PatientForgotten,
    PatientRegistered,
    PayerRegistered,
    ProviderEnrolled,
)
from billing_events.envelope import EventEnvelope
from billing_events.store import Session
from billing_service.commands import metadata_caused_by
from billing_service.runtime import Runtime
from claims.adapters.clearinghouse import FolderClearinghouse
from claims.adapters.eligibility import PostgresInquiries
from claims.adapters.projections import forget_patient, postgres_unit
from claims.application.eligibility import queue_inquiry
from claims.application.handlers import (
    close_claims_for_invoice,
    create_claim_for_invoice,
    replace_claims_for_invoice,
    void_claims_for_invoice,
)
from claims.application.reference import apply_reference_event
from claims.entrypoints.workers import settings_of

REFERENCE_TABLES = ["claims_payers", "claims_providers", "claims_patients", "claims_coverages"]
# Reference data and the claims that wait on it are written by two consumers: a patient's claim and
# that patient's reference data one at a time, so a claim scrubbed without its coverage is always
# seen, and scrubbed again, by the coverage's arrival. A payer, a provider or a facility concerns
# every patient's claims: its event runs alone in the tenant (see tenant_scoped).
REFERENCE_SCOPE = "claims:reference"
_PER_PATIENT = {
    contract.event_type
    for contract in (
        PatientRegistered,
        PatientDemographicsUpdated,
        PatientForgotten,
        CoverageAdded,
        CoverageTerminated,
        InvoiceIssued,
    )
}


def reference_locks(envelope: EventEnvelope) -> list[Lock]:
    if envelope.event_type == InvoiceSettled.event_type:
        return []  # closes the invoice's claims; reads no reference data
    patient_id = envelope.payload.get("patient_id") if envelope.event_type in _PER_PATIENT else None
    return tenant_scoped(REFERENCE_SCOPE, envelope.tenant, patient_id)


async def on_reference(session: Session, envelope: EventEnvelope) -> None:
    # The event's own time, not the clock: a redelivery decides exactly as the first delivery did.
    await apply_reference_event(
        postgres_unit(session),
        envelope.tenant,
        envelope.event(),
        metadata_caused_by(envelope),
        envelope.occurred_at.date(),
    )


async def on_invoice_issued(session: Session, envelope: EventEnvelope) -> None:
    invoice = envelope.event()
    assert isinstance(invoice, InvoiceIssued)
    await create_claim_for_invoice(
        postgres_unit(session),
        envelope.tenant,
        invoice,
        metadata_caused_by(envelope),
        envelope.occurred_at.date(),
    )


async def on_invoice_voided(session: Session, envelope: EventEnvelope) -> None:
    voided = envelope.event()
    assert isinstance(voided, InvoiceVoided)
    if voided.replaced_by_invoice_id is not None:
        await replace_claims_for_invoice(
            postgres_unit(session),
            envelope.tenant,
            voided.invoice_id,
            voided.reason,
            metadata_caused_by(envelope),
        )
        return
    await void_claims_for_invoice(
        postgres_unit(session),
        envelope.tenant,
        voided.invoice_id,
        voided.reason,
        metadata_caused_by(envelope),
        envelope.occurred_at.date(),
    )


async def on_invoice_settled(session: Session, envelope: EventEnvelope) -> None:
    settled = envelope.event()
    assert isinstance(settled, InvoiceSettled)
    await close_claims_for_invoice(
        postgres_unit(session),
        envelope.tenant,
        settled.invoice_id,
        "invoice settled",
        metadata_caused_by(envelope),
    )


async def on_eligibility_check(session: Session, envelope: EventEnvelope) -> None:
    requested = envelope.event()
    assert isinstance(requested, EligibilityCheckRequested)
    await queue_inquiry(
        PostgresInquiries(session.connection), envelope.tenant, requested, envelope.occurred_at
    )


def forgetting(runtime: Runtime) -> Handler:
    """PatientForgotten: blank the patient's reference data and purge the 837 files that named them
    from the clearinghouse folder (the file of a batch holds its other claims too; each of those claims
    keeps its own 837 sealed in claim_submissions). Idempotent: a second delivery finds nothing."""

    async def on_patient_forgotten(session: Session, envelope: EventEnvelope) -> None:
        forgotten = envelope.event()
        assert isinstance(forgotten, PatientForgotten)
        files = await forget_patient(session.connection, envelope.tenant, forgotten.patient_id)
        session.cache.clear()  # the patient's reference rows just changed under the session's reads
        clearinghouse = FolderClearinghouse(settings_of(runtime).clearinghouse_dir)
        for name in files:
            clearinghouse.purge_outbound(name)

    return on_patient_forgotten


def subscriptions(runtime: Runtime) -> list[Subscription]:
    return [
        Subscription(
            name="claims-reference",
            topics=[
                ("registration", "payer"),
                ("registration", "provider"),
                ("registration", "patient"),
                ("registration", "coverage"),
                ("registration", "facility"),
            ],
            handlers=handlers(
                (PayerRegistered, on_reference),
                (FacilityRegistered, on_reference),
                (ProviderEnrolled, on_reference),
                (PatientRegistered, on_reference),
                (PatientDemographicsUpdated, on_reference),
                (CoverageAdded, on_reference),
                (CoverageTerminated, on_reference),
                (PatientForgotten, forgetting(runtime)),
            ),
            owned_tables=REFERENCE_TABLES,
            locks=reference_locks,
        ),
        Subscription(
            name="claims-invoices",
            topics=[("invoicing", "invoice")],
            handlers=handlers(
                (InvoiceIssued, on_invoice_issued),
                (InvoiceVoided, on_invoice_voided),
                (InvoiceSettled, on_invoice_settled),
            ),
            locks=reference_locks,
        ),
        # Registration's eligibility checks, queued for the eligibility worker (its 270 files).
        Subscription(
            name="claims-eligibility",
            topics=[("registration", "eligibility-check")],
            handlers=handlers((EligibilityCheckRequested, on_eligibility_check)),
        ),
    ]
