"""Reporting's facts of finance's topics, in their own subscription (consumer group `reporting-finance`)
and tables, beside the revenue-cycle facts of projections.py.

As there, handlers only insert what an event says with its event time and never read other rows,
so a rebuild from the topics gives the same rows; a reversal is stored as its own entry of negated
amounts on the reversed expense's day.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from billing_events.consumer import Handler, Subscription, handlers
from billing_events.contracts.finance import (
    AssetAcquired,
    BudgetSet,
    CostCenterOpened,
    CostCenterProvidersAssigned,
    ExpenseRecorded,
    ExpenseReversed,
)
from billing_events.envelope import EventEnvelope
from billing_events.kafka import service_topics
from billing_events.store import Session
from reporting.adapters.projections import _RECORDED, FactsReader, _insert
from reporting.domain.finance_facts import (
    Asset,
    Budget,
    BudgetLine,
    CostCenter,
    ExpenseEntry,
    FinanceFacts,
    ProviderAssignment,
)

FINANCE_FACT_TABLES = [
    "reporting_cost_centers",
    "reporting_cost_center_providers",
    "reporting_expenses",
    "reporting_budgets",
    "reporting_assets",
]

FINANCE_SQL = f"""
CREATE TABLE IF NOT EXISTS reporting_cost_centers (
    tenant text NOT NULL, cost_center_id text NOT NULL, code text NOT NULL, name text NOT NULL,
    kind text NOT NULL, provider_ids jsonb NOT NULL, {_RECORDED},
    PRIMARY KEY (tenant, cost_center_id)
);
CREATE TABLE IF NOT EXISTS reporting_cost_center_providers (
    tenant text NOT NULL, cost_center_id text NOT NULL, provider_ids jsonb NOT NULL, {_RECORDED},
    PRIMARY KEY (event_id)
);
CREATE TABLE IF NOT EXISTS reporting_expenses (
    tenant text NOT NULL, expense_id text NOT NULL, reversal boolean NOT NULL, cost_center_id text NOT NULL,
    category text NOT NULL, amount_cents bigint NOT NULL, incurred_on date NOT NULL,
    fte_hundredths integer, source text NOT NULL, {_RECORDED},
    PRIMARY KEY (event_id)
);
CREATE TABLE IF NOT EXISTS reporting_budgets (
    tenant text NOT NULL, year integer NOT NULL, lines jsonb NOT NULL, {_RECORDED},
    PRIMARY KEY (event_id)
);
CREATE TABLE IF NOT EXISTS reporting_assets (
    tenant text NOT NULL, asset_id text NOT NULL, name text NOT NULL, cost_cents bigint NOT NULL,
    acquired_on date NOT NULL, useful_life_months integer NOT NULL, cost_center_id text NOT NULL,
    code text, monthly_volume integer, {_RECORDED},
    PRIMARY KEY (tenant, asset_id)
);
""" + "".join(
    f"CREATE INDEX IF NOT EXISTS {table}_recorded ON {table} (tenant, recorded_at);\n"
    for table in FINANCE_FACT_TABLES
)


async def on_cost_center_opened(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, CostCenterOpened)
    values = {
        "cost_center_id": event.cost_center_id,
        "code": event.code,
        "name": event.name,
        "kind": event.kind,
        "provider_ids": list(event.provider_ids),
    }
    _insert(session, "reporting_cost_centers", envelope, values)


async def on_providers_assigned(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, CostCenterProvidersAssigned)
    values = {"cost_center_id": event.cost_center_id, "provider_ids": list(event.provider_ids)}
    _insert(session, "reporting_cost_center_providers", envelope, values)


async def on_expense(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, ExpenseRecorded | ExpenseReversed)
    sign = -1 if isinstance(event, ExpenseReversed) else 1
    values = {
        "expense_id": event.expense_id,
        "reversal": sign < 0,
        "cost_center_id": event.cost_center_id,
        "category": event.category,
        "amount_cents": sign * event.amount_cents,
        "incurred_on": event.incurred_on,
        "fte_hundredths": None if event.fte_hundredths is None else sign * event.fte_hundredths,
        "source": event.source if isinstance(event, ExpenseRecorded) else "reversal",
    }
    _insert(session, "reporting_expenses", envelope, values)


async def on_budget_set(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, BudgetSet)
    lines = [
        {"cost_center_id": r.cost_center_id, "month": r.month, "amount_cents": r.amount_cents}
        for r in event.rows
    ]
    _insert(session, "reporting_budgets", envelope, {"year": event.year, "lines": lines})


async def on_asset_acquired(session: Session, envelope: EventEnvelope) -> None:
    event = envelope.event()
    assert isinstance(event, AssetAcquired)
    values = {
        "asset_id": event.asset_id,
        "name": event.name,
        "cost_cents": event.cost_cents,
        "acquired_on": event.acquired_on,
        "useful_life_months": event.useful_life_months,
        "cost_center_id": event.cost_center_id,
        "code": event.code,
        "monthly_volume": event.monthly_volume,
    }
    _insert(session, "reporting_assets", envelope, values)


def finance_handlers() -> dict[str, Handler]:
    return handlers(
        (CostCenterOpened, on_cost_center_opened),
        (CostCenterProvidersAssigned, on_providers_assigned),
        (ExpenseRecorded, on_expense),
        (ExpenseReversed, on_expense),
        (BudgetSet, on_budget_set),
        (AssetAcquired, on_asset_acquired),
    )


FINANCE_SUBSCRIPTION_NAME = "reporting-finance"


def finance_subscription() -> Subscription:
    return Subscription(
        name=FINANCE_SUBSCRIPTION_NAME,
        topics=service_topics("finance"),
        handlers=finance_handlers(),
        owned_tables=FINANCE_FACT_TABLES,
    )


class FinanceFactsReader:
    """Loads one tenant's finance facts as known at the end of a day in the reporting time zone."""

    def __init__(self, pool: asyncpg.Pool, zone: ZoneInfo) -> None:
        self.pool = pool
        self.clock = FactsReader(pool, zone)

    async def load(self, tenant: str, known_on: date) -> FinanceFacts:
        cut = self.clock.cutoff(known_on)
        stamp = self.clock._stamp
        async with self.pool.acquire() as connection, connection.transaction(isolation="repeatable_read"):

            async def rows(table: str) -> list[Any]:
                return list(
                    await connection.fetch(
                        f"SELECT * FROM {table} WHERE tenant = $1 AND recorded_at < $2", tenant, cut
                    )
                )

            centers = await rows("reporting_cost_centers")
            assignments = await rows("reporting_cost_center_providers")
            expenses = await rows("reporting_expenses")
            budgets = await rows("reporting_budgets")
            assets = await rows("reporting_assets")
        return FinanceFacts(
            cost_centers=tuple(
                CostCenter(
                    r["cost_center_id"], r["code"], r["name"], r["kind"], tuple(r["provider_ids"]), stamp(r)
                )
                for r in centers
            ),
            assignments=tuple(
                ProviderAssignment(r["cost_center_id"], tuple(r["provider_ids"]), stamp(r))
                for r in assignments
            ),
            expenses=tuple(
                ExpenseEntry(
                    r["expense_id"],
                    r["cost_center_id"],
                    r["category"],
                    r["amount_cents"],
                    r["incurred_on"],
                    r["fte_hundredths"],
                    r["source"],
                    r["reversal"],
                    stamp(r),
                )
                for r in expenses
            ),
            budgets=tuple(
                Budget(
                    r["year"],
                    tuple(BudgetLine(x["cost_center_id"], x["month"], x["amount_cents"]) for x in r["lines"]),
                    stamp(r),
                )
                for r in budgets
            ),
            assets=tuple(
                Asset(
                    r["asset_id"],
                    r["name"],
                    r["cost_cents"],
                    r["acquired_on"],
                    r["useful_life_months"],
                    r["cost_center_id"],
                    r["code"],
                    r["monthly_volume"],
                    stamp(r),
                )
                for r in assets
            ),
        )
