"""Coding's events: the diagnoses and procedure lines of an encounter, versioned."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from billing_events.contracts.base import Event, event

SERVICE = "coding"


class CodedLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_number: int
    code: str
    code_system: Literal["CPT", "HCPCS"]
    modifiers: tuple[str, ...] = ()
    units: int
    diagnosis_pointers: tuple[int, ...]


class EditFinding(BaseModel):
    model_config = ConfigDict(frozen=True)

    edit_id: str
    severity: Literal["error", "warning"]
    message: str
    field: str


@event(service=SERVICE, aggregate="encounter-coding", subject="encounter_id")
class EncounterCoded(Event):
    encounter_id: str
    patient_id: str
    coding_version: int
    service_date: date
    billing_provider_id: str
    rendering_provider_id: str
    place_of_service: str
    diagnoses: tuple[str, ...]
    lines: tuple[CodedLine, ...]
    warnings: tuple[EditFinding, ...] = ()


@event(service=SERVICE, aggregate="encounter-coding", subject="encounter_id")
class EncounterRecoded(Event):
    encounter_id: str
    patient_id: str
    coding_version: int
    previous_version: int
    service_date: date
    billing_provider_id: str
    rendering_provider_id: str
    place_of_service: str
    diagnoses: tuple[str, ...]
    lines: tuple[CodedLine, ...]
    warnings: tuple[EditFinding, ...] = ()
    reason: str | None = None
