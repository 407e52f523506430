"""The PatientAccount aggregate: what the patient was asked for, paid, was credited and agreed to pay.

What a patient owes on each invoice lives in the invoices' ledgers; a statement is a dated demand for
the sum of those open items. A payment is applied to one invoice up to its balance (the invoice
decides how much) and whatever is left over is credit on the account. The account also keeps the
credit moved to and from invoices (domain/credits.py), refunds, payment plans
(domain/payment_plans.py) and the statement cycle (domain/dunning.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from billing_events.contracts.base import Event
from billing_events.contracts.invoicing import (
    DunningCycleEnded,
    Installment,
    PatientCreditAdded,
    PatientCreditUsed,
    PatientPaymentReceived,
    PatientRefundIssued,
    PatientStatementIssued,
    PaymentPlanCompleted,
    PaymentPlanCreated,
    RefundMethod,
    RefundReason,
)
from billing_events.decider import Decider
from invoicing.domain import credits, ids, payment_plans
from invoicing.domain.errors import FieldError, InvalidInput, PaymentPlanActive

STATEMENT_DUE_DAYS = 30


@dataclass(frozen=True)
class OpenItem:
    invoice_id: str
    amount_cents: int
    service_date: date | None = None


@dataclass(frozen=True)
class IssueStatement:
    """A statement of the open items. Without `cycle` it is a demand caused by a new balance (cycle 0
    when no cycle runs, else part of the running one); with it, the dunning run's reminder."""

    statement_id: str
    patient_id: str
    statement_date: date
    open_items: tuple[OpenItem, ...]
    cycle: int | None = None


@dataclass(frozen=True)
class RecordPayment:
    payment_id: str
    patient_id: str
    invoice_id: str
    amount_cents: int
    applied_cents: int
    method: str
    received_on: date


@dataclass(frozen=True)
class AddCredit:
    patient_id: str
    credit_id: str
    invoice_id: str
    amount_cents: int
    added_on: date


@dataclass(frozen=True)
class UseCredit:
    """Apply the account's credit to these open items (domain/credits.py decides the split)."""

    patient_id: str
    open_items: tuple[OpenItem, ...]
    used_on: date


@dataclass(frozen=True)
class IssueRefund:
    patient_id: str
    refund_id: str
    amount_cents: int
    method: RefundMethod
    reason: RefundReason
    issued_on: date


@dataclass(frozen=True)
class CreatePaymentPlan:
    patient_id: str
    plan_id: str
    monthly_amount_cents: int
    first_due_on: date
    balance_cents: int
    created_on: date


@dataclass(frozen=True)
class CompletePaymentPlan:
    patient_id: str
    completed_on: date


@dataclass(frozen=True)
class EndDunningCycle:
    patient_id: str
    ended_on: date


Command = (
    IssueStatement
    | RecordPayment
    | AddCredit
    | UseCredit
    | IssueRefund
    | CreatePaymentPlan
    | CompletePaymentPlan
    | EndDunningCycle
)


@dataclass(frozen=True)
class Statement:
    statement_id: str
    statement_date: date
    due_date: date
    amount_due_cents: int
    invoice_ids: tuple[str, ...]
    cycle: int | None = None


@dataclass(frozen=True)
class Payment:
    payment_id: str
    invoice_id: str
    amount_cents: int
    applied_cents: int
    credit_cents: int
    method: str
    received_on: date


@dataclass(frozen=True)
class CreditMove:
    """Credit that came to the account from an invoice (+) or went from it to one (-)."""

    credit_id: str
    invoice_id: str
    amount_cents: int
    on: date


@dataclass(frozen=True)
class Refund:
    refund_id: str
    amount_cents: int
    method: str
    reason: str
    issued_on: date


@dataclass(frozen=True)
class PaymentPlan:
    plan_id: str
    monthly_amount_cents: int
    first_due_on: date
    total_cents: int
    installments: tuple[Installment, ...]
    created_on: date
    completed_on: date | None = None

    @property
    def active(self) -> bool:
        return self.completed_on is None


@dataclass(frozen=True)
class PatientAccountState:
    patient_id: str | None = None
    statements: tuple[Statement, ...] = ()
    payments: tuple[Payment, ...] = ()
    credit_moves: tuple[CreditMove, ...] = ()
    refunds: tuple[Refund, ...] = ()
    plans: tuple[PaymentPlan, ...] = ()
    # The running statement cycle: its first statement's date and the last cycle number sent.
    cycle_started_on: date | None = None
    cycle: int = 0
    # Each invoice's first statement (IRC 501(r) counts from it), in the order they were first billed.
    first_statements: tuple[tuple[str, date], ...] = ()

    @property
    def credit_cents(self) -> int:
        """Credit not yet applied nor refunded."""
        return (
            sum(p.credit_cents for p in self.payments)
            + sum(m.amount_cents for m in self.credit_moves)
            - sum(r.amount_cents for r in self.refunds)
        )

    @property
    def received_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments)

    @property
    def refunded_cents(self) -> int:
        return sum(r.amount_cents for r in self.refunds)

    @property
    def active_plan(self) -> PaymentPlan | None:
        return next((plan for plan in self.plans if plan.active), None)

    def first_statement_on(self, invoice_id: str) -> date | None:
        return next((on for billed, on in self.first_statements if billed == invoice_id), None)


