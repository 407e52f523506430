"""The reads of patient accounting: payment plans with their standing, the patients a statement run
visits, the facts a printed statement shows. Always within the caller's tenant."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg

from billing_events.contracts.base import Sealed
from billing_events.contracts.invoicing import Installment
from invoicing.adapters.statement_pdf import (
    DEFAULT_FINANCIAL_ASSISTANCE_NOTICE,
    PayerPart,
    PlanSummary,
    PrintedStatement,
    StatementItem,
    WriteOffPart,
)
from invoicing.domain import payment_plans
from invoicing.domain.patient_account import STATEMENT_DUE_DAYS
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


async def tenants_to_dun(connection: asyncpg.Connection) -> list[str]:
    """Tenants with a patient who owes something or whose statement cycle is open."""
    rows = await connection.fetch(
        "SELECT tenant FROM invoicing_invoices WHERE patient_responsibility_cents > 0 "
        "UNION SELECT tenant FROM invoicing_patient_accounts WHERE document->>'cycle_started_on' IS NOT NULL "
        "ORDER BY tenant"
    )
    return [r["tenant"] for r in rows]


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


def financial_assistance_notice(tenant: str) -> str | None:
    """The notice a statement carries. Every tenant gets the generic one until its financial-assistance
    policy (IRC 501(r): plain-language summary on billing statements) gives its own wording."""
    return DEFAULT_FINANCIAL_ASSISTANCE_NOTICE


async def printable_statement(
    connection: asyncpg.Connection, tenant: str, patient_id: str, today: date
) -> PrintedStatement | None:
    """What the printed statement shows: each invoice the patient owes on, with what every payer paid
    and adjusted, write-offs, what the patient paid and owes; their credit and payment plan."""
    if not await patient_known(connection, tenant, patient_id):
        return None
    rows = await connection.fetch(
        "SELECT i.document, p.name AS payer_name, i.payer_id FROM invoicing_invoices i "
        "LEFT JOIN invoicing_payers p ON p.tenant = i.tenant AND p.payer_id = i.payer_id "
        "WHERE i.tenant = $1 AND i.patient_id = $2 AND i.patient_responsibility_cents > 0 "
        "ORDER BY i.service_date, i.first_position",
        tenant,
        patient_id,
    )
    names = {
        r["payer_id"]: r["name"]
        for r in await connection.fetch(
            "SELECT payer_id, name FROM invoicing_payers WHERE tenant = $1 AND payer_id = ANY($2::text[])",
            tenant,
            list({p["payer_id"] for r in rows for p in r["document"]["by_payer"]}),
        )
    }
    items = tuple(_statement_item(dict(r["document"]), names) for r in rows)
    account = await _account(connection, tenant, patient_id) or {}
    plan = await active_plan(connection, tenant, patient_id, today)
    return PrintedStatement(
        patient_id=patient_id,
        statement_date=today,
        due_date=today + timedelta(days=STATEMENT_DUE_DAYS),
        items=items,
        amount_due_cents=sum(item.owed_cents for item in items),
        credit_cents=int(account.get("credit_cents", 0)),
        plan=_plan_summary(plan) if plan else None,
        financial_assistance_notice=financial_assistance_notice(tenant),
    )


def _statement_item(document: dict[str, Any], payer_names: dict[str, str]) -> StatementItem:
    return StatementItem(
        invoice_id=document["invoice_id"],
        service_date=date.fromisoformat(document["service_date"]),
        charge_cents=int(document["total_charge_cents"]),
        payers=tuple(
            PayerPart(
                payer_names.get(p["payer_id"], "Your insurance"),
                p["sequence"],
                int(p["paid_cents"]),
                int(p["adjustment_cents"]),
            )
            for p in document["by_payer"]
        ),
        adjustment_cents=int(document["adjustment_cents"]),
        write_offs=tuple(
            WriteOffPart(w["reason"], int(w["amount_cents"])) for w in document.get("write_offs", [])
        ),
        patient_paid_cents=int(document["patient_paid_cents"]),
        insurance_pending_cents=int(document["insurance_balance_cents"]),
        owed_cents=int(document["patient_responsibility_cents"]),
    )


def _plan_summary(plan: dict[str, Any]) -> PlanSummary:
    upcoming = plan.get("next_installment")
    return PlanSummary(
        monthly_amount_cents=int(plan["monthly_amount_cents"]),
        next_due_on=date.fromisoformat(upcoming["due_on"]) if upcoming else None,
        next_amount_cents=int(upcoming["amount_cents"]) if upcoming else 0,
        missed_installments=len(plan["missed_installments"]),
    )


async def sealed_name_and_address(
    connection: asyncpg.Connection, tenant: str, patient_id: str
) -> tuple[Sealed | None, Sealed | None]:
    row = await connection.fetchrow(
        "SELECT name, address FROM invoicing_patients WHERE tenant = $1 AND patient_id = $2",
        tenant,
        patient_id,
    )
    if row is None:
        return None, None
    return (
        Sealed.model_validate(row["name"]) if row["name"] else None,
        Sealed.model_validate(row["address"]) if row["address"] else None,
    )
