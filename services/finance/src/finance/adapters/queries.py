"""Queries on finance's views, on the connection of the current transaction, scoped by tenant."""

from __future__ import annotations

from datetime import date

import asyncpg

from billing_events.envelope import EventEnvelope
from billing_service.pages import Keyset, Page, PageRequest
from finance.adapters import projections
from finance.application.ports import Row
from finance.domain.values import CostCenterRef


def _row(record: asyncpg.Record | None) -> Row | None:
    return None if record is None else dict(record)


class PostgresViews:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def lock(self, *parts: str) -> None:
        """A transaction-scoped advisory lock on a name, so that check-then-append runs one at a time."""
        await self.connection.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "\x1f".join(("finance", *parts))
        )

    async def apply(self, envelope: EventEnvelope) -> None:
        await projections.apply(self.connection, envelope)

    async def cost_centers(self, tenant: str) -> dict[str, CostCenterRef]:
        rows = await self.connection.fetch(
            "SELECT cost_center_id, code, kind FROM fin_cost_centers WHERE tenant = $1", tenant
        )
        return {r["code"]: CostCenterRef(r["cost_center_id"], r["code"], r["kind"]) for r in rows}

    async def cost_center_list(self, tenant: str) -> list[Row]:
        rows = await self.connection.fetch(
            "SELECT cost_center_id, code, name, kind, provider_ids FROM fin_cost_centers "
            "WHERE tenant = $1 ORDER BY code",
            tenant,
        )
        return [dict(r) for r in rows]

    async def expense(self, tenant: str, expense_id: str) -> Row | None:
        return _row(
            await self.connection.fetchrow(
                "SELECT * FROM fin_expenses WHERE tenant = $1 AND expense_id = $2", tenant, expense_id
            )
        )

    async def expenses(
        self, tenant: str, start: date, end: date, cost_center: str | None, page: PageRequest
    ) -> Page[Row]:
        rows = [
            dict(r)
            for r in await self.connection.fetch(
                "SELECT * FROM fin_expenses WHERE tenant = $1 AND incurred_on BETWEEN $2 AND $3 "
                "AND ($4::text IS NULL OR cost_center_code = $4) AND seq > $5 ORDER BY seq LIMIT $6",
                tenant,
                start,
                end,
                cost_center,
                page.position,
                page.fetch,
            )
        ]
        return page.page(rows, _seq)

    async def budget(self, tenant: str, year: int) -> Row | None:
        return _row(
            await self.connection.fetchrow(
                "SELECT year, rows FROM fin_budgets WHERE tenant = $1 AND year = $2", tenant, year
            )
        )

    async def assets(self, tenant: str) -> list[Row]:
        rows = await self.connection.fetch(
            "SELECT asset_id, name, cost_cents, acquired_on, useful_life_months, cost_center_code, code, "
            "monthly_volume FROM fin_assets WHERE tenant = $1 ORDER BY seq",
            tenant,
        )
        return [dict(r) for r in rows]


EXPENSES = Keyset("finance.expenses")


def _seq(row: Row) -> tuple[int]:
    return (int(row["seq"]),)
