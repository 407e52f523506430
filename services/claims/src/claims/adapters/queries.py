"""Read side of the API: the claims table and the service's own log, always within one tenant."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

from billing_events.contracts.base import Sealed
from billing_service.pages import Keyset, Page, PageRequest

CLAIM_COLUMNS = (
    "claim_id, tenant, seq, invoice_id, encounter_id, patient_id, "
    "coverage_id, payer_id, billing_provider_id, "
    "rendering_provider_id, patient_control_number, service_date, "
    "total_charge_cents, status, pending_frequency, "
    "findings, payer_claim_control_number, paid_cents, patient_responsibility_cents, adjudication, "
    "last_batch_id, version, created_at, updated_at, sequence, predecessor_claim_id, kind"
)
FILTERS = ("invoice_id", "encounter_id", "patient_id", "payer_id", "status")

# The lists of the API and the keys they are read in: claims by `seq`, unmatched remittance claims by
# arrival (ties by the table's primary key, so that every row has one place).
CLAIMS = Keyset("claims.claims")
DENIALS = Keyset("claims.denials")
PHI_READS = Keyset("claims.phi_reads")
CROSSOVERS_OVERDUE = Keyset("claims.crossovers_overdue")
UNMATCHED = Keyset("claims.unmatched_remittance_claims", (datetime, str, str, str))


def _seq(row: asyncpg.Record) -> tuple[int]:
    return (row["seq"],)


def claim_summary(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "claim_id": row["claim_id"],
        "status": row["status"],
        "invoice_id": row["invoice_id"],
        "encounter_id": row["encounter_id"],
        "patient_id": row["patient_id"],
        "coverage_id": row["coverage_id"],
        "payer_id": row["payer_id"],
        "sequence": row["sequence"],
        "kind": row["kind"],
        "predecessor_claim_id": row["predecessor_claim_id"],
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
    db: asyncpg.Connection, tenant: str, filters: dict[str, str], page: PageRequest
) -> Page[asyncpg.Record]:
    clauses = ["tenant = $1", "seq > $2"]
    args: list[Any] = [tenant, page.position]
    for name in FILTERS:
        if filters.get(name):
            args.append(filters[name])
            clauses.append(f"{name} = ${len(args)}")
    args.append(page.fetch)
    where = " AND ".join(clauses)
    rows = await db.fetch(
        f"SELECT {CLAIM_COLUMNS} FROM claims WHERE {where} ORDER BY seq LIMIT ${len(args)}", *args
    )
    return page.page(rows, _seq)


async def denied_claims(db: asyncpg.Connection, tenant: str, page: PageRequest) -> Page[asyncpg.Record]:
    rows = await db.fetch(
        f"SELECT {CLAIM_COLUMNS} FROM claims WHERE tenant = $1 AND seq > $2 AND adjudication IS NOT NULL "
        "AND status IN ('denied', 'partially_paid', 'paid', "
        "'closed', 'resubmitted') ORDER BY seq LIMIT $3",
        tenant,
        page.position,
        page.fetch,
    )
    return page.page(rows, _seq)


async def overdue_crossovers(
    db: asyncpg.Connection, tenant: str, forwarded_by: date, page: PageRequest
) -> Page[asyncpg.Record]:
    """Claims whose payer forwarded them (a crossover) on or before `forwarded_by` and whose next
    payer has not answered: no claim after it carries an answer yet."""
    rows = await db.fetch(
        f"SELECT {CLAIM_COLUMNS} FROM claims c WHERE c.tenant = $1 AND c.seq > $2 "
        "AND c.adjudication IS NOT NULL AND coalesce((c.adjudication->>'crossover')::boolean, false) "
        "AND (c.adjudication->>'adjudicated_on')::date <= $3 AND c.status <> 'voided' "
        "AND NOT EXISTS (SELECT 1 FROM claims s WHERE s.tenant = c.tenant "
        "AND s.predecessor_claim_id = c.claim_id AND s.adjudication IS NOT NULL) "
        "ORDER BY c.seq LIMIT $4",
        tenant,
        page.position,
        forwarded_by,
        page.fetch,
    )
    return page.page(rows, _seq)


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


def _arrival(row: asyncpg.Record) -> tuple[datetime, str, str, str]:
    return (row["received_at"], row["remittance_id"], row["patient_control_number"], row["claim_status_code"])


async def unmatched(db: asyncpg.Connection, tenant: str, page: PageRequest) -> Page[asyncpg.Record]:
    after = page.after or (None, None, None, None)
    rows = await db.fetch(
        "SELECT remittance_id, patient_control_number, payer_claim_control_number, claim_status_code, "
        "charge_cents, paid_cents, payer_name, received_at FROM unmatched_remittance_claims "
        "WHERE tenant = $1 AND matched_claim_id IS NULL AND ($2::timestamptz IS NULL "
        "OR (received_at, remittance_id, patient_control_number, claim_status_code) > ($2, $3, $4, $5)) "
        "ORDER BY received_at, remittance_id, patient_control_number, claim_status_code LIMIT $6",
        tenant,
        *after,
        page.fetch,
    )
    return page.page(rows, _arrival)


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


async def phi_reads(db: asyncpg.Connection, tenant: str, page: PageRequest) -> Page[asyncpg.Record]:
    rows = await db.fetch(
        "SELECT seq, claim_id, patient_id, actor, roles, access, correlation_id, read_at "
        "FROM claims_phi_reads WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        tenant,
        page.position,
        page.fetch,
    )
    return page.page(list(rows), _seq)


PROVIDER_ADJUSTMENTS = Keyset("claims.provider_adjustments", (str, str, int))


def _ledger_key(row: asyncpg.Record) -> tuple[str, str, int]:
    return (row["payment_date"].isoformat(), row["remittance_id"], row["item"])


async def provider_adjustments(
    db: asyncpg.Connection, tenant: str, start: date, end: date, page: PageRequest
) -> Page[asyncpg.Record]:
    """The provider-level ledger (835 PLB reasons) paid within [start, end], by payment date."""
    after = page.after or (None, None, None)
    rows = await db.fetch(
        "SELECT * FROM provider_adjustments WHERE tenant = $1 AND payment_date BETWEEN $2 AND $3 "
        "AND ($4::text IS NULL OR (payment_date::text, remittance_id, item) > ($4, $5, $6)) "
        "ORDER BY payment_date, remittance_id, item LIMIT $7",
        tenant,
        start,
        end,
        *after,
        page.fetch,
    )
    return page.page(rows, _ledger_key)


async def provider_adjustment_totals(
    db: asyncpg.Connection, tenant: str, start: date, end: date
) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT reason_code, sum(amount_cents)::bigint AS amount_cents, count(*) AS items "
            "FROM provider_adjustments WHERE tenant = $1 AND payment_date BETWEEN $2 AND $3 "
            "GROUP BY reason_code ORDER BY reason_code",
            tenant,
            start,
            end,
        )
    )


async def remittance(db: asyncpg.Connection, tenant: str, remittance_id: str) -> dict[str, Any] | None:
    """The payment as received (RemittanceReceived) and the held claim payments matched since."""
    rows = await db.fetch(
        "SELECT event_type, payload FROM events WHERE stream_id = $1 AND tenant = $2 ORDER BY stream_version",
        remittance_id,
        tenant,
    )
    summary = next((r for r in rows if r["event_type"] == "RemittanceReceived"), None)
    if summary is None:
        return None  # not received yet (or not a remittance)
    received: dict[str, Any] = dict(summary["payload"])
    # A large remittance's lists travel in RemittanceClaimsListed parts before the summary.
    for part in (r["payload"] for r in rows if r["event_type"] == "RemittanceClaimsListed"):
        received["matched_claim_ids"] = [*received.get("matched_claim_ids", []), *part["matched_claim_ids"]]
        received["unmatched_patient_control_numbers"] = [
            *received.get("unmatched_patient_control_numbers", []),
            *part["unmatched_patient_control_numbers"],
        ]
        received["held_claims"] = [*received.get("held_claims", []), *part.get("held_claims", [])]
    received["matches"] = [dict(r["payload"]) for r in rows if r["event_type"] == "RemittanceClaimMatched"]
    return received
