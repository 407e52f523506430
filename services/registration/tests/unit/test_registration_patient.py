"""Patient decider: registration with sealed identifiers, MRN uniqueness, demographic updates."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from billing_events.contracts.base import Sealed
from billing_events.contracts.registration import (
    PatientDemographicsUpdated,
    PatientForgotten,
    PatientRegistered,
)
from registration.domain.errors import (
    AlreadyExists,
    DuplicateMrn,
    InvalidInput,
    NotRegistered,
    RetentionHold,
)
from registration.domain.patient import ForgetPatient, RegisterPatient, UpdateDemographics, patient
from registration.domain.values import AddressInput, Demographics, NameInput, PersonName, PostalAddress

TODAY = date(2025, 6, 15)


def seal(field: str, value: Any) -> Sealed:
    """A stand-in for the vault: readable in tests, but shaped like the real thing."""
    return Sealed(key_id="pat-1", nonce=field, ciphertext=json.dumps(value, sort_keys=True))


def opened(value: Sealed | None) -> Any:
    assert value is not None
    return json.loads(value.ciphertext)


ADDRESS = AddressInput(line1="1 Main St", city="Springfield", state="il", postal_code="62701-1234")
REGISTER = RegisterPatient(
    patient_id="pat-1",
    mrn="MRN-001",
    mrn_index="index-of-mrn-001",
    name=NameInput(given="Jo", family="Smith"),
    birth_date="1980-02-29",
    sex="f",
    address=ADDRESS,
    phone="(217) 555-0100",
    today=TODAY,
    seal=seal,
)
CURRENT = Demographics(
    name=PersonName("Jo", "Smith"),
    birth_date=date(1980, 2, 29),
    sex="F",
    address=PostalAddress(line1="1 Main St", city="Springfield", state="IL", postal_code="627011234"),
    phone="2175550100",
)


def registered() -> list[Any]:
    return list(patient.decide(REGISTER, patient.initial))


def update(**changes: Any) -> UpdateDemographics:
    return UpdateDemographics(patient_id="pat-1", current=CURRENT, today=TODAY, seal=seal, **changes)


def refused_fields(command: Any, given: list[Any] | None = None) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        patient.decide(command, patient.fold(given or []))
    return {i.field: i.message for i in refused.value.issues}


def test_a_patient_is_registered_with_every_identifier_sealed() -> None:
    (event,) = registered()
    assert isinstance(event, PatientRegistered)
    assert event.patient_id == "pat-1"
    assert event.mrn_index == "index-of-mrn-001"
    assert event.sex == "F"
    assert opened(event.mrn) == "MRN-001"
    assert opened(event.name) == {"given": "Jo", "family": "Smith"}
    assert opened(event.birth_date) == "1980-02-29"
    assert opened(event.address) == {
        "line1": "1 Main St",
        "line2": None,
        "city": "Springfield",
        "state": "IL",
        "postal_code": "627011234",
    }
    assert opened(event.phone) == "2175550100"
    assert all(s.key_id == "pat-1" for s in (event.mrn, event.name, event.birth_date, event.address))


def test_the_phone_is_optional() -> None:
    (event,) = patient.decide(replace(REGISTER, phone=None), patient.initial)
    assert isinstance(event, PatientRegistered)
    assert event.phone is None


def test_a_second_patient_with_the_same_mrn_is_a_duplicate() -> None:
    with pytest.raises(DuplicateMrn):
        patient.decide(replace(REGISTER, mrn_taken=True), patient.initial)


def test_invalid_fields_are_reported_before_a_duplicate_mrn() -> None:
    assert refused_fields(replace(REGISTER, mrn_taken=True, sex="Q")) == {"sex": "must be one of F, M, U"}


def test_a_patient_is_registered_once() -> None:
    with pytest.raises(AlreadyExists):
        patient.decide(REGISTER, patient.fold(registered()))


@pytest.mark.parametrize(
    ("birth_date", "message"),
    [
        ("2025-06-16", "must not be in the future"),
        ("1899-12-31", "must not be before 1900-01-01"),
        ("1980-02-30", "must be a date as YYYY-MM-DD"),
        (None, "is required"),
    ],
)
def test_birth_dates_in_the_future_before_1900_or_malformed_are_refused(
    birth_date: str | None, message: str
) -> None:
    assert refused_fields(replace(REGISTER, birth_date=birth_date)) == {"birth_date": message}


def test_every_invalid_field_is_listed_at_once() -> None:
    command = replace(
        REGISTER,
        mrn="has spaces",
        name=NameInput(family="Smith"),
        sex=None,
        address=AddressInput(line1="1 Main St", city="Springfield", state="XX", postal_code="6270"),
        phone="555",
    )
    assert refused_fields(command) == {
        "mrn": "must be letters, digits and . - _ / only",
        "name.given": "is required",
        "sex": "is required",
        "address.state": "must be a two-letter US state, territory or military code",
        "address.postal_code": "must be a ZIP code of 5 or 9 digits",
        "phone": "must be a US phone number of 10 digits",
    }


def test_a_missing_mrn_name_and_address_are_required() -> None:
    fields = refused_fields(replace(REGISTER, mrn=None, name=None, address=None))
    assert fields == {"mrn": "is required", "name": "is required", "address": "is required"}


def test_an_update_carries_only_the_fields_that_changed() -> None:
    command = update(
        name=NameInput(given="Jo", family="Smith-Jones"),
        phone="217-555-0100",  # the same number, written differently
        address=ADDRESS,  # the same address
    )
    (event,) = patient.decide(command, patient.fold(registered()))
    assert isinstance(event, PatientDemographicsUpdated)
    assert opened(event.name) == {"given": "Jo", "family": "Smith-Jones"}
    assert (event.birth_date, event.sex, event.address, event.phone) == (None, None, None, None)


def test_a_change_of_sex_travels_in_clear_and_is_the_new_state() -> None:
    given = registered()
    (event,) = patient.decide(update(sex="M"), patient.fold(given))
    assert isinstance(event, PatientDemographicsUpdated)
    assert event.sex == "M"
    assert patient.fold([*given, event]).sex == "M"


def test_an_update_to_the_same_values_records_nothing() -> None:
    assert patient.decide(update(sex="F", birth_date="1980-02-29"), patient.fold(registered())) == []


def test_an_update_must_change_something() -> None:
    assert refused_fields(update(), registered()) == {
        "body": "must change at least one of name, birth_date, sex, address, phone"
    }


def test_an_update_checks_the_same_rules_as_a_registration() -> None:
    command = update(birth_date="2030-01-01", address=AddressInput(line1="2 Elm St"), phone="")
    assert refused_fields(command, registered()) == {
        "birth_date": "must not be in the future",
        "address.city": "is required",
        "address.state": "is required",
        "address.postal_code": "is required",
        "phone": "cannot be emptied; give a new number",
    }


def test_an_unregistered_patient_cannot_be_updated() -> None:
    with pytest.raises(NotRegistered):
        patient.decide(update(sex="M"), patient.initial)


def forget(
    last_seen: date | None, *, today: date, legal_order: bool = False, reason: str | None = "PRIV-1"
) -> Any:
    return ForgetPatient("p-1", reason, legal_order, last_seen, today, retention_days=6 * 365)


def test_a_patient_is_forgotten_only_after_the_retention_period_or_by_legal_order() -> None:
    state = patient.fold(registered())
    seen = date(2020, 3, 1)  # held for 2,190 days: until 2026-02-28
    with pytest.raises(RetentionHold) as held:
        patient.decide(forget(seen, today=date(2026, 2, 27)), state)
    assert held.value.until == "2026-02-28"
    assert patient.decide(forget(seen, today=date(2026, 2, 28)), state) == [
        PatientForgotten(patient_id="p-1", reason="PRIV-1", legal_order=False)
    ]
    by_order = patient.decide(forget(seen, today=date(2021, 1, 1), legal_order=True), state)
    assert by_order == [PatientForgotten(patient_id="p-1", reason="PRIV-1", legal_order=True)]
    never_seen = patient.decide(forget(None, today=TODAY), state)
    assert len(never_seen) == 1


def test_a_forgotten_patient_is_forgotten_once_and_changes_no_more() -> None:
    gone = patient.fold([*registered(), PatientForgotten(patient_id="p-1", reason="PRIV-1")])
    assert patient.decide(forget(None, today=TODAY), gone) == []
    with pytest.raises(NotRegistered):
        patient.decide(update(phone="555-0100"), gone)
    with pytest.raises(InvalidInput):
        patient.decide(forget(None, today=TODAY, reason=None), patient.fold(registered()))
