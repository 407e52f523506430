"""The Patient aggregate: who the patient is. Identifiers leave the domain only sealed.

The decisions that need clear values get them in the command: the plaintext the user sent, and for
an update the current demographics the application opened. `seal` encrypts under the patient's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from billing_events.contracts.base import Event
from billing_events.contracts.registration import (
    PatientDemographicsUpdated,
    PatientForgotten,
    PatientRegistered,
)
from billing_events.decider import Decider
from registration.domain.errors import (
    AlreadyExists,
    DuplicateMrn,
    FieldError,
    InvalidInput,
    NotRegistered,
    RetentionHold,
)
from registration.domain.validation import IDENTIFIER, Issues
from registration.domain.values import AddressInput, Demographics, NameInput, Sealer

UPDATABLE = ("name", "birth_date", "sex", "address", "phone")


@dataclass(frozen=True)
class RegisterPatient:
    patient_id: str
    mrn: str | None
    mrn_index: str
    name: NameInput | None
    birth_date: str | None
    sex: str | None
    address: AddressInput | None
    phone: str | None
    today: date
    seal: Sealer
    # Known to the application from the tenant's patients (under a lock on the MRN's index).
    mrn_taken: bool = False


@dataclass(frozen=True)
class UpdateDemographics:
    """Only the fields given are to change; name and address are replaced whole."""

    patient_id: str
    current: Demographics
    today: date
    seal: Sealer
    name: NameInput | None = None
    birth_date: str | None = None
    sex: str | None = None
    address: AddressInput | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ForgetPatient:
    """Crypto-shred the patient. Records are held for `retention_days` after the last service date
    (medical and billing records must be kept; HIPAA keeps documentation six years), unless a legal
    order says otherwise."""

    patient_id: str
    reason: str | None
    legal_order: bool
    last_service_date: date | None
    today: date
    retention_days: int


PatientCommand = RegisterPatient | UpdateDemographics | ForgetPatient


@dataclass(frozen=True)
class PatientState:
    registered: bool = False
    sex: str | None = None
    mrn_index: str | None = None
    forgotten: bool = False


def _check_registration(command: RegisterPatient, state: PatientState) -> Demographics:
    if state.registered:
        raise AlreadyExists("patient")
    issues = Issues()
    issues.text(
        "mrn",
        command.mrn,
        max_length=64,
        pattern=IDENTIFIER,
        pattern_message="must be letters, digits and . - _ / only",
    )
    name = issues.name("name", command.name)
    birth_date = issues.birth_date("birth_date", command.birth_date, today=command.today)
    sex = issues.sex("sex", command.sex)
    address = issues.address("address", command.address)
    phone = issues.phone("phone", command.phone)
    issues.raise_if_any()
    if command.mrn_taken:
        raise DuplicateMrn()
    assert name and birth_date and sex and address
    return Demographics(name=name, birth_date=birth_date, sex=sex, address=address, phone=phone)


def _register(command: RegisterPatient, state: PatientState) -> list[Event]:
    clean = _check_registration(command, state)
    assert command.mrn is not None
    seal = command.seal
    return [
        PatientRegistered(
            patient_id=command.patient_id,
            mrn=seal("mrn", " ".join(command.mrn.split())),
            mrn_index=command.mrn_index,
            name=seal("name", clean.name.as_json()),
            birth_date=seal("birth_date", clean.birth_date.isoformat()),
            sex=clean.sex,
            address=seal("address", clean.address.as_json()),
            phone=seal("phone", clean.phone) if clean.phone else None,
        )
    ]


def _update(command: UpdateDemographics, state: PatientState) -> list[Event]:
    if not state.registered:
        raise NotRegistered("patient")
    given = {f for f in UPDATABLE if getattr(command, f) is not None}
    if not given:
        raise InvalidInput([FieldError("body", "must change at least one of " + ", ".join(UPDATABLE))])
    issues = Issues()
    name = issues.name("name", command.name) if "name" in given else None
    birth_date = (
        issues.birth_date("birth_date", command.birth_date, today=command.today)
        if "birth_date" in given
        else None
    )
    sex = issues.sex("sex", command.sex) if "sex" in given else None
    address = issues.address("address", command.address) if "address" in given else None
    phone = None
    if "phone" in given:
        noted = len(issues.items)
        phone = issues.phone("phone", command.phone)
        if phone is None and len(issues.items) == noted:
            issues.add("phone", "cannot be emptied; give a new number")
    issues.raise_if_any()

    current, seal = command.current, command.seal
    changes: dict[str, Any] = {}
    if name is not None and name != current.name:
        changes["name"] = seal("name", name.as_json())
    if birth_date is not None and birth_date != current.birth_date:
        changes["birth_date"] = seal("birth_date", birth_date.isoformat())
    if sex is not None and sex != current.sex:
        changes["sex"] = sex
    if address is not None and address != current.address:
        changes["address"] = seal("address", address.as_json())
    if phone is not None and phone != current.phone:
        changes["phone"] = seal("phone", phone)
    if not changes:
        return []  # the same values again: nothing happened, so nothing is recorded
    return [PatientDemographicsUpdated(patient_id=command.patient_id, **changes)]


def _forget(command: ForgetPatient, state: PatientState) -> list[Event]:
    if not state.registered:
        raise NotRegistered("patient")
    if state.forgotten:
        return []  # asked again: the key is gone already, nothing more to record
    issues = Issues()
    reason = issues.text("reason", command.reason, max_length=500, required=True)
    issues.raise_if_any()
    assert reason
    if command.last_service_date is not None and not command.legal_order:
        held_until = command.last_service_date + timedelta(days=command.retention_days)
        if command.today < held_until:
            raise RetentionHold(held_until.isoformat())
    return [PatientForgotten(patient_id=command.patient_id, reason=reason, legal_order=command.legal_order)]


def decide(command: PatientCommand, state: PatientState) -> Sequence[Event]:
    if isinstance(command, RegisterPatient):
        return _register(command, state)
    if isinstance(command, ForgetPatient):
        return _forget(command, state)
    if state.forgotten:
        raise NotRegistered("patient")
    return _update(command, state)


def evolve(state: PatientState, event: Event) -> PatientState:
    if isinstance(event, PatientRegistered):
        return PatientState(registered=True, sex=event.sex, mrn_index=event.mrn_index)
    if isinstance(event, PatientDemographicsUpdated) and event.sex is not None:
        return replace(state, sex=event.sex)
    if isinstance(event, PatientForgotten):
        return replace(state, forgotten=True)
    return state


patient = Decider[PatientCommand, PatientState](PatientState(), decide, evolve, "patient")
