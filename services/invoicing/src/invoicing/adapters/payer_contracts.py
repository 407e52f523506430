"""The payer contracts' read model: one row per version, its rates as JSON (like fee schedules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from billing_events.contracts.invoicing import ContractRateRow
from invoicing.domain.payer_contract import ContractRates

CONTRACTS_SQL = """
CREATE TABLE IF NOT EXISTS invoicing_payer_contracts (
    tenant text NOT NULL,
    payer_contract_id text NOT NULL,
    payer_id text NOT NULL,
    effective_from date NOT NULL,
    requires_modifier_33 boolean NOT NULL,
    rows jsonb NOT NULL,
    row_count integer NOT NULL,
    position bigint NOT NULL,
    imported_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, payer_contract_id, effective_from)
);
CREATE INDEX IF NOT EXISTS invoicing_payer_contracts_in_effect
    ON invoicing_payer_contracts (tenant, payer_id, effective_from DESC);
"""
CONTRACT_TABLES = ("invoicing_payer_contracts",)

# The contract in effect for a payer on a date, as a SQL fragment over invoicing_coverages c and $3.
IN_NETWORK_SQL = (
    "(SELECT k.requires_modifier_33 FROM invoicing_payer_contracts k WHERE k.tenant = c.tenant "
    "AND k.payer_id = c.payer_id AND k.effective_from <= $3 ORDER BY k.effective_from DESC LIMIT 1)"
)


@dataclass(frozen=True)
class ContractVersionRow:
    payer_contract_id: str
    payer_id: str
    effective_from: date
    requires_modifier_33: bool
    rows: tuple[ContractRateRow, ...]


async def save_contract_version(
    connection: asyncpg.Connection, tenant: str, version: ContractVersionRow, position: int, at: datetime
) -> None:
    await connection.execute(
        "INSERT INTO invoicing_payer_contracts (tenant, payer_contract_id, payer_id, effective_from, "
        "requires_modifier_33, rows, row_count, position, imported_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "ON CONFLICT (tenant, payer_contract_id, effective_from) DO UPDATE SET rows = excluded.rows, "
        "requires_modifier_33 = excluded.requires_modifier_33, row_count = excluded.row_count, "
        "position = excluded.position, imported_at = excluded.imported_at",
        tenant,
        version.payer_contract_id,
        version.payer_id,
        version.effective_from,
        version.requires_modifier_33,
        [row.model_dump(mode="json") for row in version.rows],
        len(version.rows),
        position,
        at,
    )


# Parsed versions keyed by their identity and write (see projections._PRICE_LISTS).
_CACHE_SIZE = 32
_CONTRACTS: dict[tuple[str, str, date, int, datetime], ContractRates] = {}


async def contract_on(
    connection: asyncpg.Connection, tenant: str, payer_id: str, on: date
) -> ContractRates | None:
    key = await connection.fetchrow(
        "SELECT payer_contract_id, effective_from, position, imported_at FROM invoicing_payer_contracts "
        "WHERE tenant = $1 AND payer_id = $2 AND effective_from <= $3 ORDER BY effective_from DESC LIMIT 1",
        tenant,
        payer_id,
        on,
    )
    if key is None:
        return None
    cache_key = (tenant, key["payer_contract_id"], key["effective_from"], key["position"], key["imported_at"])
    cached = _CONTRACTS.get(cache_key)
    if cached is not None:
        return cached
    row = await connection.fetchrow(
        "SELECT rows, requires_modifier_33 FROM invoicing_payer_contracts "
        "WHERE tenant = $1 AND payer_contract_id = $2 AND effective_from = $3",
        tenant,
        key["payer_contract_id"],
        key["effective_from"],
    )
    if row is None:
        return None
    rates = ContractRates.of(
        payer_id,
        key["effective_from"],
        [ContractRateRow.model_validate(r) for r in row["rows"]],
        row["requires_modifier_33"],
    )
    if len(_CONTRACTS) >= _CACHE_SIZE:
        _CONTRACTS.pop(next(iter(_CONTRACTS)))
    _CONTRACTS[cache_key] = rates
    return rates


async def contract_document(
    connection: asyncpg.Connection, tenant: str, payer_id: str, on: date | None
) -> dict[str, Any] | None:
    """The version of the payer's contract in effect on `on` (its latest when not given), with its rows."""
    row = await connection.fetchrow(
        "SELECT payer_contract_id, payer_id, effective_from, requires_modifier_33, rows, imported_at "
        "FROM invoicing_payer_contracts WHERE tenant = $1 AND payer_id = $2 "
        "AND ($3::date IS NULL OR effective_from <= $3) ORDER BY effective_from DESC LIMIT 1",
        tenant,
        payer_id,
        on,
    )
    if row is None:
        return None
    return {
        "payer_contract_id": row["payer_contract_id"],
        "payer_id": row["payer_id"],
        "effective_from": row["effective_from"].isoformat(),
        "requires_modifier_33": row["requires_modifier_33"],
        "imported_at": row["imported_at"].isoformat(),
        "rows": row["rows"],
    }
