"""What coding's use cases need from the outside world, named here and implemented in adapters/."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from billing_events.contracts.base import Sealed
from billing_events.contracts.registration import AdmissionDischarged, AdmissionOpened, EncounterOpened
from billing_events.unit_of_work import UnitOfWork
from coding.domain.codesets import CptLicence
from coding.domain.institutional import AdmissionFacts
from coding.domain.values import EncounterFacts, Sex


class Views(Protocol):
    """Coding's own read models (registration's encounters and patients as coding needs them, and a
    tenant's licensed CPT list), on the connection of the current transaction."""

    async def encounter_facts(self, tenant: str, encounter_id: str) -> EncounterFacts | None: ...
    async def cpt_licence(self, tenant: str, codes: Sequence[str]) -> CptLicence: ...
    async def record_encounter(self, tenant: str, event: EncounterOpened, opened_at: datetime) -> None: ...
    async def record_sex_correction(
        self, tenant: str, patient_id: str, sex: Sex, as_of: datetime
    ) -> None: ...
    async def admission_facts(self, tenant: str, encounter_id: str) -> AdmissionFacts | None: ...
    async def record_admission(self, tenant: str, event: AdmissionOpened, opened_at: datetime) -> None: ...
    async def record_discharge(self, tenant: str, event: AdmissionDischarged) -> None: ...


# One transaction's log and read models (billing_events.unit_of_work).
Unit = UnitOfWork[Views]


@dataclass(frozen=True)
class Hit:
    code: str
    description: str
    billable: bool


@dataclass(frozen=True)
class SearchResult:
    items: list[Hit]
    total: int


class CodeSearch(Protocol):
    def search(
        self, query: str, *, limit: int = 20, offset: int = 0, billable_only: bool = False
    ) -> SearchResult: ...


class Vault(Protocol):
    """Per-patient keys: coding seals a coder's free text (the reason for a recoding) and opens it."""

    async def open(self, sealed: Sealed, field: str) -> Any: ...
    async def seal_fields(self, key_id: str, values: dict[str, Any]) -> dict[str, Sealed | None]: ...
