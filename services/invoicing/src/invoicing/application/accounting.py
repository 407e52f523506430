"""Patient accounting: write-offs, the patient's credit, refunds, payment plans and the statement cycle.

Commands and policies like those in handlers.py (load, decide, append, save the read models through
streams.py), kept apart because they act on the patient's side of many invoices at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from billing_events.contracts.invoicing import (
    PatientCreditReleased,
    PatientCreditUsed,
    PatientStatementIssued,
    RefundMethod,
    RefundReason,
)
from billing_events.envelope import Metadata
from billing_events.store import EventStore, Session
from invoicing.application.ports import Unit
from invoicing.application.streams import load_account, on_account, on_invoice
from invoicing.domain import dunning, ids, payment_plans
from invoicing.domain.credits import ApplyPatientCredit, ReleasePatientCredit
from invoicing.domain.invoice import InvoiceState
from invoicing.domain.patient_account import (
    AddCredit,
    CompletePaymentPlan,
    CreatePaymentPlan,
    EndDunningCycle,
    IssueRefund,
    IssueStatement,
    PatientAccountState,
    UseCredit,
    plan_payments,
)
from invoicing.domain.write_offs import PostWriteOff

log = logging.getLogger(__name__)


# Write-offs.


async def write_off(unit: Unit, metadata: Metadata, command: PostWriteOff) -> InvoiceState:
    """Post a write-off to the invoice's ledger (the domain bounds it by what the party owes)."""
    outcome = await on_invoice(unit, command.invoice_id, command, metadata)
    if outcome.events and command.party == "patient":
        await after_patient_balance_fell(unit, metadata, outcome.after.patient_id, command.written_off_on)
    return outcome.after


# Credit.


async def settle_patient_credit(unit: Unit, metadata: Metadata, patient_id: str, on: date) -> int:
    """Policy: move every overpayment of the patient's to their account, then apply the account's
    credit to their open invoices, oldest first. Returns the credit applied."""
    tenant = metadata.tenant
    candidates = await unit.views.credit_candidates(tenant, patient_id)
    if candidates.credit_cents <= 0 and not candidates.releasable_invoice_ids:
        return 0  # the common case, answered by one query
    for invoice_id in candidates.releasable_invoice_ids:
        released = await on_invoice(unit, invoice_id, ReleasePatientCredit(invoice_id, on), metadata)
        for event in released.events:
            if isinstance(event, PatientCreditReleased):
                add = AddCredit(patient_id, event.credit_id, invoice_id, event.amount_cents, on)
                await on_account(unit, patient_id, add, metadata)
    items = await unit.views.open_items(tenant, patient_id)
    if not items:
        return 0
    used = await on_account(unit, patient_id, UseCredit(patient_id, tuple(items), on), metadata)
    applied = 0
    for event in used.events:
        if isinstance(event, PatientCreditUsed):
            command = ApplyPatientCredit(event.invoice_id, event.credit_id, event.amount_cents, on)
            await on_invoice(unit, event.invoice_id, command, metadata)
            applied += event.amount_cents
    if applied:
        await after_patient_balance_fell(unit, metadata, patient_id, on)
    return applied


async def refund(
    unit: Unit,
    metadata: Metadata,
    patient_id: str,
    refund_id: str,
    amount_cents: int,
    method: RefundMethod,
    reason: RefundReason,
    on: date,
) -> PatientAccountState:
    """Pay back unapplied credit. Credit that an open invoice can take is applied first: a refund is
    never of money the patient still owes."""
    await settle_patient_credit(unit, metadata, patient_id, on)
    command = IssueRefund(patient_id, refund_id, amount_cents, method, reason, on)
    return (await on_account(unit, patient_id, command, metadata)).after


# Payment plans.


async def create_payment_plan(
    unit: Unit,
    metadata: Metadata,
    patient_id: str,
    plan_id: str,
    monthly_amount_cents: int,
    first_due_on: date,
    on: date,
) -> PatientAccountState:
    """A plan over what the patient owes today (the sum of their open items)."""
    items = await unit.views.open_items(metadata.tenant, patient_id)
    balance = sum(item.amount_cents for item in items)
    command = CreatePaymentPlan(patient_id, plan_id, monthly_amount_cents, first_due_on, balance, on)
    return (await on_account(unit, patient_id, command, metadata)).after


