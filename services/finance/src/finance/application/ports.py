"""What finance's application needs from the outside world; adapters provide it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from billing_events.envelope import EventEnvelope
from finance.domain.values import CostCenterRef

Row = dict[str, Any]


@dataclass(frozen=True)
class Page:
    """Rows in `seq` order; `next_after` is the seq to continue after, None on the last page."""

    rows: list[Row]
    next_after: int | None


class Views(Protocol):
    async def lock(self, *parts: str) -> None: ...
    async def apply(self, envelope: EventEnvelope) -> None: ...
    async def cost_centers(self, tenant: str) -> dict[str, CostCenterRef]: ...
    async def cost_center_list(self, tenant: str) -> list[Row]: ...
    async def expense(self, tenant: str, expense_id: str) -> Row | None: ...
    async def expenses(
        self, tenant: str, start: date, end: date, cost_center: str | None, after: int, limit: int
    ) -> Page: ...
    async def budget(self, tenant: str, year: int) -> Row | None: ...
    async def assets(self, tenant: str) -> list[Row]: ...
