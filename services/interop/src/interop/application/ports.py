"""What interop's reads and exports need from the outside world, named here and implemented in
adapters/ (the PostgreSQL read model, `adapters.queries.InteropViews`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from interop.domain.search import Bound

Row = dict[str, Any]


@dataclass(frozen=True)
class Filter:
    """What a search or an export asks for, beside the tenant."""

    ids: Sequence[str] | None = None
    patient_id: str | None = None
    last_updated: Sequence[Bound] = ()
    after: str | None = None


class Views(Protocol):
    """Interop's read model on one transaction's connection, always scoped to a tenant."""

    def id_of(self, resource_type: str, row: Row) -> str: ...
    async def page(self, resource_type: str, tenant: str, wanted: Filter, limit: int) -> list[Row]: ...
    def stream(
        self, resource_type: str, tenant: str, wanted: Filter, batch: int
    ) -> AsyncIterator[list[Row]]: ...
    async def providers(self, tenant: str, provider_ids: Sequence[str]) -> dict[str, Row]: ...
    async def latest_adjudications(self, tenant: str, claim_ids: Sequence[str]) -> dict[str, Row]: ...
    async def postings(self, tenant: str, claim_ids: Sequence[str]) -> dict[str, list[Row]]: ...
    async def record_reads(
        self,
        tenant: str,
        patient_ids: Sequence[str],
        *,
        actor: str,
        roles: Sequence[str],
        access: str,
        correlation_id: str | None,
    ) -> None: ...
    async def finish_export(
        self, export_id: str, status: str, output: list[Row], error: str | None
    ) -> None: ...
    async def beat(self, export_id: str) -> None: ...


# A unit of views on a connection of its own (`transaction=True`: inside one transaction), for work
# that spans several transactions, as an export does (one per resource type, heartbeats beside).
ViewsFactory = Callable[..., AbstractAsyncContextManager[Views]]