async def after_patient_balance_fell(unit: Unit, metadata: Metadata, patient_id: str, on: date) -> None:
    """Policy: when the patient owes nothing any more, the statement cycle ends and an active payment
    plan completes."""
    items = await unit.views.open_items(metadata.tenant, patient_id)
    if sum(item.amount_cents for item in items) > 0:
        return
    account = await load_account(unit, metadata.tenant, patient_id)
    if account.active_plan is not None:
        await on_account(unit, patient_id, CompletePaymentPlan(patient_id, on), metadata)
    if account.cycle_started_on is not None:
        await on_account(unit, patient_id, EndDunningCycle(patient_id, on), metadata)


# The statement cycle.


@dataclass(frozen=True)
class DunningResult:
    statement: PatientStatementIssued | None = None
    cycle_ended: bool = False
    plan_completed: bool = False


async def run_statement_cycle(unit: Unit, metadata: Metadata, patient_id: str, as_of: date) -> DunningResult:
    """One patient's turn of the statement run on `as_of`: a first statement for a balance nobody was
    asked for yet, the 30/60/90-day reminder that has come due, or the end of the cycle when nothing is
    due. A patient keeping to a payment plan gets no reminders. Running it again changes nothing."""
    tenant = metadata.tenant
    items = await unit.views.open_items(tenant, patient_id)
    account = await load_account(unit, tenant, patient_id)
    if sum(item.amount_cents for item in items) <= 0:
        ended = account.cycle_started_on is not None
        completed = account.active_plan is not None
        await after_patient_balance_fell(unit, metadata, patient_id, as_of)
        return DunningResult(cycle_ended=ended, plan_completed=completed)
    if account.statements and as_of < max(s.statement_date for s in account.statements):
        return DunningResult()  # a run for a day before the last statement sends nothing dated back
    plan = account.active_plan
    if plan is not None:
        standing = payment_plans.standing(plan.installments, plan.created_on, plan_payments(account), as_of)
        if standing.current:
            return DunningResult()
    if account.cycle_started_on is None:
        statement_id = ids.account_event_id(
            tenant, patient_id, "statement", "cycle", str(len(account.statements))
        )
        command = IssueStatement(statement_id, patient_id, as_of, tuple(items))
    else:
        reminder = dunning.reminder_due(account.cycle_started_on, account.cycle, as_of)
        if reminder is None:
            return DunningResult()
        statement_id = ids.account_event_id(
            tenant, patient_id, "statement", account.cycle_started_on.isoformat(), str(reminder)
        )
        command = IssueStatement(statement_id, patient_id, as_of, tuple(items), cycle=reminder)
    outcome = await on_account(unit, patient_id, command, metadata)
    issued = [e for e in outcome.events if isinstance(e, PatientStatementIssued)]
    return DunningResult(statement=issued[0] if issued else None)


@dataclass(frozen=True)
class StatementRun:
    as_of: date
    patients: int
    statements_by_cycle: dict[int, int]
    cycles_ended: int
    plans_completed: int

    @property
    def statements_issued(self) -> int:
        return sum(self.statements_by_cycle.values())


async def run_statements(
    store: EventStore,
    unit_for: Callable[[Session], Unit],
    metadata: Metadata,
    patients: Sequence[str],
    as_of: date,
) -> StatementRun:
    """The statement cycle for each patient, each in their own transaction: a failure or a conflict
    stops one patient's turn, never the others' (the next run picks it up)."""
    issued: dict[int, int] = {}
    ended = completed = 0
    for patient_id in patients:
        async with store.session() as session:
            result = await run_statement_cycle(unit_for(session), metadata, patient_id, as_of)
        if result.statement is not None and result.statement.cycle is not None:
            issued[result.statement.cycle] = issued.get(result.statement.cycle, 0) + 1
        ended += result.cycle_ended
        completed += result.plan_completed
    return StatementRun(as_of, len(patients), issued, ended, completed)
