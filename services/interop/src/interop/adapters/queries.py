"""Reading interop's read model: pages of rows per FHIR type, the rows a resource needs beside its own,
streams for Bulk export, and the audit of patient-data reads. Every query is scoped to one tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from interop.application.ports import Filter, Row
from interop.domain.search import bound_sql


@dataclass(frozen=True)
class Source:
    table: str
    id_column: str
    patient_column: str | None = None
    condition: str = "true"


SOURCES: dict[str, Source] = {
    "Patient": Source("interop_patients", "patient_id", "patient_id"),
    "Coverage": Source("interop_coverages", "coverage_id", "patient_id"),
    "Encounter": Source("interop_encounters", "encounter_id", "patient_id"),
    "Claim": Source("interop_claims", "claim_id", "patient_id"),
    "ClaimResponse": Source(
        "interop_claims",
        "claim_id",
        "patient_id",
        "EXISTS (SELECT 1 FROM interop_adjudications a "
        "WHERE a.tenant = t.tenant AND a.claim_id = t.claim_id)",
    ),
    "ExplanationOfBenefit": Source(
        "interop_claims",
        "claim_id",
        "patient_id",
        "EXISTS (SELECT 1 FROM interop_postings p WHERE p.tenant = t.tenant AND p.claim_id = t.claim_id)",
    ),
    "Practitioner": Source("interop_providers", "provider_id", None, "t.organization_name IS NULL"),
    # Payers and organisational providers, read as one listing (see `_organizations`).
    "Organization": Source(
        "(SELECT tenant, payer_id AS id, 'payer' AS kind, last_updated FROM interop_payers UNION ALL "
        "SELECT tenant, provider_id, 'provider', last_updated FROM interop_providers "
        "WHERE organization_name IS NOT NULL)",
        "id",
    ),
}


def _where(source: Source, tenant: str, wanted: Filter) -> tuple[str, list[Any]]:
    args: list[Any] = [tenant]
    conditions = ["t.tenant = $1", source.condition]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if wanted.ids is not None:
        conditions.append(f"t.{source.id_column} = ANY({arg(list(wanted.ids))}::text[])")
    if wanted.patient_id is not None:
        if source.patient_column is None:
            conditions.append("false")
        else:
            conditions.append(f"t.{source.patient_column} = {arg(wanted.patient_id)}")
    for bound in wanted.last_updated:
        conditions.append(bound_sql(bound, "t.last_updated", arg))
    if wanted.after is not None:
        conditions.append(f"t.{source.id_column} > {arg(wanted.after)}")
    return " AND ".join(conditions), args


class InteropViews:
    """application.ports.Views on one connection."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    def id_of(self, resource_type: str, row: Row) -> str:
        return str(row[SOURCES[resource_type].id_column])

    async def page(self, resource_type: str, tenant: str, wanted: Filter, limit: int) -> list[Row]:
        """Up to `limit` rows in id order (the keyset the paging cursor continues from)."""
        source = SOURCES[resource_type]
        where, args = _where(source, tenant, wanted)
        rows = await self.connection.fetch(
            f"SELECT t.* FROM {source.table} t WHERE {where} "
            f"ORDER BY t.{source.id_column} LIMIT {int(limit)}",
            *args,
        )
        found = [dict(row) for row in rows]
        return await self._organizations(tenant, found) if resource_type == "Organization" else found

    async def stream(
        self, resource_type: str, tenant: str, wanted: Filter, batch: int
    ) -> AsyncIterator[list[Row]]:
        """Every matching row, `batch` at a time, through a server-side cursor (call inside a transaction)."""
        source = SOURCES[resource_type]
        where, args = _where(source, tenant, wanted)
        cursor = self.connection.cursor(
            f"SELECT t.* FROM {source.table} t WHERE {where}", *args, prefetch=batch
        )
        chunk: list[Row] = []
        async for row in cursor:
            chunk.append(dict(row))
            if len(chunk) >= batch:
                yield await self._organizations(tenant, chunk) if resource_type == "Organization" else chunk
                chunk = []
        if chunk:
            yield await self._organizations(tenant, chunk) if resource_type == "Organization" else chunk

    async def _organizations(self, tenant: str, listed: list[Row]) -> list[Row]:
        payer_ids = [row["id"] for row in listed if row["kind"] == "payer"]
        provider_ids = [row["id"] for row in listed if row["kind"] == "provider"]
        payers = await self.connection.fetch(
            "SELECT *, 'payer' AS kind FROM interop_payers WHERE tenant = $1 AND payer_id = ANY($2::text[])",
            tenant,
            payer_ids,
        )
        providers = await self.providers(tenant, provider_ids)
        by_id = {row["payer_id"]: dict(row) for row in payers}
        by_id |= {row_id: row | {"kind": "provider"} for row_id, row in providers.items()}
        return [by_id[row["id"]] | {"id": row["id"]} for row in listed if row["id"] in by_id]

    async def providers(self, tenant: str, provider_ids: Sequence[str]) -> dict[str, Row]:
        rows = await self.connection.fetch(
            "SELECT * FROM interop_providers WHERE tenant = $1 AND provider_id = ANY($2::text[])",
            tenant,
            list(dict.fromkeys(provider_ids)),
        )
        return {row["provider_id"]: dict(row) for row in rows}

    async def latest_adjudications(self, tenant: str, claim_ids: Sequence[str]) -> dict[str, Row]:
        """The payer's latest answer per claim (a claim's events are ordered by its stream version)."""
        rows = await self.connection.fetch(
            "SELECT DISTINCT ON (claim_id) * FROM interop_adjudications WHERE tenant = $1 "
            "AND claim_id = ANY($2::text[]) ORDER BY claim_id, stream_version DESC, recorded_at DESC",
            tenant,
            list(claim_ids),
        )
        return {row["claim_id"]: dict(row) for row in rows}

    async def postings(self, tenant: str, claim_ids: Sequence[str]) -> dict[str, list[Row]]:
        rows = await self.connection.fetch(
            "SELECT * FROM interop_postings WHERE tenant = $1 AND claim_id = ANY($2::text[]) "
            "ORDER BY claim_id, recorded_at, event_id",
            tenant,
            list(claim_ids),
        )
        result: dict[str, list[Row]] = {}
        for row in rows:
            result.setdefault(row["claim_id"], []).append(dict(row))
        return result

    async def record_reads(
        self,
        tenant: str,
        patient_ids: Sequence[str],
        *,
        actor: str,
        roles: Sequence[str],
        access: str,
        correlation_id: str | None,
    ) -> None:
        if not patient_ids:
            return
        await self.connection.execute(
            "INSERT INTO interop_patient_reads (tenant, patient_id, actor, roles, access, correlation_id) "
            "SELECT $1, patient_id, $3, $4, $5, $6 FROM unnest($2::text[]) AS patient_id",
            tenant,
            list(dict.fromkeys(patient_ids)),
            actor,
            list(roles),
            access,
            correlation_id,
        )

    async def reads(
        self, tenant: str, after: int, limit: int, *, patient_id: str | None, actor: str | None
    ) -> list[Row]:
        rows = await self.connection.fetch(
            "SELECT * FROM interop_patient_reads WHERE tenant = $1 AND seq > $2 "
            "AND ($4::text IS NULL OR patient_id = $4) AND ($5::text IS NULL OR actor = $5) "
            "ORDER BY seq LIMIT $3",
            tenant,
            after,
            limit,
            patient_id,
            actor,
        )
        return [dict(row) for row in rows]

    # Bulk export jobs

    async def create_export(
        self,
        *,
        export_id: str,
        tenant: str,
        requested_by: str,
        request_url: str,
        level: str,
        types: Sequence[str],
        since: datetime | None,
        transaction_time: datetime,
    ) -> None:
        await self.connection.execute(
            "INSERT INTO interop_exports (export_id, tenant, requested_by, request_url, level, types, since, "
            "status, transaction_time) VALUES ($1, $2, $3, $4, $5, $6, $7, 'in-progress', $8)",
            export_id,
            tenant,
            requested_by,
            request_url,
            level,
            list(types),
            since,
            transaction_time,
        )

    async def export(self, tenant: str, export_id: str) -> Row | None:
        row = await self.connection.fetchrow(
            "SELECT * FROM interop_exports WHERE tenant = $1 AND export_id = $2", tenant, export_id
        )
        return dict(row) if row else None

    async def finish_export(self, export_id: str, status: str, output: list[Row], error: str | None) -> None:
        await self.connection.execute(
            "UPDATE interop_exports SET status = $2, output = $3, error = $4, "
            "completed_at = clock_timestamp() "
            "WHERE export_id = $1 AND status = 'in-progress'",
            export_id,
            status,
            output,
            error,
        )

    async def beat(self, export_id: str) -> None:
        await self.connection.execute(
            "UPDATE interop_exports SET heartbeat = clock_timestamp() WHERE export_id = $1", export_id
        )

    async def fail_if_stalled(self, tenant: str, export_id: str, stall_seconds: int) -> bool:
        """Mark an in-progress export failed when it has not beaten for `stall_seconds`."""
        failed = await self.connection.fetchval(
            "UPDATE interop_exports SET status = 'failed', completed_at = clock_timestamp(), "
            "error = 'the export stopped (its process ended); start another' "
            "WHERE tenant = $1 AND export_id = $2 AND status = 'in-progress' "
            "AND heartbeat < clock_timestamp() - make_interval(secs => $3) RETURNING export_id",
            tenant,
            export_id,
            float(stall_seconds),
        )
        return failed is not None

    async def delete_export(self, tenant: str, export_id: str) -> bool:
        deleted = await self.connection.fetchval(
            "DELETE FROM interop_exports WHERE tenant = $1 AND export_id = $2 RETURNING export_id",
            tenant,
            export_id,
        )
        return deleted is not None


@asynccontextmanager
async def views_on(pool: asyncpg.Pool, *, transaction: bool = False) -> AsyncIterator[InteropViews]:
    """ports.ViewsFactory: the views on a pooled connection of their own, in a transaction if asked."""
    async with pool.acquire() as connection:
        if transaction:
            async with connection.transaction():
                yield InteropViews(connection)
        else:
            yield InteropViews(connection)
