"""Upstream events as registration and invoicing publish them, with patient data sealed by a vault.

For the claims service's tests and demos: every builder has realistic, valid defaults that a test
overrides only where its point lies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from billing_events.contracts.base import Sealed
from billing_events.contracts.invoicing import InvoiceIssued, InvoiceLine
from billing_events.contracts.registration import (
    Address,
    CoverageAdded,
    PatientRegistered,
    PayerRegistered,
    ProviderEnrolled,
)

BILLING_NPI = "1234567893"
RENDERING_NPI = "1245319599"
CLINIC_ADDRESS = Address(line1="100 Main Street", city="Boston", state="MA", postal_code="02110-1234")
HOME = {
    "line1": "12 Elm Street",
    "line2": "Apt 3",
    "city": "Cambridge",
    "state": "MA",
    "postal_code": "02139",
}


class Sealer(Protocol):
    async def seal_fields(self, key_id: str, values: dict[str, Any]) -> dict[str, Sealed | None]: ...


def payer(
    payer_id: str,
    *,
    name: str = "Acme Health",
    edi_payer_id: str = "ACME1",
    claim_filing_indicator: str = "CI",
    timely_filing_days: int = 365,
) -> PayerRegistered:
    return PayerRegistered(
        payer_id=payer_id,
        name=name,
        edi_payer_id=edi_payer_id,
        claim_filing_indicator=claim_filing_indicator,
        timely_filing_days=timely_filing_days,
    )


def billing_provider(
    provider_id: str,
    *,
    npi: str = BILLING_NPI,
    taxonomy_code: str = "207Q00000X",
    tax_id: str | None = "04-1234567",
    address: Address = CLINIC_ADDRESS,
    name: str = "Harbor Family Medicine",
) -> ProviderEnrolled:
    return ProviderEnrolled(
        provider_id=provider_id,
        npi=npi,
        role="billing",
        organization_name=name,
        taxonomy_code=taxonomy_code,
        tax_id=tax_id,
        address=address,
    )


def rendering_provider(provider_id: str, *, npi: str = RENDERING_NPI) -> ProviderEnrolled:
    return ProviderEnrolled(
        provider_id=provider_id,
        npi=npi,
        role="rendering",
        given_name="Ana",
        family_name="Lopez",
        taxonomy_code="207R00000X",
        address=CLINIC_ADDRESS,
    )


async def patient(
    vault: Sealer,
    patient_id: str,
    *,
    given: str = "Maria",
    family: str = "Gonzalez",
    birth_date: str = "1984-07-09",
    sex: str = "F",
    address: dict[str, Any] | None = None,
) -> PatientRegistered:
    sealed = await vault.seal_fields(
        patient_id,
        {
            "mrn": f"MRN-{patient_id[:6]}",
            "name": {"given": given, "family": family},
            "birth_date": birth_date,
            "address": address or HOME,
        },
    )
    mrn, name, born, home = sealed["mrn"], sealed["name"], sealed["birth_date"], sealed["address"]
    assert mrn and name and born and home
    return PatientRegistered(
        patient_id=patient_id,
        mrn=mrn,
        mrn_index=f"index-{patient_id}",
        name=name,
        birth_date=born,
        sex=sex,
        address=home,
    )


@dataclass(frozen=True)
class Subscriber:
    given: str = "Carlos"
    family: str = "Gonzalez"
    birth_date: str = "1980-02-29"
    sex: str = "M"
    address: dict[str, Any] = field(default_factory=lambda: dict(HOME))


async def coverage(
    vault: Sealer,
    coverage_id: str,
    patient_id: str,
    payer_id: str,
    *,
    member_id: str = "XJH123456789",
    priority: str = "primary",
    relationship: str = "self",
    subscriber: Subscriber | None = None,
    group_number: str | None = "GRP-001",
    effective_from: date = date(2025, 1, 1),
    effective_to: date | None = None,
) -> CoverageAdded:
    values: dict[str, Any] = {"member_id": member_id}
    if subscriber is not None:
        values["subscriber"] = {
            "name": {"given": subscriber.given, "family": subscriber.family},
            "birth_date": subscriber.birth_date,
            "sex": subscriber.sex,
            "address": subscriber.address,
        }
    sealed = await vault.seal_fields(patient_id, values)
    member = sealed["member_id"]
    assert member is not None
    return CoverageAdded(
        coverage_id=coverage_id,
        patient_id=patient_id,
        payer_id=payer_id,
        member_id=member,
        group_number=group_number,
        priority=priority,
        relationship_to_subscriber=relationship,
        subscriber=sealed.get("subscriber"),
        effective_from=effective_from,
        effective_to=effective_to,
    )


def line(
    line_number: int,
    code: str = "99213",
    charge_cents: int = 12500,
    *,
    modifiers: tuple[str, ...] = (),
    units: int = 1,
    pointers: tuple[int, ...] = (1,),
) -> InvoiceLine:
    return InvoiceLine(
        line_number=line_number,
        code=code,
        modifiers=modifiers,
        units=units,
        unit_price_cents=charge_cents // units,
        charge_cents=charge_cents,
        diagnosis_pointers=pointers,
    )


def invoice(
    invoice_id: str,
    *,
    encounter_id: str,
    patient_id: str,
    coverage_id: str | None,
    payer_id: str | None,
    billing_provider_id: str,
    rendering_provider_id: str,
    service_date: date,
    lines: tuple[InvoiceLine, ...] = (line(1, "99213", 12500, modifiers=("25",)), line(2, "81002", 1500)),
    diagnoses: tuple[str, ...] = ("E11.9", "I10"),
    place_of_service: str = "11",
    responsibility: str = "insurance",
    total_charge_cents: int | None = None,
) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id=invoice_id,
        encounter_id=encounter_id,
        patient_id=patient_id,
        coding_version=1,
        service_date=service_date,
        billing_provider_id=billing_provider_id,
        rendering_provider_id=rendering_provider_id,
        place_of_service=place_of_service,
        diagnoses=diagnoses,
        lines=lines,
        total_charge_cents=sum(x.charge_cents for x in lines)
        if total_charge_cents is None
        else total_charge_cents,
        responsibility=responsibility,
        coverage_id=coverage_id,
        payer_id=payer_id,
        fee_schedule="standard",
    )
