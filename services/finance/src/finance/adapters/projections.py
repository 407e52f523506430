"""Finance's own read models in PostgreSQL: what its commands check (cost-centre codes, an expense's
existence) and its GETs answer.

Written in the command's own transaction and rebuilt from the service's event log (`billing replay
finance`); every row carries its tenant.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from billing_events.contracts.finance import (
    AssetAcquired,
    BudgetSet,
    CostCenterOpened,
    CostCenterProvidersAssigned,
    ExpenseRecorded,
    ExpenseReversed,
)
from billing_events.envelope import EventEnvelope
from billing_events.store import EventStore

PROJECTIONS_SQL = """
CREATE TABLE IF NOT EXISTS fin_cost_centers (
    cost_center_id text PRIMARY KEY,
    seq bigserial UNIQUE,
    tenant text NOT NULL,
    code text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    provider_ids jsonb NOT NULL,
    opened_at timestamptz NOT NULL,
    UNIQUE (tenant, code)
);
CREATE TABLE IF NOT EXISTS fin_expenses (
    expense_id text PRIMARY KEY,
    seq bigserial UNIQUE,
    tenant text NOT NULL,
    cost_center_id text NOT NULL,
    cost_center_code text NOT NULL,
    category text NOT NULL,
    amount_cents bigint NOT NULL,
    incurred_on date NOT NULL,
    vendor text,
    memo text,
    fte_hundredths integer,
    source text NOT NULL,
    asset_id text,
    import_id text,
    recorded_at timestamptz NOT NULL,
    reversed_at timestamptz,
    reversal_reason text
);
CREATE INDEX IF NOT EXISTS fin_expenses_by_day ON fin_expenses (tenant, incurred_on, seq);
CREATE TABLE IF NOT EXISTS fin_budgets (
    tenant text NOT NULL,
    year integer NOT NULL,
    budget_id text NOT NULL,
    rows jsonb NOT NULL,
    set_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, year)
);
CREATE TABLE IF NOT EXISTS fin_assets (
    asset_id text PRIMARY KEY,
    seq bigserial UNIQUE,
    tenant text NOT NULL,
    name text NOT NULL,
    cost_cents bigint NOT NULL,
    acquired_on date NOT NULL,
    useful_life_months integer NOT NULL,
    cost_center_code text NOT NULL,
    code text,
    monthly_volume integer,
    acquired_at timestamptz NOT NULL
);
"""

PROJECTION_TABLES = ("fin_cost_centers", "fin_expenses", "fin_budgets", "fin_assets")


async def apply(connection: asyncpg.Connection, envelope: EventEnvelope) -> None:
    """Bring the views up to date with one stored event of this service's log."""
    event = envelope.event()
    tenant, at = envelope.tenant, envelope.occurred_at
    if isinstance(event, CostCenterOpened):
        await connection.execute(
            "INSERT INTO fin_cost_centers (cost_center_id, tenant, code, name, kind, provider_ids, "
            "opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            event.cost_center_id,
            tenant,
            event.code,
            event.name,
            event.kind,
            list(event.provider_ids),
            at,
        )
    elif isinstance(event, CostCenterProvidersAssigned):
        await connection.execute(
            "UPDATE fin_cost_centers SET provider_ids = $3 WHERE tenant = $1 AND cost_center_id = $2",
            tenant,
            event.cost_center_id,
            list(event.provider_ids),
        )
    elif isinstance(event, ExpenseRecorded):
        await connection.execute(
            "INSERT INTO fin_expenses (expense_id, tenant, cost_center_id, cost_center_code, category, "
            "amount_cents, incurred_on, vendor, memo, fte_hundredths, source, asset_id, import_id, "
            "recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            event.expense_id,
            tenant,
            event.cost_center_id,
            event.cost_center_code,
            event.category,
            event.amount_cents,
            event.incurred_on,
            event.vendor,
            event.memo,
            event.fte_hundredths,
            event.source,
            event.asset_id,
            event.import_id,
            at,
        )
    elif isinstance(event, ExpenseReversed):
        await connection.execute(
            "UPDATE fin_expenses SET reversed_at = $3, reversal_reason = $4 "
            "WHERE tenant = $1 AND expense_id = $2",
            tenant,
            event.expense_id,
            at,
            event.reason,
        )
    elif isinstance(event, BudgetSet):
        await connection.execute(
            "INSERT INTO fin_budgets (tenant, year, budget_id, rows, set_at) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (tenant, year) DO UPDATE SET rows = excluded.rows, set_at = excluded.set_at",
            tenant,
            event.year,
            event.budget_id,
            [row.model_dump(mode="json") for row in event.rows],
            at,
        )
    elif isinstance(event, AssetAcquired):
        await connection.execute(
            "INSERT INTO fin_assets (asset_id, tenant, name, cost_cents, acquired_on, useful_life_months, "
            "cost_center_code, code, monthly_volume, acquired_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            event.asset_id,
            tenant,
            event.name,
            event.cost_cents,
            event.acquired_on,
            event.useful_life_months,
            event.cost_center_code,
            event.code,
            event.monthly_volume,
            at,
        )


async def rebuild(
    store: EventStore, *, batch: int = 1000, progress: Callable[[int, int], None] | None = None
) -> int:
    """Empty the views and replay the whole event log into them, in one transaction."""
    total = await store.head()
    applied = 0
    async with store.session() as session:
        await session.connection.execute(f"TRUNCATE {', '.join(PROJECTION_TABLES)}")
        after = 0
        while envelopes := await store.read_all(after, batch):
            for envelope in envelopes:
                await apply(session.connection, envelope)
            after = envelopes[-1].position or after
            applied += len(envelopes)
            if progress is not None:
                progress(applied, max(total, applied))
    return applied
