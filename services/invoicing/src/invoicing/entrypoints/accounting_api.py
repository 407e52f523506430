"""Patient accounting over HTTP: write-offs, refunds, payment plans and the statement run."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from billing_events.contracts.invoicing import RefundMethod, RefundReason, WriteOffParty, WriteOffReason
from billing_events.store import Session
from billing_service.auth import Principal, Role, require
from billing_service.commands import idempotent, metadata_from
from billing_service.problems import FieldError, invalid, not_found
from billing_service.runtime import runtime_of
from invoicing.adapters import accounting_queries as queries
from invoicing.adapters.projections import postgres_unit
from invoicing.application import accounting
from invoicing.domain.write_offs import PostWriteOff
from invoicing.entrypoints.api import MAX_PAYMENT_CENTS, _iso_text, parse_day
from invoicing.entrypoints.errors import domain_errors

router = APIRouter()

ACCOUNTANTS = Depends(require(Role.BILLER, Role.ADMIN))
PLAN_MAKERS = Depends(require(Role.BILLER, Role.FRONT_DESK, Role.ADMIN))
PLAN_READERS = Depends(require(Role.FRONT_DESK, Role.BILLER, Role.AUDITOR, Role.ADMIN))

# A late run may be dated back a little (a missed night), never into a past that statements have left.
MAX_RUN_DAYS_BACK = 31

IsoDate = Annotated[date, BeforeValidator(_iso_text)]


def _today() -> date:
    return datetime.now(UTC).date()


def _day_or_today(value: str | None, field: str) -> date:
    """An optional day of the request; not after tomorrow (the clinic's local date may be ahead of UTC)."""
    errors: list[FieldError] = []
    day = parse_day(value, field, errors, required=False)
    if day is not None and day > _today() + timedelta(days=1):
        errors.append(FieldError(field, "must not be in the future"))
    if errors:
        raise invalid(errors)
    return day or _today()


async def _known_patient(request: Request, tenant: str, patient_id: str) -> None:
    async with runtime_of(request).pool.acquire() as connection:
        if not await queries.patient_known(connection, tenant, patient_id):
            raise not_found("patient account")


class WriteOff(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: WriteOffReason
    amount_cents: StrictInt = Field(gt=0, le=MAX_PAYMENT_CENTS, description="Integer cents, above zero.")
    party: WriteOffParty = Field(
        "patient", description="Whose part of the balance: the patient's (default) or the payers'."
    )


@router.post("/invoices/{invoice_id}/write-offs", status_code=201, tags=["patient accounting"])
async def post_write_off(
    invoice_id: str,
    body: WriteOff,
    request: Request,
    principal: Annotated[Principal, ACCOUNTANTS],
) -> JSONResponse:
    """Write off part of what the patient (or the payers) owe on an invoice: small_balance, bad_debt,
    charity or administrative. Never more than that party owes (422 naming amount_cents)."""
    command = PostWriteOff(
        invoice_id=invoice_id,
        write_off_id=str(uuid.uuid4()),
        reason=body.reason,
        party=body.party,
        amount_cents=body.amount_cents,
        written_off_on=_today(),
    )

    async def action(session: Session) -> tuple[int, dict[str, Any]]:
        with domain_errors():
            state = await accounting.write_off(
                postgres_unit(session), metadata_from(request, principal), command
            )
        return 201, {
            "write_off_id": command.write_off_id,
            "invoice_id": invoice_id,
            "reason": command.reason,
            "party": command.party,
            "amount_cents": command.amount_cents,
            "written_off_on": command.written_off_on.isoformat(),
            "invoice_status": state.status,
            "balance_cents": state.balance_cents,
            "patient_responsibility_cents": state.patient_responsibility_cents,
        }

    return await idempotent(request, principal, action)


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_cents: StrictInt = Field(gt=0, le=MAX_PAYMENT_CENTS, description="Integer cents, above zero.")
    method: RefundMethod
    reason: RefundReason = "overpayment"


@router.post("/patients/{patient_id}/refunds", status_code=201, tags=["patient accounting"])
async def post_refund(
    patient_id: str,
    body: RefundRequest,
    request: Request,
    principal: Annotated[Principal, ACCOUNTANTS],
) -> JSONResponse:
    """Pay back the patient's unapplied credit (never more: 422). Credit an open invoice can take is
    applied first. Requires an Idempotency-Key (428 without): money never leaves twice."""
    await _known_patient(request, principal.tenant, patient_id)
    refund_id = str(uuid.uuid4())
    today = _today()

    async def action(session: Session) -> tuple[int, dict[str, Any]]:
        with domain_errors():
            account = await accounting.refund(
                postgres_unit(session),
                metadata_from(request, principal),
                patient_id,
                refund_id,
                body.amount_cents,
                body.method,
                body.reason,
                today,
            )
        return 201, {
            "refund_id": refund_id,
            "patient_id": patient_id,
            "amount_cents": body.amount_cents,
            "method": body.method,
            "reason": body.reason,
            "issued_on": today.isoformat(),
            "credit_cents": account.credit_cents,
        }

    return await idempotent(request, principal, action, key_required=True)


class PaymentPlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    monthly_amount_cents: StrictInt = Field(gt=0, le=MAX_PAYMENT_CENTS)
    first_due_on: IsoDate


@router.post("/patients/{patient_id}/payment-plans", status_code=201, tags=["patient accounting"])
async def post_payment_plan(
    patient_id: str,
    body: PaymentPlanRequest,
    request: Request,
    principal: Annotated[Principal, PLAN_MAKERS],
) -> JSONResponse:
    """A monthly plan over what the patient owes today. One active plan at a time (409)."""
    await _known_patient(request, principal.tenant, patient_id)
    plan_id = str(uuid.uuid4())
    today = _today()

    async def action(session: Session) -> tuple[int, dict[str, Any]]:
        with domain_errors():
            account = await accounting.create_payment_plan(
                postgres_unit(session),
                metadata_from(request, principal),
                patient_id,
                plan_id,
                body.monthly_amount_cents,
                body.first_due_on,
                today,
            )
        plan = next(p for p in account.plans if p.plan_id == plan_id)
        return 201, {
            "plan_id": plan_id,
            "patient_id": patient_id,
            "total_cents": plan.total_cents,
            "monthly_amount_cents": plan.monthly_amount_cents,
            "installments": [i.model_dump(mode="json") for i in plan.installments],
        }

    return await idempotent(request, principal, action)


@router.get("/patients/{patient_id}/payment-plans/{plan_id}", tags=["patient accounting"])
async def get_payment_plan(
    patient_id: str,
    plan_id: str,
    request: Request,
    principal: Annotated[Principal, PLAN_READERS],
    as_of: str | None = None,
) -> Any:
    """The plan, what was paid toward it and which installments are missed as of a day (today)."""
    day = _day_or_today(as_of, "as_of")
    async with runtime_of(request).pool.acquire() as connection:
        found = await queries.payment_plan(connection, principal.tenant, patient_id, plan_id, day)
    if found is None:
        raise not_found("payment plan")
    return found


@router.post("/statements/run", tags=["patient accounting"])
async def run_statements(
    request: Request,
    principal: Annotated[Principal, ACCOUNTANTS],
    as_of: str | None = None,
) -> Any:
    """The statement cycle for every patient who owes something (or whose cycle or plan is open), as of a
    day (today): first statements, 30/60/90-day reminders, and the end of cycles that are paid. Each
    patient in their own transaction; running it again for the same day issues nothing twice."""
    day = _day_or_today(as_of, "as_of")
    if day < _today() - timedelta(days=MAX_RUN_DAYS_BACK):
        raise invalid([FieldError("as_of", f"must be within {MAX_RUN_DAYS_BACK} days before today")])
    runtime = runtime_of(request)
    async with runtime.pool.acquire() as connection:
        patients = await queries.patients_to_dun(connection, principal.tenant)
    with domain_errors():
        run = await accounting.run_statements(
            runtime.store, postgres_unit, metadata_from(request, principal), patients, day
        )
    return {
        "as_of": day.isoformat(),
        "patients": run.patients,
        "statements_issued": run.statements_issued,
        "statements_by_cycle": {
            str(cycle): count for cycle, count in sorted(run.statements_by_cycle.items())
        },
        "cycles_ended": run.cycles_ended,
        "plans_completed": run.plans_completed,
    }
