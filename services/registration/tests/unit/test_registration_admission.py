"""Facility and admission deciders: given the stream, when a command, then the events or the refusal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from billing_events.contracts.registration import (
    Address,
    AdmissionDischarged,
    AdmissionOpened,
    FacilityRegistered,
)
from registration.domain.admission import DischargeAdmission, OpenAdmission, admission
from registration.domain.encounter import PatientFacts, ProviderFacts
from registration.domain.errors import (
    AlreadyDischarged,
    AlreadyExists,
    DuplicateFacility,
    InvalidInput,
    NotRegistered,
)
from registration.domain.facility import RegisterFacility, facility
from registration.domain.values import AddressInput

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
CENTRAL = timezone(timedelta(hours=-5))
ADDRESS = AddressInput(
    line1="1 Hospital Way", line2=None, city="Springfield", state="il", postal_code="62701"
)
REGISTER = RegisterFacility(
    facility_id="fac-1",
    name="Springfield General Hospital",
    npi="1234567893",
    tax_id="12-3456789",
    kind="hospital",
    address=ADDRESS,
)
OPEN = OpenAdmission(
    encounter_id="enc-1",
    patient_id="pat-1",
    facility_id="fac-1",
    attending_provider_id="prov-r",
    setting="inpatient",
    admitted_at="2026-03-10T22:30:00-05:00",
    admission_type="1",
    admission_source="1",
    now=NOW,
    patient=PatientFacts(sex="F", birth_date=date(1950, 3, 11)),
    facility_known=True,
    attending_provider=ProviderFacts(role="rendering"),
)
ADMITTED = datetime(2026, 3, 10, 22, 30, tzinfo=CENTRAL)


def refused(decide: object, command: object, state: object) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refusal:
        decide(command, state)  # type: ignore[operator]
    return {i.field: i.message for i in refusal.value.issues}


def test_a_facility_is_registered_with_its_npi_tax_id_kind_and_address() -> None:
    assert facility.decide(REGISTER, facility.initial) == [
        FacilityRegistered(
            facility_id="fac-1",
            name="Springfield General Hospital",
            npi="1234567893",
            tax_id="123456789",  # the hyphen is dropped, as for billing providers
            kind="hospital",
            address=Address(line1="1 Hospital Way", city="Springfield", state="IL", postal_code="62701"),
        )
    ]


def test_a_facility_with_bad_fields_lists_every_one() -> None:
    command = replace(REGISTER, npi="1234567890", tax_id=None, kind="pharmacy", taxonomy_code="nope")
    assert refused(facility.decide, command, facility.initial) == {
        "npi": "has a wrong check digit",
        "tax_id": "is required for a billing provider",
        "kind": "must be one of asc, clinic, hospital, snf",
        "taxonomy_code": "must be a 10-character provider taxonomy code ending in X",
    }


def test_a_second_facility_with_the_same_npi_is_a_duplicate() -> None:
    with pytest.raises(DuplicateFacility):
        facility.decide(replace(REGISTER, npi_registered=True), facility.initial)
    state = facility.fold(facility.decide(REGISTER, facility.initial))
    with pytest.raises(AlreadyExists):
        facility.decide(REGISTER, state)


def test_an_admission_carries_the_facility_attending_codes_and_the_patients_age_at_admission() -> None:
    assert admission.decide(OPEN, admission.initial) == [
        AdmissionOpened(
            encounter_id="enc-1",
            patient_id="pat-1",
            facility_id="fac-1",
            attending_provider_id="prov-r",
            setting="inpatient",
            admitted_at=ADMITTED,
            admission_type="1",
            admission_source="1",
            patient_sex="F",
            # born 1950-03-11, admitted the evening of 2026-03-10 local time: the 76th birthday is
            # the next day (in UTC it would already be the 11th), so 75.
            patient_age_years=75,
        )
    ]


def test_an_admission_refuses_unknown_records_codes_and_times_field_by_field() -> None:
    command = replace(
        OPEN,
        facility_known=False,
        attending_provider=ProviderFacts(role="billing"),
        setting="observation",
        admitted_at="2026-03-10T22:30:00",
        admission_type="7",
        admission_source="3",
    )
    assert refused(admission.decide, command, admission.initial) == {
        "facility_id": "no such facility in this tenant",
        "attending_provider_id": "is not enrolled as a rendering provider",
        "setting": "must be one of inpatient, outpatient",
        "admitted_at": "must carry a UTC offset (e.g. -05:00 or Z)",
        "admission_type": "must be one of 1, 2, 3, 4, 5, 9",
        "admission_source": "must be one of the code list",
    }
    assert refused(
        admission.decide, replace(OPEN, admitted_at="2026-03-21T00:00:00Z"), admission.initial
    ) == {"admitted_at": "must not be in the future"}


def test_a_newborn_admission_takes_the_newborn_points_of_origin() -> None:
    newborn = replace(OPEN, admission_type="4", admission_source="5")
    (event,) = admission.decide(newborn, admission.initial)
    assert isinstance(event, AdmissionOpened) and event.admission_source == "5"
    assert refused(admission.decide, replace(newborn, admission_source="1"), admission.initial) == {
        "admission_source": "must be one of 5, 6"
    }


def test_discharge_closes_the_stay_once() -> None:
    state = admission.fold(admission.decide(OPEN, admission.initial))
    discharge = DischargeAdmission(
        encounter_id="enc-1", discharged_at="2026-03-14T10:15:00-05:00", discharge_status="06", now=NOW
    )
    assert admission.decide(discharge, state) == [
        AdmissionDischarged(
            encounter_id="enc-1",
            patient_id="pat-1",
            facility_id="fac-1",
            setting="inpatient",
            admitted_at=ADMITTED,
            discharged_at=datetime(2026, 3, 14, 10, 15, tzinfo=CENTRAL),
            discharge_status="06",
        )
    ]
    closed = admission.fold(admission.decide(discharge, state), state)
    with pytest.raises(AlreadyDischarged):
        admission.decide(discharge, closed)


def test_a_discharge_before_the_admission_or_with_an_unknown_status_is_refused() -> None:
    state = admission.fold(admission.decide(OPEN, admission.initial))
    # 03:00 UTC on the 11th is 22:00 on the 10th in Central time: half an hour before the admission.
    early = DischargeAdmission(
        encounter_id="enc-1", discharged_at="2026-03-11T03:00:00Z", discharge_status="08", now=NOW
    )
    assert refused(admission.decide, early, state) == {
        "discharged_at": "must not be before the admission",
        "discharge_status": "must be one of the code list",
    }


def test_discharging_what_was_never_admitted_is_not_registered() -> None:
    with pytest.raises(NotRegistered):
        admission.decide(
            DischargeAdmission(encounter_id="x", discharged_at=None, discharge_status=None, now=NOW),
            admission.initial,
        )
