"""Registration's events: who the patient is, who insures them, who treats them, who pays."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from billing_events.contracts.base import Event, Sealed, event

SERVICE = "registration"

Sex = Literal["M", "F", "U"]
Priority = Literal["primary", "secondary", "tertiary"]
Relationship = Literal["self", "spouse", "child", "other"]
ProviderRole = Literal["billing", "rendering"]
FacilityKind = Literal["hospital", "clinic", "asc", "snf"]
Setting = Literal["inpatient", "outpatient"]


class Address(BaseModel):
    """An organisation's or provider's address (not patient data, so in clear)."""

    model_config = ConfigDict(frozen=True)

    line1: str
    line2: str | None = None
    city: str
    state: str
    postal_code: str


@event(service=SERVICE, aggregate="payer", subject="payer_id")
class PayerRegistered(Event):
    payer_id: str
    name: str
    edi_payer_id: str
    claim_filing_indicator: str
    address: Address | None = None
    timely_filing_days: int = 365


@event(service=SERVICE, aggregate="provider", subject="provider_id")
class ProviderEnrolled(Event):
    provider_id: str
    npi: str
    role: ProviderRole
    organization_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    taxonomy_code: str
    tax_id: str | None = None
    address: Address


@event(service=SERVICE, aggregate="patient", subject="patient_id")
class PatientRegistered(Event):
    """Direct identifiers are sealed under the patient's data key; `mrn_index` is a keyed blind index."""

    patient_id: str
    mrn: Sealed
    mrn_index: str
    name: Sealed
    birth_date: Sealed
    sex: Sex
    address: Sealed
    phone: Sealed | None = None


@event(service=SERVICE, aggregate="patient", subject="patient_id")
class PatientForgotten(Event):
    """The patient's data key was destroyed (crypto-shredding): every sealed value of the patient, in
    every log, topic and view, is unreadable from now on. `reason` is the operator's note (a ticket or
    an order's number), never patient data; `legal_order` when it overrode the retention hold."""

    patient_id: str
    reason: str
    legal_order: bool = False


@event(service=SERVICE, aggregate="patient", subject="patient_id")
class PatientDemographicsUpdated(Event):
    """Only the fields that changed are present."""

    patient_id: str
    name: Sealed | None = None
    birth_date: Sealed | None = None
    sex: Sex | None = None
    address: Sealed | None = None
    phone: Sealed | None = None


@event(service=SERVICE, aggregate="coverage", subject="coverage_id")
class CoverageAdded(Event):
    coverage_id: str
    patient_id: str
    payer_id: str
    member_id: Sealed
    group_number: str | None = None
    priority: Priority
    relationship_to_subscriber: Relationship
    # {name{given,family}, birth_date, sex, address} when the subscriber is not the patient.
    subscriber: Sealed | None = None
    effective_from: date
    effective_to: date | None = None


@event(service=SERVICE, aggregate="coverage", subject="coverage_id")
class CoverageTerminated(Event):
    coverage_id: str
    patient_id: str
    effective_to: date


@event(service=SERVICE, aggregate="encounter", subject="encounter_id")
class EncounterOpened(Event):
    """Carries the patient's sex and age at service, so coding edits need no patient data."""

    encounter_id: str
    patient_id: str
    billing_provider_id: str
    rendering_provider_id: str
    service_date: date
    place_of_service: str
    patient_sex: Sex
    patient_age_years: int


@event(service=SERVICE, aggregate="facility", subject="facility_id")
class FacilityRegistered(Event):
    """A facility of the tenant (the network): the billing provider of its institutional claims
    (837I loop 2010AA and the service facility, 2310E). An organisation's data, so in clear."""

    facility_id: str
    name: str
    npi: str
    tax_id: str
    kind: FacilityKind
    address: Address
    taxonomy_code: str | None = None


@event(service=SERVICE, aggregate="encounter", subject="encounter_id")
class AdmissionOpened(Event):
    """An institutional encounter (a stay or an outpatient visit at a facility), on the encounter stream,
    so that the encounter id is the one coding and invoicing already key on.

    `admitted_at` keeps the offset it was given: the UB-04 admission hour is the facility's local time.
    `admission_type` is the UB-04 priority of admission (FL 14, "1"-"9"), `admission_source` the point
    of origin (FL 15). Like EncounterOpened it carries the patient's sex and age at admission, so that
    coding's edits and grouping need no patient data.
    """

    encounter_id: str
    patient_id: str
    facility_id: str
    attending_provider_id: str
    setting: Setting
    admitted_at: datetime
    admission_type: str
    admission_source: str
    patient_sex: Sex
    patient_age_years: int


@event(service=SERVICE, aggregate="encounter", subject="encounter_id")
class AdmissionDischarged(Event):
    """The stay is closed (the statement period ends). `discharge_status` is the UB-04 patient
    status code (FL 17, e.g. "01" home, "02" short-term hospital, "03" SNF, "06" home health,
    "20" expired). Charges may still arrive after it; that is invoicing's business."""

    encounter_id: str
    patient_id: str
    facility_id: str
    setting: Setting
    admitted_at: datetime
    discharged_at: datetime
    discharge_status: str
