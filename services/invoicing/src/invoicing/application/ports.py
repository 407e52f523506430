"""What the handlers need from the outside world, named here and implemented by adapters.projections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from billing_events.contracts.base import Sealed
from billing_events.contracts.invoicing import (
    CapturedCharge,
    ChargemasterRow,
    ChargesCaptured,
    FeeScheduleRow,
)
from billing_events.unit_of_work import UnitOfWork
from invoicing.domain.encounter_charges import ChargePrice
from invoicing.domain.estimates import Benefits
from invoicing.domain.financial_assistance import AssistancePolicy
from invoicing.domain.institutional_bill import Stay
from invoicing.domain.invoice import InvoiceState, PrimaryCoverage
from invoicing.domain.patient_account import OpenItem, PatientAccountState
from invoicing.domain.payer_contract import ContractRates
from invoicing.domain.pricing import PriceList


@dataclass(frozen=True)
class EncounterInvoice:
    invoice_id: str
    coding_version: int
    status: str


@dataclass(frozen=True)
class FeeScheduleVersion:
    fee_schedule_id: str
    name: str
    effective_from: date
    rows: tuple[FeeScheduleRow, ...]


@dataclass(frozen=True)
class CreditCandidates:
    """A patient's unapplied account credit, and the invoices holding money of theirs they do not need."""

    credit_cents: int
    releasable_invoice_ids: tuple[str, ...]


class Views(Protocol):
    """The service's own read models, in the caller's transaction."""

    async def price_list_on(self, tenant: str, service_date: date) -> PriceList | None: ...

    async def primary_coverage_on(
        self, tenant: str, patient_id: str, service_date: date
    ) -> PrimaryCoverage | None: ...

    async def invoices_of_encounter(self, tenant: str, encounter_id: str) -> list[EncounterInvoice]: ...

    async def held_invoice_ids(self, tenant: str) -> list[str]: ...

    async def self_pay_invoice_ids(self, tenant: str, patient_id: str) -> list[str]: ...

    async def open_items(self, tenant: str, patient_id: str) -> list[OpenItem]: ...

    async def credit_candidates(self, tenant: str, patient_id: str) -> CreditCandidates: ...

    async def save_invoice(
        self, tenant: str, state: InvoiceState, first_position: int, last_position: int
    ) -> None: ...

    async def save_account(self, tenant: str, state: PatientAccountState, last_position: int) -> None: ...

    async def save_fee_schedule_version(
        self, tenant: str, version: FeeScheduleVersion, position: int, imported_at: datetime
    ) -> None: ...

    async def save_chargemaster_version(
        self,
        tenant: str,
        effective_from: date,
        rows: tuple[ChargemasterRow, ...],
        position: int,
        imported_at: datetime,
    ) -> None: ...

    async def charge_prices(
        self, tenant: str, wanted: set[tuple[str, date]]
    ) -> dict[tuple[str, date], ChargePrice]: ...

    async def save_charges(self, tenant: str, captured: ChargesCaptured, position: int) -> None: ...

    async def charges_of(self, tenant: str, encounter_id: str) -> list[tuple[CapturedCharge, bool]]: ...

    async def stay(self, tenant: str, encounter_id: str) -> Stay | None: ...


# One transaction's log and read models (billing_events.unit_of_work).
Unit = UnitOfWork[Views]


# The patient's side: payer contracts, estimates, financial assistance (application.patient_side).


@dataclass(frozen=True)
class CoverageOnFile:
    coverage_id: str
    patient_id: str
    payer_id: str
    priority: str
    effective_from: date
    effective_to: date | None


@dataclass(frozen=True)
class ProviderOnFile:
    """A billing or rendering provider as registration enrolled it (no patient data)."""

    provider_id: str
    npi: str
    name: str
    tax_id: str | None
    address: dict[str, str | None]


@dataclass(frozen=True)
class Determination:
    application_id: str
    eligible: bool
    discount_basis_points: int
    agb_basis_points: int
    valid_from: date
    valid_until: date


@dataclass(frozen=True)
class PatientBalance:
    """An invoice with something due from the patient: its gross charges, the patient's share still
    open and what the patient paid on it."""

    invoice_id: str
    service_date: date
    total_charge_cents: int
    patient_responsibility_cents: int
    patient_paid_cents: int
    charity_written_off_cents: int = 0


class PatientSideViews(Views, Protocol):
    """Invoicing's read models that estimates, contracts and financial assistance need."""

    async def contract_on(self, tenant: str, payer_id: str, on: date) -> ContractRates | None: ...

    async def coverage(self, tenant: str, coverage_id: str) -> CoverageOnFile | None: ...

    async def latest_benefits(self, tenant: str, coverage_id: str) -> Benefits | None: ...

    async def provider(self, tenant: str, provider_id: str) -> ProviderOnFile | None: ...

    async def assistance_policy_on(self, tenant: str, on: date) -> tuple[str, AssistancePolicy] | None: ...

    async def assistance_on(self, tenant: str, patient_id: str, on: date) -> Determination | None: ...

    async def patient_balances(self, tenant: str, patient_id: str) -> list[PatientBalance]: ...


class Sealer(Protocol):
    """Seals values under a patient's key (billing_events.phi.Vault)."""

    async def seal_fields(self, key_id: str, values: Mapping[str, Any]) -> dict[str, Sealed | None]: ...


PatientSideUnit = UnitOfWork[PatientSideViews]
