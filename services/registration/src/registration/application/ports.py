"""What the application needs from the outside world; adapters provide it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from billing_events.envelope import EventEnvelope
from registration.domain.coverage import CoverageSpan

Row = dict[str, Any]


@dataclass(frozen=True)
class Page:
    """Rows in `seq` order; `next_after` is the seq to continue after, None on the last page."""

    rows: list[Row]
    next_after: int | None


class Views(Protocol):
    """Registration's own views, on the connection of the current transaction, scoped by tenant."""

    async def lock(self, *parts: str) -> None: ...
    async def apply(self, envelope: EventEnvelope) -> None: ...

    async def payer(self, tenant: str, payer_id: str) -> Row | None: ...
    async def payers(self, tenant: str, after: int, limit: int) -> Page: ...
    async def provider(self, tenant: str, provider_id: str) -> Row | None: ...
    async def providers(
        self, tenant: str, after: int, limit: int, *, role: str | None = None, npi: str | None = None
    ) -> Page: ...
    async def npi_enrolled_in_role(self, tenant: str, npi: str, role: str) -> bool: ...

    async def patient(self, tenant: str, patient_id: str) -> Row | None: ...
    async def patient_by_mrn_index(self, tenant: str, mrn_index: str) -> Row | None: ...
    async def patients(self, tenant: str, after: int, limit: int) -> Page: ...

    async def coverage(self, tenant: str, coverage_id: str) -> Row | None: ...
    async def coverages_of(self, tenant: str, patient_id: str, after: int, limit: int) -> Page: ...
    async def coverage_spans(
        self, tenant: str, patient_id: str, priority: str
    ) -> tuple[CoverageSpan, ...]: ...

    async def encounter(self, tenant: str, encounter_id: str) -> Row | None: ...
    async def encounters(
        self, tenant: str, after: int, limit: int, *, patient_id: str | None = None
    ) -> Page: ...

    async def record_read(
        self,
        tenant: str,
        patient_id: str,
        *,
        actor: str,
        roles: list[str],
        access: str,
        correlation_id: str | None,
    ) -> None: ...
    async def reads(
        self, tenant: str, after: int, limit: int, *, patient_id: str | None = None, actor: str | None = None
    ) -> Page: ...


class Phi(Protocol):
    """Field encryption under per-patient keys (billing_events.phi.Vault)."""

    async def seal_fields(self, key_id: str, values: dict[str, Any]) -> dict[str, Any]: ...
    async def open(self, sealed: Any, field: str) -> Any: ...
