"""Provider decider: NPI check digit, taxonomy format, tax id for billing providers, one NPI per role."""

from __future__ import annotations

from dataclasses import replace

import pytest

from billing_events.contracts.registration import Address, ProviderEnrolled
from registration.domain.errors import AlreadyExists, DuplicateProvider, InvalidInput
from registration.domain.provider import EnrollProvider, provider
from registration.domain.values import AddressInput, NameInput

ADDRESS = AddressInput(line1="10 Clinic Rd", city="Springfield", state="IL", postal_code="62701")
BILLING = EnrollProvider(
    provider_id="prov-1",
    npi="1234567893",
    name="Springfield Family Practice",
    taxonomy_code="207Q00000X",
    role="billing",
    address=ADDRESS,
    tax_id="12-3456789",
)
RENDERING = EnrollProvider(
    provider_id="prov-2",
    npi="1245319599",
    name=NameInput(given="Ann", family="Doe"),
    taxonomy_code="207q00000x",
    role="rendering",
    address=ADDRESS,
)


def refused_fields(command: EnrollProvider) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        provider.decide(command, provider.initial)
    return {i.field: i.message for i in refused.value.issues}


def test_an_organisation_is_enrolled_as_a_billing_provider() -> None:
    assert provider.decide(BILLING, provider.initial) == [
        ProviderEnrolled(
            provider_id="prov-1",
            npi="1234567893",
            role="billing",
            organization_name="Springfield Family Practice",
            taxonomy_code="207Q00000X",
            tax_id="123456789",
            address=Address(line1="10 Clinic Rd", city="Springfield", state="IL", postal_code="62701"),
        )
    ]


def test_a_person_is_enrolled_by_given_and_family_name_without_a_tax_id() -> None:
    (event,) = provider.decide(RENDERING, provider.initial)
    assert isinstance(event, ProviderEnrolled)
    assert (event.given_name, event.family_name, event.organization_name) == ("Ann", "Doe", None)
    assert event.taxonomy_code == "207Q00000X"
    assert event.tax_id is None
    assert provider.fold([event]).is_person


def test_an_npi_with_a_wrong_check_digit_is_refused() -> None:
    assert refused_fields(replace(BILLING, npi="1234567890")) == {"npi": "has a wrong check digit"}


def test_a_billing_provider_needs_a_tax_id() -> None:
    assert refused_fields(replace(BILLING, tax_id=None)) == {"tax_id": "is required for a billing provider"}


def test_a_taxonomy_code_of_another_shape_is_refused() -> None:
    assert refused_fields(replace(BILLING, taxonomy_code="207Q0000")) == {
        "taxonomy_code": "must be a 10-character provider taxonomy code ending in X"
    }


def test_a_role_other_than_billing_or_rendering_is_refused() -> None:
    assert refused_fields(replace(RENDERING, role="referring")) == {
        "role": "must be one of billing, rendering"
    }


def test_every_invalid_field_is_listed_at_once() -> None:
    command = EnrollProvider(
        provider_id="prov-3",
        npi="12",
        name=NameInput(given="Ann"),
        taxonomy_code=None,
        role=None,
        address=None,
        tax_id="1",
    )
    assert refused_fields(command) == {
        "npi": "must be 10 digits",
        "role": "is required",
        "name.family": "is required",
        "taxonomy_code": "is required",
        "tax_id": "must be 9 digits (NN-NNNNNNN)",
        "address": "is required",
    }


def test_an_npi_enrolled_in_the_same_role_is_a_duplicate() -> None:
    with pytest.raises(DuplicateProvider):
        provider.decide(replace(BILLING, npi_enrolled_in_role=True), provider.initial)


def test_a_provider_is_enrolled_once() -> None:
    state = provider.fold(provider.decide(BILLING, provider.initial))
    with pytest.raises(AlreadyExists):
        provider.decide(BILLING, state)