def decide(command: Command, state: PatientAccountState) -> list[Event]:
    if isinstance(command, IssueStatement):
        return _statement(command, state)
    if isinstance(command, RecordPayment):
        return _payment(command, state)
    if isinstance(command, AddCredit):
        if any(m.credit_id == command.credit_id for m in state.credit_moves) or command.amount_cents <= 0:
            return []
        return [
            PatientCreditAdded(
                patient_id=command.patient_id,
                credit_id=command.credit_id,
                invoice_id=command.invoice_id,
                amount_cents=command.amount_cents,
                added_on=command.added_on,
            )
        ]
    if isinstance(command, UseCredit):
        uses = len([m for m in state.credit_moves if m.amount_cents < 0])
        return [
            PatientCreditUsed(
                patient_id=command.patient_id,
                credit_id=ids.credit_id(command.patient_id, "used", uses + index),
                invoice_id=invoice_id,
                amount_cents=amount,
                used_on=command.used_on,
            )
            for index, (invoice_id, amount) in enumerate(
                credits.allocate(state.credit_cents, command.open_items)
            )
        ]
    if isinstance(command, IssueRefund):
        return _refund(command, state)
    if isinstance(command, CreatePaymentPlan):
        return _plan(command, state)
    if isinstance(command, CompletePaymentPlan):
        plan = state.active_plan
        if plan is None:
            return []
        return [
            PaymentPlanCompleted(
                plan_id=plan.plan_id, patient_id=command.patient_id, completed_on=command.completed_on
            )
        ]
    if state.cycle_started_on is None:
        return []
    return [
        DunningCycleEnded(
            patient_id=command.patient_id,
            cycle_started_on=state.cycle_started_on,
            ended_on=command.ended_on,
        )
    ]


def _statement(command: IssueStatement, state: PatientAccountState) -> list[Event]:
    if any(s.statement_id == command.statement_id for s in state.statements):
        return []
    owed = [item for item in command.open_items if item.amount_cents > 0]
    amount_due = sum(item.amount_cents for item in owed)
    if amount_due <= 0:
        return []
    if state.cycle_started_on is None:
        cycle, started = 0, command.statement_date
    else:
        cycle = state.cycle if command.cycle is None else command.cycle
        started = state.cycle_started_on
    invoice_ids = tuple(sorted(item.invoice_id for item in owed))
    return [
        PatientStatementIssued(
            statement_id=command.statement_id,
            patient_id=command.patient_id,
            statement_date=command.statement_date,
            due_date=command.statement_date + timedelta(days=STATEMENT_DUE_DAYS),
            amount_due_cents=amount_due,
            invoice_ids=invoice_ids,
            cycle=cycle,
            cycle_started_on=started,
            first_statement_invoice_ids=tuple(
                invoice_id for invoice_id in invoice_ids if state.first_statement_on(invoice_id) is None
            ),
        )
    ]


def _payment(command: RecordPayment, state: PatientAccountState) -> list[Event]:
    if any(p.payment_id == command.payment_id for p in state.payments):
        return []
    errors = []
    if command.amount_cents <= 0:
        errors.append(FieldError("amount_cents", "must be greater than zero"))
    if not 0 <= command.applied_cents <= command.amount_cents:
        errors.append(FieldError("amount_cents", "the applied part must be between zero and the amount"))
    if errors:
        raise InvalidInput(errors)
    return [
        PatientPaymentReceived(
            payment_id=command.payment_id,
            patient_id=command.patient_id,
            invoice_id=command.invoice_id,
            amount_cents=command.amount_cents,
            applied_cents=command.applied_cents,
            credit_cents=command.amount_cents - command.applied_cents,
            method=command.method,
            received_on=command.received_on,
        )
    ]


def _refund(command: IssueRefund, state: PatientAccountState) -> list[Event]:
    if any(r.refund_id == command.refund_id for r in state.refunds):
        return []
    credit = state.credit_cents
    if command.amount_cents <= 0:
        raise InvalidInput([FieldError("amount_cents", "must be greater than zero")])
    if command.amount_cents > credit:
        raise InvalidInput(
            [FieldError("amount_cents", f"must not exceed the patient's unapplied credit ({credit} cents)")]
        )
    return [
        PatientRefundIssued(
            patient_id=command.patient_id,
            refund_id=command.refund_id,
            amount_cents=command.amount_cents,
            method=command.method,
            reason=command.reason,
            issued_on=command.issued_on,
        )
    ]


