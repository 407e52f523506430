"""Invoicing's subscribers: registration's coverage and payers (a projection), and the policies that
turn coding, adjudications and new fee schedules into invoices, postings and statements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from billing_events.consumer import Lock, SafeError, Subscription, handlers, tenant_scoped
from billing_events.contracts.base import Event
from billing_events.contracts.claims import ClaimAdjudicated
from billing_events.contracts.coding import EncounterCoded, EncounterRecoded, InstitutionalEncounterCoded
from billing_events.contracts.invoicing import FeeScheduleImported
from billing_events.contracts.registration import (
    AdmissionDischarged,
    AdmissionOpened,
    CoverageAdded,
    CoverageTerminated,
    PatientDemographicsUpdated,
    PatientForgotten,
    PatientRegistered,
    PayerRegistered,
)
from billing_events.envelope import EventEnvelope
from billing_events.store import Session
from billing_service.commands import metadata_caused_by
from billing_service.runtime import Runtime
from invoicing.adapters import projections
from invoicing.adapters.projections import postgres_unit
from invoicing.application import handlers as app
from invoicing.domain.errors import DomainError
from invoicing.domain.invoice import coding_from
from invoicing.entrypoints.patient_side_consumers import patient_side_subscription
from invoicing.settings import invoicing_settings

E = TypeVar("E", bound=Event)
Handler = Callable[[Session, EventEnvelope], Awaitable[None]]


def _typed(envelope: EventEnvelope, kind: type[E]) -> E:
    event = envelope.event()
    if not isinstance(event, kind):
        raise SafeError(f"expected {kind.__name__}, got {envelope.event_type}")
    return event


def _safe(handler: Handler) -> Handler:
    """Domain errors name only ids and codes, so their messages may go to the DLQ as they are."""

    async def run(session: Session, envelope: EventEnvelope) -> None:
        try:
            await handler(session, envelope)
        except DomainError as error:
            raise SafeError(f"{type(error).__name__}: {error}") from None

    return run


# Coverages and codings arrive through two consumers; pricing an invoice reads the patient's
# coverages. One at a time for a patient, so a coding never misses a coverage that another transaction
# was committing at that moment; two patients' go side by side.
COVERAGE_SCOPE = "invoicing:coverages"
_READS_OR_WRITES_COVERAGES = {
    contract.event_type
    for contract in (
        CoverageAdded,
        CoverageTerminated,
        EncounterCoded,
        EncounterRecoded,
        AdmissionOpened,
        AdmissionDischarged,
        InstitutionalEncounterCoded,
    )
}


def coverage_locks(envelope: EventEnvelope) -> list[Lock]:
    if envelope.event_type not in _READS_OR_WRITES_COVERAGES:
        return []
    return tenant_scoped(COVERAGE_SCOPE, envelope.tenant, envelope.payload.get("patient_id"))


async def on_coverage_added(session: Session, envelope: EventEnvelope) -> None:
    coverage = _typed(envelope, CoverageAdded)
    await projections.save_coverage(session.connection, envelope.tenant, coverage)
    await app.reassign_to_late_coverage(
        postgres_unit(session), metadata_caused_by(envelope), coverage.patient_id
    )


async def on_coverage_terminated(session: Session, envelope: EventEnvelope) -> None:
    await projections.end_coverage(session.connection, envelope.tenant, _typed(envelope, CoverageTerminated))


async def on_payer_registered(session: Session, envelope: EventEnvelope) -> None:
    await projections.save_payer(session.connection, envelope.tenant, _typed(envelope, PayerRegistered))


async def on_patient(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    if not isinstance(event, PatientRegistered | PatientDemographicsUpdated):
        raise SafeError(f"expected a patient event, got {envelope.event_type}")
    await projections.save_patient(session.connection, envelope.tenant, event)


async def on_patient_forgotten(session: Session, envelope: EventEnvelope) -> None:
    forgotten = _typed(envelope, PatientForgotten)
    await projections.forget_patient(session.connection, envelope.tenant, forgotten.patient_id)


async def on_encounter_coded(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    if not isinstance(event, EncounterCoded | EncounterRecoded):
        raise SafeError(f"expected a coding event, got {envelope.event_type}")
    await app.invoice_coding(
        postgres_unit(session),
        metadata_caused_by(envelope),
        coding_from(event),
        envelope.occurred_at.date(),
    )


async def on_claim_adjudicated(session: Session, envelope: EventEnvelope) -> None:
    await app.post_adjudication(
        postgres_unit(session),
        metadata_caused_by(envelope),
        _typed(envelope, ClaimAdjudicated),
    )


async def on_fee_schedule_imported(session: Session, envelope: EventEnvelope) -> None:
    await app.reprice_held_invoices(
        postgres_unit(session),
        metadata_caused_by(envelope),
        _typed(envelope, FeeScheduleImported),
        envelope.occurred_at.date(),
    )


async def on_admission_opened(session: Session, envelope: EventEnvelope) -> None:
    opened = _typed(envelope, AdmissionOpened)
    await projections.save_admission(session.connection, envelope.tenant, opened)
    await _bill(session, envelope, opened.encounter_id)


async def on_admission_discharged(session: Session, envelope: EventEnvelope) -> None:
    discharged = _typed(envelope, AdmissionDischarged)
    await projections.save_discharge(session.connection, envelope.tenant, discharged)
    await _bill(session, envelope, discharged.encounter_id)


async def on_institutional_coding(session: Session, envelope: EventEnvelope) -> None:
    coded = _typed(envelope, InstitutionalEncounterCoded)
    await projections.save_institutional_coding(session.connection, envelope.tenant, coded)
    await _bill(session, envelope, coded.encounter_id)


async def _bill(session: Session, envelope: EventEnvelope, encounter_id: str) -> None:
    await app.bill_stay_if_ready(
        postgres_unit(session),
        metadata_caused_by(envelope),
        encounter_id,
        envelope.occurred_at.date(),
        invoicing_settings().bill_hold_days,
    )


def subscriptions(_runtime: Runtime) -> list[Subscription]:
    # The registration projection comes first: a test harness drains consumers in this order, so
    # coverage is known before the coding that needs it is priced.
    return [
        Subscription(
            name="invoicing-registration",
            topics=[("registration", "coverage"), ("registration", "payer"), ("registration", "patient")],
            handlers=handlers(
                (PatientRegistered, on_patient),
                (PatientDemographicsUpdated, on_patient),
                (PatientForgotten, on_patient_forgotten),
                (CoverageAdded, on_coverage_added),
                (CoverageTerminated, on_coverage_terminated),
                (PayerRegistered, on_payer_registered),
            ),
            owned_tables=projections.REGISTRATION_TABLES,
            locks=coverage_locks,
        ),
        Subscription(
            name="invoicing-policies",
            topics=[
                ("registration", "encounter"),
                ("coding", "encounter-coding"),
                ("claims", "claim"),
                ("invoicing", "fee-schedule"),
            ],
            handlers=handlers(
                (AdmissionOpened, _safe(on_admission_opened)),
                (AdmissionDischarged, _safe(on_admission_discharged)),
                (InstitutionalEncounterCoded, _safe(on_institutional_coding)),
                (EncounterCoded, _safe(on_encounter_coded)),
                (EncounterRecoded, _safe(on_encounter_coded)),
                (ClaimAdjudicated, _safe(on_claim_adjudicated)),
                (FeeScheduleImported, _safe(on_fee_schedule_imported)),
            ),
            locks=coverage_locks,
        ),
        patient_side_subscription(),
    ]
