"""The Admission aggregate: an institutional encounter at a facility, inpatient or outpatient, from
admission to discharge. It lives on the encounter stream (its id is an encounter id), so coding and
invoicing key it the way they key every encounter.

decide(OpenAdmission, state) -> [AdmissionOpened]
decide(DischargeAdmission, state) -> [AdmissionDischarged]; a second discharge is AlreadyDischarged
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from billing_events.contracts.base import Event
from billing_events.contracts.registration import AdmissionDischarged, AdmissionOpened
from billing_events.decider import Decider
from registration.domain.encounter import PatientFacts, ProviderFacts
from registration.domain.errors import AlreadyDischarged, AlreadyExists, NotRegistered
from registration.domain.ub04 import (
    ADMISSION_SOURCES,
    ADMISSION_TYPES,
    DISCHARGE_STATUSES,
    NEWBORN_SOURCES,
    SETTINGS,
)
from registration.domain.validation import Issues, age_in_years

NEWBORN = "4"


@dataclass(frozen=True)
class OpenAdmission:
    encounter_id: str
    patient_id: str | None
    facility_id: str | None
    attending_provider_id: str | None
    setting: str | None
    admitted_at: str | None
    admission_type: str | None
    admission_source: str | None
    now: datetime
    # What the application found in the tenant's views for the ids given (None: no such record).
    patient: PatientFacts | None = None
    facility_known: bool = False
    attending_provider: ProviderFacts | None = None


@dataclass(frozen=True)
class DischargeAdmission:
    encounter_id: str
    discharged_at: str | None
    discharge_status: str | None
    now: datetime


AdmissionCommand = OpenAdmission | DischargeAdmission


@dataclass(frozen=True)
class AdmissionState:
    opened: AdmissionOpened | None = None
    discharged: bool = False


def timestamp(issues: Issues, field: str, value: str | None, *, now: datetime) -> datetime | None:
    """An ISO 8601 date and time with its UTC offset (the facility's local time is kept as given:
    the UB-04 admission hour is local). Without an offset the instant is ambiguous, so refused."""
    if value is None or not value.strip():
        issues.add(field, "is required")
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        issues.add(field, "must be a date and time as YYYY-MM-DDTHH:MM[:SS]+HH:MM")
        return None
    if parsed.tzinfo is None:
        issues.add(field, "must carry a UTC offset (e.g. -05:00 or Z)")
        return None
    if parsed > now:
        issues.add(field, "must not be in the future")
        return None
    return parsed


def _open(command: OpenAdmission, state: AdmissionState) -> Sequence[Event]:
    if state.opened is not None:
        raise AlreadyExists("admission")
    issues = Issues()
    patient_id = issues.text("patient_id", command.patient_id, max_length=64)
    if patient_id and command.patient is None:
        issues.add("patient_id", "no such patient in this tenant")
    facility_id = issues.text("facility_id", command.facility_id, max_length=64)
    if facility_id and not command.facility_known:
        issues.add("facility_id", "no such facility in this tenant")
    attending_id = issues.text("attending_provider_id", command.attending_provider_id, max_length=64)
    if attending_id:
        if command.attending_provider is None:
            issues.add("attending_provider_id", "no such provider in this tenant")
        elif command.attending_provider.role != "rendering":
            # The attending physician is a person who treats: a rendering provider, never a billing one.
            issues.add("attending_provider_id", "is not enrolled as a rendering provider")
    setting = issues.code("setting", command.setting, SETTINGS)
    admitted_at = timestamp(issues, "admitted_at", command.admitted_at, now=command.now)
    if admitted_at and command.patient and admitted_at.date() < command.patient.birth_date:
        issues.add("admitted_at", "must not be before the patient's birth date")
    admission_type = issues.code("admission_type", command.admission_type, ADMISSION_TYPES)
    sources = NEWBORN_SOURCES if admission_type == NEWBORN else ADMISSION_SOURCES
    admission_source = issues.code("admission_source", command.admission_source, sources)
    issues.raise_if_any()
    assert patient_id and facility_id and attending_id and setting and admitted_at
    assert admission_type and admission_source and command.patient is not None
    return [
        AdmissionOpened(
            encounter_id=command.encounter_id,
            patient_id=patient_id,
            facility_id=facility_id,
            attending_provider_id=attending_id,
            setting=setting,
            admitted_at=admitted_at,
            admission_type=admission_type,
            admission_source=admission_source,
            patient_sex=command.patient.sex,
            patient_age_years=age_in_years(command.patient.birth_date, _local_date(admitted_at)),
        )
    ]


def _local_date(moment: datetime) -> date:
    return moment.date()  # the date at the facility's offset, as given


def _discharge(command: DischargeAdmission, state: AdmissionState) -> Sequence[Event]:
    opened = state.opened
    if opened is None:
        raise NotRegistered("admission")
    if state.discharged:
        raise AlreadyDischarged()
    issues = Issues()
    discharged_at = timestamp(issues, "discharged_at", command.discharged_at, now=command.now)
    if discharged_at and discharged_at < opened.admitted_at:
        issues.add("discharged_at", "must not be before the admission")
    status = issues.code("discharge_status", command.discharge_status, DISCHARGE_STATUSES)
    issues.raise_if_any()
    assert discharged_at and status
    return [
        AdmissionDischarged(
            encounter_id=opened.encounter_id,
            patient_id=opened.patient_id,
            facility_id=opened.facility_id,
            setting=opened.setting,
            admitted_at=opened.admitted_at,
            discharged_at=discharged_at,
            discharge_status=status,
        )
    ]


def decide(command: AdmissionCommand, state: AdmissionState) -> Sequence[Event]:
    if isinstance(command, OpenAdmission):
        return _open(command, state)
    return _discharge(command, state)


def evolve(state: AdmissionState, event: Event) -> AdmissionState:
    if isinstance(event, AdmissionOpened):
        return AdmissionState(opened=event)
    if isinstance(event, AdmissionDischarged):
        return AdmissionState(opened=state.opened, discharged=True)
    return state


# The stream type is the encounter's: an admission is an encounter of its own kind.
admission = Decider[AdmissionCommand, AdmissionState](AdmissionState(), decide, evolve, "encounter")
