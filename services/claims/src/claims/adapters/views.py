"""Read side of the API: the claims table and the service's own log, always within one tenant."""

from __future__ import annotations

from typing import Any

import asyncpg

from billing_events.contracts.base import Sealed

CLAIM_COLUMNS = (
    "claim_id, tenant, seq, invoice_id, encounter_id, patient_id, "
    "coverage_id, payer_id, billing_provider_id, "
    "rendering_provider_id, patient_control_number, service_date, "
    "total_charge_cents, status, pending_frequency, "
    "findings, payer_claim_control_number, paid_cents, patient_responsibility_cents, adjudication, "
    "last_batch_id, version, created_at, updated_at"
)
FILTERS = ("invoice_id", "encounter_id", "patient_id", "payer_id", "status")


def claim_summary(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "claim_id": row["claim_id"],
        "status": row["status"],
        "invoice_id": row["invoice_id"],
        "encounter_id": row["encounter_id"],
        "patient_id": row["patient_id"],
        "coverage_id": row["coverage_id"],
        "payer_id": row["payer_id"],
        "billing_provider_id": row["billing_provider_id"],
        "rendering_provider_id": row["rendering_provider_id"],
        "patient_control_number": row["patient_control_number"],
        "service_date": row["service_date"].isoformat(),
        "total_charge_cents": row["total_charge_cents"],
        "paid_cents": row["paid_cents"],
        "patient_responsibility_cents": row["patient_responsibility_cents"],
        "awaiting_submission": row["pending_frequency"] is not None and row["status"] != "scrub_failed",
        "pending_frequency_code": row["pending_frequency"],
        "findings": row["findings"],
        "payer_claim_control_number": row["payer_claim_control_number"],
        "last_batch_id": row["last_batch_id"],
        "version": row["version"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


async def get_claim(db: asyncpg.Connection, tenant: str, claim_id: str) -> asyncpg.Record | None:
    return await db.fetchrow(
        f"SELECT {CLAIM_COLUMNS} FROM claims WHERE tenant = $1 AND claim_id = $2", tenant, claim_id
    )


async def list_claims(
    db: asyncpg.Connection, tenant: str, filters: dict[str, str], limit: int, after: int
) -> list[asyncpg.Record]:
    clauses = ["tenant = $1", "seq > $2"]
    args: list[Any] = [tenant, after]
    for name in FILTERS:
        if filters.get(name):
            args.append(filters[name])
            clauses.append(f"{name} = ${len(args)}")
    args.append(limit)
    where = " AND ".join(clauses)
    return list(
        await db.fetch(
            f"SELECT {CLAIM_COLUMNS} FROM claims WHERE {where} ORDER BY seq LIMIT ${len(args)}", *args
        )
    )


async def denied_claims(db: asyncpg.Connection, tenant: str, limit: int, after: int) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            f"SELECT {CLAIM_COLUMNS} FROM claims WHERE tenant = $1 AND seq > $2 AND adjudication IS NOT NULL "
            "AND status IN ('denied', 'partially_paid', 'paid', "
            "'closed', 'resubmitted') ORDER BY seq LIMIT $3",
            tenant,
            after,
            limit,
        )
    )


async def history(db: asyncpg.Connection, tenant: str, claim_id: str) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT stream_version, event_id, event_type, occurred_at, payload, metadata FROM events "
            "WHERE stream_id = $1 AND tenant = $2 ORDER BY stream_version",
            claim_id,
            tenant,
        )
    )


async def remittance_files(db: asyncpg.Connection, tenant: str, remittance_ids: list[str]) -> dict[str, Any]:
    rows = await db.fetch(
        "SELECT stream_id, payload FROM events WHERE stream_id = ANY($1::text[]) AND tenant = $2 "
        "AND event_type = 'RemittanceReceived'",
        remittance_ids,
        tenant,
    )
    return {row["stream_id"]: row["payload"] for row in rows}


async def batch(db: asyncpg.Connection, tenant: str, batch_id: str) -> asyncpg.Record | None:
    return await db.fetchrow(
        "SELECT batch_id, payer_id, control_number, file_name, "
        "claim_ids, frequencies, sender_id, receiver_id, "
        "created_at, file_written_at FROM submission_batches WHERE tenant = $1 AND batch_id = $2",
        tenant,
        batch_id,
    )


async def latest_claim_file(db: asyncpg.Connection, tenant: str, claim_id: str) -> Sealed | None:
    value = await db.fetchval(
        "SELECT x12 FROM claim_submissions WHERE tenant = $1 AND claim_id = $2 "
        "ORDER BY submitted_at DESC, batch_id DESC LIMIT 1",
        tenant,
        claim_id,
    )
    return None if value is None else Sealed.model_validate(value)


async def unmatched(db: asyncpg.Connection, tenant: str, limit: int, offset: int) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT remittance_id, patient_control_number, payer_claim_control_number, claim_status_code, "
            "charge_cents, paid_cents, payer_name, received_at FROM unmatched_remittance_claims "
            "WHERE tenant = $1 ORDER BY received_at, remittance_id, "
            "patient_control_number LIMIT $2 OFFSET $3",
            tenant,
            limit,
            offset,
        )
    )


async def record_phi_read(
    db: asyncpg.Connection,
    tenant: str,
    claim_id: str,
    patient_id: str,
    *,
    actor: str,
    roles: list[str],
    access: str,
    correlation_id: str | None,
) -> None:
    await db.execute(
        "INSERT INTO claims_phi_reads (tenant, claim_id, patient_id, actor, roles, access, correlation_id) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        tenant,
        claim_id,
        patient_id,
        actor,
        roles,
        access,
        correlation_id,
    )


async def phi_reads(db: asyncpg.Connection, tenant: str, limit: int, after: int) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT seq, claim_id, patient_id, actor, roles, access, correlation_id, read_at "
            "FROM claims_phi_reads WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            tenant,
            after,
            limit,
        )
    )
