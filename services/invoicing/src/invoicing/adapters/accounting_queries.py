"""The reads of patient accounting: payment plans with their standing, the patients a statement run
visits, the facts a printed statement shows. Always within the caller's tenant."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from billing_events.contracts.invoicing import Installment
from invoicing.domain import payment_plans
from invoicing.domain.payment_plans import PlanPayment


async def patient_known(connection: asyncpg.Connection, tenant: str, patient_id: str) -> bool:
    return bool(
        await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM invoicing_invoices WHERE tenant = $1 AND patient_id = $2) "
            "OR EXISTS (SELECT 1 FROM invoicing_patient_accounts WHERE tenant = $1 AND patient_id = $2)",
            tenant,
            patient_id,
        )
    )


async def patients_to_dun(connection: asyncpg.Connection, tenant: str) -> list[str]:
    """Patients who owe something, or whose statement cycle or payment plan is still open."""
    rows = await connection.fetch(
        "SELECT patient_id FROM invoicing_invoices WHERE tenant = $1 AND patient_responsibility_cents > 0 "
        "UNION SELECT patient_id FROM invoicing_patient_accounts WHERE tenant = $1 AND ("
        "document->>'cycle_started_on' IS NOT NULL OR EXISTS (SELECT 1 FROM "
        "jsonb_array_elements(coalesce(document->'payment_plans', '[]'::jsonb)) plan "
        "WHERE plan->>'completed_on' IS NULL)) ORDER BY patient_id",
        tenant,
    )
    return [r["patient_id"] for r in rows]


def plan_with_standing(plan: dict[str, Any], payments: list[dict[str, Any]], as_of: date) -> dict[str, Any]:
    """A stored plan with where it stands on `as_of` (domain/payment_plans.py decides)."""
    installments = [Installment.model_validate(i) for i in plan["installments"]]
    standing = payment_plans.standing(
        installments,
        date.fromisoformat(plan["created_on"]),
        [PlanPayment(date.fromisoformat(p["received_on"]), int(p["amount_cents"])) for p in payments],
        as_of,
    )
    next_installment = standing.next_installment
    return {
        **plan,
        "status": "completed" if plan.get("completed_on") else "active",
        "as_of": as_of.isoformat(),
        "paid_cents": standing.paid_cents,
        "due_to_date_cents": standing.due_to_date_cents,
        "missed_installments": list(standing.missed_installments),
        "missed": bool(standing.missed_installments) and not plan.get("completed_on"),
        "next_installment": next_installment.model_dump(mode="json") if next_installment else None,
    }


async def _account(connection: asyncpg.Connection, tenant: str, patient_id: str) -> dict[str, Any] | None:
    row = await connection.fetchrow(
        "SELECT document FROM invoicing_patient_accounts WHERE tenant = $1 AND patient_id = $2",
        tenant,
        patient_id,
    )
    return dict(row["document"]) if row else None


async def payment_plan(
    connection: asyncpg.Connection, tenant: str, patient_id: str, plan_id: str, as_of: date
) -> dict[str, Any] | None:
    account = await _account(connection, tenant, patient_id)
    if account is None:
        return None
    plan = next((p for p in account.get("payment_plans", []) if p["plan_id"] == plan_id), None)
    if plan is None:
        return None
    return {"patient_id": patient_id, **plan_with_standing(plan, account.get("payments", []), as_of)}


async def active_plan(
    connection: asyncpg.Connection, tenant: str, patient_id: str, as_of: date
) -> dict[str, Any] | None:
    account = await _account(connection, tenant, patient_id)
    if account is None:
        return None
    plan = next((p for p in account.get("payment_plans", []) if not p.get("completed_on")), None)
    return plan_with_standing(plan, account.get("payments", []), as_of) if plan else None
