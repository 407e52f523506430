"""Registration's events: who the patient is, who insures them, who treats them, who pays."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from billing_events.contracts.base import Event, Sealed, event

SERVICE = "registration"

Sex = Literal["M", "F", "U"]
Priority = Literal["primary", "secondary", "tertiary"]
Relationship = Literal["self", "spouse", "child", "other"]
ProviderRole = Literal["billing", "rendering"]


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


EligibilityStatus = Literal["active", "inactive", "error"]


@event(service=SERVICE, aggregate="eligibility-check", subject="check_id")
class EligibilityCheckRequested(Event):
    """The front desk asks the payer whether a coverage is in force (an X12 270, sent by claims).

    Ids only: claims writes the 270 from its own copy of the coverage, patient, payer and provider
    (the sealed values of registration's events), as it writes the 837P. `provider_id` is the
    information receiver (2100B): the provider given, else the tenant's first enrolled billing
    provider (registration fills it); were it absent, claims would take a billing provider of the
    tenant (the lowest NPI).
    """

    check_id: str
    coverage_id: str
    patient_id: str
    payer_id: str
    service_date: date
    provider_id: str | None = None


class EligibilityReason(BaseModel):
    """Why an answer is inactive or an error: an X12 code (AAA03 reject reason, EB01 inactive code)
    and what it means. Never patient data."""

    model_config = ConfigDict(frozen=True)

    code: str
    description: str


@event(service=SERVICE, aggregate="eligibility-check", subject="check_id")
class EligibilityCheckAnswered(Event):
    """The payer's answer (an X12 271, read by claims) recorded on the check and its coverage.

    Money in cents; coinsurance in basis points (20% = 2000) so that it stays an integer. Each
    benefit is absent when the payer did not state it.
    """

    check_id: str
    coverage_id: str
    patient_id: str
    status: EligibilityStatus
    plan_begin_on: date | None = None
    plan_end_on: date | None = None
    deductible_remaining_cents: int | None = None
    copay_cents: int | None = None
    coinsurance_basis_points: int | None = None
    out_of_pocket_remaining_cents: int | None = None
    reasons: tuple[EligibilityReason, ...] = ()
