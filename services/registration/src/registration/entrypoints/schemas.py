"""The JSON bodies the API accepts. Deliberately lenient (every field optional, values as strings):
the domain checks presence and format, so one answer can list every invalid field at once."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from registration.domain.values import AddressInput, NameInput, SubscriberInput

DATE = "YYYY-MM-DD"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NameIn(Body):
    given: str | None = None
    family: str | None = None

    def domain(self) -> NameInput:
        return NameInput(given=self.given, family=self.family)


class AddressIn(Body):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = Field(None, description="USPS two-letter code")
    postal_code: str | None = Field(None, description="ZIP of 5 or 9 digits (12345, 123456789, 12345-6789)")

    def domain(self) -> AddressInput:
        return AddressInput(**self.model_dump())


def name_input(value: NameIn | None) -> NameInput | None:
    return value.domain() if value is not None else None


def address_input(value: AddressIn | None) -> AddressInput | None:
    return value.domain() if value is not None else None


class PayerIn(Body):
    name: str | None = None
    edi_payer_id: str | None = None
    claim_filing_indicator: str | None = Field(None, description="X12 SBR09 code: CI, MB, MC, BL, HM, ...")
    address: AddressIn | None = None
    timely_filing_days: int | None = None


class ProviderIn(Body):
    npi: str | None = None
    name: str | NameIn | None = Field(None, description="an organisation's name, or {given, family}")
    taxonomy_code: str | None = None
    tax_id: str | None = Field(None, description="EIN, required for a billing provider")
    role: str | None = Field(None, description="billing or rendering")
    address: AddressIn | None = None

    def domain_name(self) -> str | NameInput | None:
        return self.name.domain() if isinstance(self.name, NameIn) else self.name


class PatientIn(Body):
    mrn: str | None = None
    name: NameIn | None = None
    birth_date: str | None = Field(None, description=DATE)
    sex: str | None = Field(None, description="M, F or U")
    address: AddressIn | None = None
    phone: str | None = None


class PatientPatch(Body):
    """The demographics to change; fields left out (or null) stay as they are."""

    name: NameIn | None = None
    birth_date: str | None = Field(None, description=DATE)
    sex: str | None = None
    address: AddressIn | None = None
    phone: str | None = None


class PatientSearchIn(Body):
    mrn: str = Field(min_length=1, max_length=64)


class ForgetIn(Body):
    """Why the patient is forgotten: the operator's note (a ticket or an order's number), never patient
    data. `legal_order` forgets within the retention period."""

    reason: str | None = None
    legal_order: bool = False


class SubscriberIn(Body):
    name: NameIn | None = None
    birth_date: str | None = Field(None, description=DATE)
    sex: str | None = None
    address: AddressIn | None = None

    def domain(self) -> SubscriberInput:
        return SubscriberInput(
            name=name_input(self.name),
            birth_date=self.birth_date,
            sex=self.sex,
            address=address_input(self.address),
        )


class CoverageIn(Body):
    payer_id: str | None = None
    member_id: str | None = None
    group_number: str | None = None
    priority: str | None = Field(None, description="primary, secondary or tertiary")
    relationship_to_subscriber: str | None = Field(None, description="self, spouse, child or other")
    subscriber: SubscriberIn | None = Field(None, description="required unless the relationship is self")
    effective_from: str | None = Field(None, description=DATE)
    effective_to: str | None = Field(None, description=DATE)


class EligibilityCheckIn(Body):
    provider_id: str | None = Field(
        None,
        description="the provider asking (2100B of the 270); default: the first enrolled billing provider",
    )
    service_date: str | None = Field(None, description=f"{DATE}; default: today")


class TerminationIn(Body):
    effective_to: str | None = Field(None, description=f"{DATE}, the last day covered")


class EncounterIn(Body):
    patient_id: str | None = None
    billing_provider_id: str | None = None
    rendering_provider_id: str | None = None
    service_date: str | None = Field(None, description=DATE)
    place_of_service: str | None = Field(None, description="CMS two-digit place-of-service code")
