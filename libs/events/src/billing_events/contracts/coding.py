"""Coding's events: the diagnoses and procedure lines of an encounter, versioned."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from billing_events.contracts.base import Event, Sealed, event

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
    # The coder's words may be about the patient: sealed under the patient's key, `reason` then reads
    # SEALED_TEXT. Events before sealing carry the text in `reason` alone.
    reason: str | None = None
    sealed_reason: Sealed | None = None


PresentOnAdmission = Literal["Y", "N", "U", "W", "1"]


class InstitutionalDiagnosis(BaseModel):
    """An ICD-10-CM code (dotted) and its present-on-admission indicator: Y, N, U, W, or 1 for a code
    on CMS's POA-exempt list (the 837I sends 1 as blank). None for an outpatient visit."""

    model_config = ConfigDict(frozen=True)

    code: str
    poa: PresentOnAdmission | None = None


class InstitutionalProcedure(BaseModel):
    """An ICD-10-PCS code (7 characters, no dot) and the date it was performed."""

    model_config = ConfigDict(frozen=True)

    code: str
    date: date


class DrgAssignment(BaseModel):
    """The MS-DRG of an inpatient stay. `weight` is the relative weight as a decimal string with four
    places (e.g. "1.9046"), never a float; payment is weight x base rate, rounded to the cent by the
    payer. `grouper` names the grouper version and its data (e.g. "MS-DRG v41 (FY2024) subset")."""

    model_config = ConfigDict(frozen=True)

    code: str
    weight: str
    description: str
    mdc: str
    grouper: str


@event(service=SERVICE, aggregate="encounter-coding", subject="encounter_id")
class InstitutionalEncounterCoded(Event):
    """The coding of an institutional encounter (registration's AdmissionOpened), one event per version:
    version 1 has no `previous_version`, a recoding names the version it replaces. The latest version
    is the coding; it is on the same topic as EncounterCoded, whose consumers ignore it.

    `principal_diagnosis` is the 837I's ABK, `admitting_diagnosis` ABJ, `diagnoses` the other
    diagnoses (ABF) in order; `procedures` the first is the principal procedure (BBR), the rest BBQ.
    `drg` is present for an inpatient stay that grouped.
    """

    encounter_id: str
    patient_id: str
    coding_version: int
    previous_version: int | None = None
    facility_id: str
    attending_provider_id: str
    setting: Literal["inpatient", "outpatient"]
    admitted_at: datetime
    principal_diagnosis: InstitutionalDiagnosis
    admitting_diagnosis: str | None = None
    diagnoses: tuple[InstitutionalDiagnosis, ...] = ()
    procedures: tuple[InstitutionalProcedure, ...] = ()
    drg: DrgAssignment | None = None
    warnings: tuple[EditFinding, ...] = ()
    reason: str | None = None  # sealed as EncounterRecoded's is
    sealed_reason: Sealed | None = None
