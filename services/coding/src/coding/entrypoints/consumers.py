"""Coding's subscriptions: its own projection of registration's encounters and patients."""

from __future__ import annotations

from billing_events.consumer import Subscription, handlers
from billing_events.contracts.registration import (
    AdmissionDischarged,
    AdmissionOpened,
    EncounterOpened,
    PatientDemographicsUpdated,
)
from billing_events.envelope import EventEnvelope
from billing_events.store import Session
from billing_service.runtime import Runtime
from coding.adapters.projections import PROJECTION_TABLES, PostgresViews
from coding.application.handlers import (
    on_admission_discharged,
    on_admission_opened,
    on_demographics_updated,
    on_encounter_opened,
)


async def _encounter_opened(session: Session, envelope: EventEnvelope) -> None:
    await on_encounter_opened(PostgresViews(session.connection), envelope)


async def _admission_opened(session: Session, envelope: EventEnvelope) -> None:
    await on_admission_opened(PostgresViews(session.connection), envelope)


async def _admission_discharged(session: Session, envelope: EventEnvelope) -> None:
    await on_admission_discharged(PostgresViews(session.connection), envelope)


async def _demographics_updated(session: Session, envelope: EventEnvelope) -> None:
    await on_demographics_updated(PostgresViews(session.connection), envelope)


def subscriptions(_runtime: Runtime) -> list[Subscription]:
    return [registration_view()]


def registration_view() -> Subscription:
    return Subscription(
        name="coding-registration-view",
        topics=[("registration", "encounter"), ("registration", "patient")],
        handlers=handlers(
            (EncounterOpened, _encounter_opened),
            (AdmissionOpened, _admission_opened),
            (AdmissionDischarged, _admission_discharged),
            (PatientDemographicsUpdated, _demographics_updated),
        ),
        owned_tables=PROJECTION_TABLES,
    )
