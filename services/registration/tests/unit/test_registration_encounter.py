"""Encounter decider: known patient and providers in their roles, service date, place of service,
and the patient's sex and age at the service date in the event."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from billing_events.contracts.registration import EncounterOpened
from registration.domain.encounter import OpenEncounter, PatientFacts, ProviderFacts, encounter
from registration.domain.errors import AlreadyExists, InvalidInput

TODAY = date(2025, 6, 15)
OPEN = OpenEncounter(
    encounter_id="enc-1",
    patient_id="pat-1",
    billing_provider_id="prov-b",
    rendering_provider_id="prov-r",
    service_date="2025-06-15",
    place_of_service="11",
    today=TODAY,
    patient=PatientFacts(sex="F", birth_date=date(1980, 6, 16)),
    billing_provider=ProviderFacts(role="billing"),
    rendering_provider=ProviderFacts(role="rendering"),
)


def refused_fields(command: OpenEncounter) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        encounter.decide(command, encounter.initial)
    return {i.field: i.message for i in refused.value.issues}


def test_an_encounter_is_opened_with_the_patients_sex_and_age_at_service() -> None:
    assert encounter.decide(OPEN, encounter.initial) == [
        EncounterOpened(
            encounter_id="enc-1",
            patient_id="pat-1",
            billing_provider_id="prov-b",
            rendering_provider_id="prov-r",
            service_date=date(2025, 6, 15),
            place_of_service="11",
            patient_sex="F",
            patient_age_years=44,  # the 45th birthday is the next day
        )
    ]


def test_a_newborn_seen_on_the_birth_date_is_zero_years_old() -> None:
    command = replace(OPEN, patient=PatientFacts(sex="M", birth_date=TODAY))
    (event,) = encounter.decide(command, encounter.initial)
    assert isinstance(event, EncounterOpened)
    assert event.patient_age_years == 0


def test_a_service_date_in_the_future_is_refused() -> None:
    assert refused_fields(replace(OPEN, service_date="2025-06-16")) == {
        "service_date": "must not be in the future"
    }


def test_a_service_date_before_the_patients_birth_is_refused() -> None:
    assert refused_fields(replace(OPEN, service_date="1980-06-15")) == {
        "service_date": "must not be before the patient's birth date"
    }


@pytest.mark.parametrize("code", ["00", "28", "1", "011", "AB", "100"])
def test_a_place_of_service_outside_the_cms_list_is_refused(code: str) -> None:
    assert refused_fields(replace(OPEN, place_of_service=code)) == {
        "place_of_service": "must be one of the code list"
    }


def test_patients_and_providers_unknown_in_the_tenant_are_refused() -> None:
    command = replace(OPEN, patient=None, billing_provider=None, rendering_provider=None)
    assert refused_fields(command) == {
        "patient_id": "no such patient in this tenant",
        "billing_provider_id": "no such provider in this tenant",
        "rendering_provider_id": "no such provider in this tenant",
    }


def test_providers_must_be_enrolled_in_the_role_they_take() -> None:
    command = replace(
        OPEN,
        billing_provider=ProviderFacts(role="rendering"),
        rendering_provider=ProviderFacts(role="billing"),
    )
    assert refused_fields(command) == {
        "billing_provider_id": "is not enrolled as a billing provider",
        "rendering_provider_id": "is not enrolled as a rendering provider",
    }


def test_every_missing_field_is_listed_at_once() -> None:
    command = OpenEncounter(
        encounter_id="enc-2",
        patient_id=None,
        billing_provider_id=None,
        rendering_provider_id=None,
        service_date=None,
        place_of_service=None,
        today=TODAY,
    )
    assert set(refused_fields(command)) == {
        "patient_id",
        "billing_provider_id",
        "rendering_provider_id",
        "service_date",
        "place_of_service",
    }


def test_an_encounter_is_opened_once() -> None:
    with pytest.raises(AlreadyExists):
        encounter.decide(OPEN, encounter.fold(encounter.decide(OPEN, encounter.initial)))