def _plan(command: CreatePaymentPlan, state: PatientAccountState) -> list[Event]:
    if any(plan.plan_id == command.plan_id for plan in state.plans):
        return []
    active = state.active_plan
    if active is not None:
        raise PaymentPlanActive(active.plan_id)
    errors: list[FieldError] = []
    if command.monthly_amount_cents <= 0:
        errors.append(FieldError("monthly_amount_cents", "must be greater than zero"))
    elif command.balance_cents > 0:
        count = payment_plans.installment_count(command.balance_cents, command.monthly_amount_cents)
        if count > payment_plans.MAX_INSTALLMENTS:
            errors.append(
                FieldError(
                    "monthly_amount_cents",
                    f"pays the balance in {count} months; "
                    f"at most {payment_plans.MAX_INSTALLMENTS} are allowed",
                )
            )
    if command.balance_cents <= 0:
        errors.append(FieldError("patient_id", "the patient owes nothing: there is no balance to plan"))
    if command.first_due_on < command.created_on:
        errors.append(FieldError("first_due_on", "must not be before today"))
    elif command.first_due_on > command.created_on + timedelta(days=payment_plans.MAX_FIRST_DUE_DAYS):
        errors.append(
            FieldError("first_due_on", f"must be within {payment_plans.MAX_FIRST_DUE_DAYS} days of today")
        )
    if errors:
        raise InvalidInput(errors)
    return [
        PaymentPlanCreated(
            plan_id=command.plan_id,
            patient_id=command.patient_id,
            monthly_amount_cents=command.monthly_amount_cents,
            first_due_on=command.first_due_on,
            total_cents=command.balance_cents,
            installments=payment_plans.schedule(
                command.balance_cents, command.monthly_amount_cents, command.first_due_on
            ),
            created_on=command.created_on,
        )
    ]


def evolve(state: PatientAccountState, event: Event) -> PatientAccountState:
    if isinstance(event, PatientStatementIssued):
        statement = Statement(
            event.statement_id,
            event.statement_date,
            event.due_date,
            event.amount_due_cents,
            event.invoice_ids,
            event.cycle,
        )
        firsts = tuple(
            (invoice_id, event.statement_date)
            for invoice_id in event.invoice_ids
            if state.first_statement_on(invoice_id) is None
        )
        state = replace(
            state,
            patient_id=event.patient_id,
            statements=(*state.statements, statement),
            first_statements=(*state.first_statements, *firsts),
        )
        if event.cycle is None:
            return state  # a statement from before cycles were recorded
        return replace(
            state, cycle_started_on=event.cycle_started_on or event.statement_date, cycle=event.cycle
        )
    if isinstance(event, PatientPaymentReceived):
        payment = Payment(
            event.payment_id,
            event.invoice_id,
            event.amount_cents,
            event.applied_cents,
            event.credit_cents,
            event.method,
            event.received_on,
        )
        return replace(state, patient_id=event.patient_id, payments=(*state.payments, payment))
    if isinstance(event, PatientCreditAdded):
        move = CreditMove(event.credit_id, event.invoice_id, event.amount_cents, event.added_on)
        return replace(state, patient_id=event.patient_id, credit_moves=(*state.credit_moves, move))
    if isinstance(event, PatientCreditUsed):
        move = CreditMove(event.credit_id, event.invoice_id, -event.amount_cents, event.used_on)
        return replace(state, patient_id=event.patient_id, credit_moves=(*state.credit_moves, move))
    if isinstance(event, PatientRefundIssued):
        refund = Refund(event.refund_id, event.amount_cents, event.method, event.reason, event.issued_on)
        return replace(state, patient_id=event.patient_id, refunds=(*state.refunds, refund))
    if isinstance(event, PaymentPlanCreated):
        plan = PaymentPlan(
            event.plan_id,
            event.monthly_amount_cents,
            event.first_due_on,
            event.total_cents,
            event.installments,
            event.created_on,
        )
        return replace(state, patient_id=event.patient_id, plans=(*state.plans, plan))
    if isinstance(event, PaymentPlanCompleted):
        plans = tuple(
            replace(plan, completed_on=event.completed_on) if plan.plan_id == event.plan_id else plan
            for plan in state.plans
        )
        return replace(state, plans=plans)
    if isinstance(event, DunningCycleEnded):
        return replace(state, cycle_started_on=None, cycle=0)
    return state


def plan_payments(state: PatientAccountState) -> list[payment_plans.PlanPayment]:
    """The payments a plan counts: every payment the patient made (the plan counts from its day)."""
    return [payment_plans.PlanPayment(p.received_on, p.amount_cents) for p in state.payments]


DECIDER: Decider[Command, PatientAccountState] = Decider(
    initial=PatientAccountState(), decide=decide, evolve=evolve, stream_type="patient-account"
)
