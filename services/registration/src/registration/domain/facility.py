"""The Facility aggregate: a hospital, clinic, ambulatory surgery center or SNF of the tenant (the
network), identified by its NPI; the billing provider of its institutional claims."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from billing_events.contracts.base import Event
from billing_events.contracts.registration import FacilityRegistered
from billing_events.decider import Decider
from registration.domain.errors import AlreadyExists, DuplicateFacility
from registration.domain.ub04 import FACILITY_KINDS
from registration.domain.validation import Issues
from registration.domain.values import AddressInput


@dataclass(frozen=True)
class RegisterFacility:
    facility_id: str
    name: str | None
    npi: str | None
    tax_id: str | None
    kind: str | None
    address: AddressInput | None
    taxonomy_code: str | None = None
    # Known to the application from the tenant's facilities: this NPI is registered already.
    npi_registered: bool = False


@dataclass(frozen=True)
class FacilityState:
    registered: bool = False


def decide(command: RegisterFacility, state: FacilityState) -> Sequence[Event]:
    if state.registered:
        raise AlreadyExists("facility")
    issues = Issues()
    # 60 characters: the 837I's NM103 for an organisation.
    name = issues.text("name", command.name, max_length=60)
    npi = issues.npi("npi", command.npi)
    tax_id = issues.tax_id("tax_id", command.tax_id, required=True)
    kind = issues.code("kind", command.kind, FACILITY_KINDS)
    address = issues.address("address", command.address)
    taxonomy = (
        issues.taxonomy_code("taxonomy_code", command.taxonomy_code)
        if command.taxonomy_code is not None
        else None
    )
    issues.raise_if_any()
    if command.npi_registered:
        raise DuplicateFacility()
    assert name and npi and tax_id and kind and address
    return [
        FacilityRegistered(
            facility_id=command.facility_id,
            name=name,
            npi=npi,
            tax_id=tax_id,
            kind=kind,
            address=address.to_contract(),
            taxonomy_code=taxonomy,
        )
    ]


def evolve(state: FacilityState, event: Event) -> FacilityState:
    if isinstance(event, FacilityRegistered):
        return FacilityState(registered=True)
    return state


facility = Decider[RegisterFacility, FacilityState](FacilityState(), decide, evolve, "facility")
