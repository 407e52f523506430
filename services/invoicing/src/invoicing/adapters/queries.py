"""The API's reads: straight from the read models, always within the caller's tenant."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from billing_service.pages import Keyset, Page, PageRequest

# Invoices are listed in issue order: the position of the invoice's first event.
INVOICES = Keyset("invoicing.invoices")

_INVOICE = (
    "SELECT i.first_position, i.document, p.name AS payer_name FROM invoicing_invoices i "
    "LEFT JOIN invoicing_payers p ON p.tenant = i.tenant AND p.payer_id = i.payer_id "
)


def _with_payer(row: asyncpg.Record) -> dict[str, Any]:
    document: dict[str, Any] = dict(row["document"])
    document["payer_name"] = row["payer_name"]
    return document


async def invoice(connection: asyncpg.Connection, tenant: str, invoice_id: str) -> dict[str, Any] | None:
    row = await connection.fetchrow(
        f"{_INVOICE} WHERE i.tenant = $1 AND i.invoice_id = $2", tenant, invoice_id
    )
    return _with_payer(row) if row else None


async def invoices(
    connection: asyncpg.Connection,
    tenant: str,
    *,
    encounter_id: str | None,
    patient_id: str | None,
    status: str | None,
    page: PageRequest,
) -> Page[dict[str, Any]]:
    conditions = ["i.tenant = $1", "i.first_position > $2"]
    arguments: list[Any] = [tenant, page.position]
    for column, value in (("encounter_id", encounter_id), ("patient_id", patient_id), ("status", status)):
        if value is not None:
            arguments.append(value)
            conditions.append(f"i.{column} = ${len(arguments)}")
    arguments.append(page.fetch)
    rows = await connection.fetch(
        f"{_INVOICE} WHERE {' AND '.join(conditions)} ORDER BY i.first_position LIMIT ${len(arguments)}",
        *arguments,
    )
    return page.page(rows, lambda row: (row["first_position"],)).map(_with_payer)


async def fee_schedules(connection: asyncpg.Connection, tenant: str) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT fee_schedule_id, name, effective_from, row_count, imported_at FROM invoicing_fee_schedules "
        "WHERE tenant = $1 ORDER BY name, effective_from",
        tenant,
    )
    schedules: dict[str, dict[str, Any]] = {}
    for row in rows:
        schedule = schedules.setdefault(
            row["fee_schedule_id"],
            {"fee_schedule_id": row["fee_schedule_id"], "name": row["name"], "versions": []},
        )
        schedule["versions"].append(
            {
                "effective_from": row["effective_from"].isoformat(),
                "row_count": row["row_count"],
                "imported_at": row["imported_at"].isoformat(),
            }
        )
    return list(schedules.values())


async def fee_schedule(
    connection: asyncpg.Connection, tenant: str, name: str, on: date | None
) -> dict[str, Any] | None:
    """One schedule's version in effect on `on` (its latest when not given), with its rows."""
    row = await connection.fetchrow(
        "SELECT fee_schedule_id, name, effective_from, rows, imported_at FROM invoicing_fee_schedules "
        "WHERE tenant = $1 AND name = $2 AND ($3::date IS NULL OR effective_from <= $3) "
        "ORDER BY effective_from DESC LIMIT 1",
        tenant,
        name,
        on,
    )
    if row is None:
        return None
    return {
        "fee_schedule_id": row["fee_schedule_id"],
        "name": row["name"],
        "effective_from": row["effective_from"].isoformat(),
        "imported_at": row["imported_at"].isoformat(),
        "rows": row["rows"],
    }


async def statement(connection: asyncpg.Connection, tenant: str, patient_id: str) -> dict[str, Any] | None:
    """What the patient owes now (open items), their credit, and the statements and payments so far."""
    items = await connection.fetch(
        "SELECT invoice_id, encounter_id, service_date, status, total_charge_cents, paid_cents, "
        "adjustment_cents, patient_responsibility_cents, balance_cents FROM invoicing_invoices "
        "WHERE tenant = $1 AND patient_id = $2 AND patient_responsibility_cents > 0 ORDER BY first_position",
        tenant,
        patient_id,
    )
    account = await connection.fetchrow(
        "SELECT document FROM invoicing_patient_accounts WHERE tenant = $1 AND patient_id = $2",
        tenant,
        patient_id,
    )
    if account is None:
        known = await connection.fetchval(
            "SELECT true FROM invoicing_invoices WHERE tenant = $1 AND patient_id = $2 LIMIT 1",
            tenant,
            patient_id,
        )
        if not known:
            return None
    history: dict[str, Any] = account["document"] if account else {}
    amount_due = sum(int(r["patient_responsibility_cents"]) for r in items)
    credit = int(history.get("credit_cents", 0))
    return {
        "patient_id": patient_id,
        "amount_due_cents": amount_due,
        "credit_cents": credit,
        "net_due_cents": max(amount_due - credit, 0),
        "open_items": [
            {
                "invoice_id": r["invoice_id"],
                "encounter_id": r["encounter_id"],
                "service_date": r["service_date"].isoformat(),
                "status": r["status"],
                "total_charge_cents": r["total_charge_cents"],
                "paid_cents": r["paid_cents"],
                "adjustment_cents": r["adjustment_cents"],
                "patient_responsibility_cents": r["patient_responsibility_cents"],
                "balance_cents": r["balance_cents"],
            }
            for r in items
        ],
        "statements": list(reversed(history.get("statements", []))),
        "payments": list(reversed(history.get("payments", []))),
    }
