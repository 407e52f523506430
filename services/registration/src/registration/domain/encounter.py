"""The Encounter aggregate (check-in): a patient seen by providers on a date at a place of service.

EncounterOpened carries the patient's sex and age at the service date, so that coding's edits need
no patient data; the birth date itself never leaves registration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from billing_events.contracts.base import Event
from billing_events.contracts.registration import EncounterOpened
from billing_events.decider import Decider
from registration.domain.errors import AlreadyExists
from registration.domain.validation import PLACE_OF_SERVICE_CODES, Issues, age_in_years


@dataclass(frozen=True)
class PatientFacts:
    sex: str
    birth_date: date


@dataclass(frozen=True)
class ProviderFacts:
    role: str


@dataclass(frozen=True)
class OpenEncounter:
    encounter_id: str
    patient_id: str | None
    billing_provider_id: str | None
    rendering_provider_id: str | None
    service_date: str | None
    place_of_service: str | None
    today: date
    # What the application found in the tenant's views for the ids given (None: no such record).
    patient: PatientFacts | None = None
    billing_provider: ProviderFacts | None = None
    rendering_provider: ProviderFacts | None = None


@dataclass(frozen=True)
class EncounterState:
    opened: bool = False


def decide(command: OpenEncounter, state: EncounterState) -> Sequence[Event]:
    if state.opened:
        raise AlreadyExists("encounter")
    issues = Issues()
    patient_id = issues.text("patient_id", command.patient_id, max_length=64)
    if patient_id and command.patient is None:
        issues.add("patient_id", "no such patient in this tenant")
    billing_id = issues.text("billing_provider_id", command.billing_provider_id, max_length=64)
    if billing_id:
        if command.billing_provider is None:
            issues.add("billing_provider_id", "no such provider in this tenant")
        elif command.billing_provider.role != "billing":
            issues.add("billing_provider_id", "is not enrolled as a billing provider")
    rendering_id = issues.text("rendering_provider_id", command.rendering_provider_id, max_length=64)
    if rendering_id:
        if command.rendering_provider is None:
            issues.add("rendering_provider_id", "no such provider in this tenant")
        elif command.rendering_provider.role != "rendering":
            issues.add("rendering_provider_id", "is not enrolled as a rendering provider")
    service_date = issues.date("service_date", command.service_date)
    if service_date and service_date > command.today:
        issues.add("service_date", "must not be in the future")
    elif service_date and command.patient and service_date < command.patient.birth_date:
        issues.add("service_date", "must not be before the patient's birth date")
    place_of_service = issues.code("place_of_service", command.place_of_service, PLACE_OF_SERVICE_CODES)
    issues.raise_if_any()
    assert patient_id and billing_id and rendering_id and service_date and place_of_service
    assert command.patient is not None
    return [
        EncounterOpened(
            encounter_id=command.encounter_id,
            patient_id=patient_id,
            billing_provider_id=billing_id,
            rendering_provider_id=rendering_id,
            service_date=service_date,
            place_of_service=place_of_service,
            patient_sex=command.patient.sex,
            patient_age_years=age_in_years(command.patient.birth_date, service_date),
        )
    ]


def evolve(state: EncounterState, event: Event) -> EncounterState:
    if isinstance(event, EncounterOpened):
        return EncounterState(opened=True)
    return state


encounter = Decider[OpenEncounter, EncounterState](EncounterState(), decide, evolve, "encounter")
