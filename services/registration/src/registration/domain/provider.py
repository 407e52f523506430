"""The Provider aggregate: a billing or rendering provider identified by its NPI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from billing_events.contracts.base import Event
from billing_events.contracts.registration import ProviderEnrolled
from billing_events.decider import Decider
from registration.domain.errors import AlreadyExists, DuplicateProvider
from registration.domain.validation import PROVIDER_ROLES, Issues
from registration.domain.values import AddressInput, NameInput


@dataclass(frozen=True)
class EnrollProvider:
    provider_id: str
    npi: str | None
    # An organisation's name, or a person's {given, family}.
    name: str | NameInput | None
    taxonomy_code: str | None
    role: str | None
    address: AddressInput | None
    tax_id: str | None = None
    # Known to the application from the tenant's providers: this NPI is enrolled in this role already.
    npi_enrolled_in_role: bool = False


@dataclass(frozen=True)
class ProviderState:
    enrolled: bool = False
    role: str | None = None
    is_person: bool = False


def decide(command: EnrollProvider, state: ProviderState) -> Sequence[Event]:
    if state.enrolled:
        raise AlreadyExists("provider")
    issues = Issues()
    npi = issues.npi("npi", command.npi)
    role = issues.code("role", command.role, PROVIDER_ROLES)
    organization_name = given_name = family_name = None
    if isinstance(command.name, NameInput):
        person = issues.name("name", command.name)
        if person:
            given_name, family_name = person.given, person.family
    else:
        organization_name = issues.text("name", command.name, max_length=60)
    taxonomy = issues.taxonomy_code("taxonomy_code", command.taxonomy_code)
    tax_id = issues.tax_id("tax_id", command.tax_id, required=role == "billing")
    address = issues.address("address", command.address)
    issues.raise_if_any()
    if command.npi_enrolled_in_role:
        raise DuplicateProvider()
    assert npi and role and taxonomy and address
    return [
        ProviderEnrolled(
            provider_id=command.provider_id,
            npi=npi,
            role=role,
            organization_name=organization_name,
            given_name=given_name,
            family_name=family_name,
            taxonomy_code=taxonomy,
            tax_id=tax_id,
            address=address.to_contract(),
        )
    ]


def evolve(state: ProviderState, event: Event) -> ProviderState:
    if isinstance(event, ProviderEnrolled):
        return ProviderState(enrolled=True, role=event.role, is_person=event.organization_name is None)
    return state


provider = Decider[EnrollProvider, ProviderState](ProviderState(), decide, evolve, "provider")
