"""The PatientAccount aggregate: statements sent to a patient, payments received from them, their credit.

What a patient owes on each invoice lives in the invoices' ledgers; a statement is a dated demand for
the sum of those open items. A payment is applied to one invoice up to its balance (the invoice
decides how much) and whatever is left over is credit on the account.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from billing_events.contracts.base import Event
from billing_events.contracts.invoicing import PatientPaymentReceived, PatientStatementIssued
from billing_events.decider import Decider
from invoicing.domain.errors import FieldError, InvalidInput

STATEMENT_DUE_DAYS = 30


@dataclass(frozen=True)
class OpenItem:
    invoice_id: str
    amount_cents: int


@dataclass(frozen=True)
class IssueStatement:
    statement_id: str
    patient_id: str
    statement_date: date
    open_items: tuple[OpenItem, ...]


@dataclass(frozen=True)
class RecordPayment:
    payment_id: str
    patient_id: str
    invoice_id: str
    amount_cents: int
    applied_cents: int
    method: str
    received_on: date


Command = IssueStatement | RecordPayment


@dataclass(frozen=True)
class Statement:
    statement_id: str
    statement_date: date
    due_date: date
    amount_due_cents: int
    invoice_ids: tuple[str, ...]


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
class PatientAccountState:
    patient_id: str | None = None
    statements: tuple[Statement, ...] = ()
    payments: tuple[Payment, ...] = ()

    @property
    def credit_cents(self) -> int:
        return sum(p.credit_cents for p in self.payments)

    @property
    def received_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments)


def decide(command: Command, state: PatientAccountState) -> list[Event]:
    if isinstance(command, IssueStatement):
        if any(s.statement_id == command.statement_id for s in state.statements):
            return []
        owed = [item for item in command.open_items if item.amount_cents > 0]
        amount_due = sum(item.amount_cents for item in owed)
        if amount_due <= 0:
            return []
        return [
            PatientStatementIssued(
                statement_id=command.statement_id,
                patient_id=command.patient_id,
                statement_date=command.statement_date,
                due_date=command.statement_date + timedelta(days=STATEMENT_DUE_DAYS),
                amount_due_cents=amount_due,
                invoice_ids=tuple(sorted(item.invoice_id for item in owed)),
            )
        ]
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


def evolve(state: PatientAccountState, event: Event) -> PatientAccountState:
    if isinstance(event, PatientStatementIssued):
        statement = Statement(
            event.statement_id,
            event.statement_date,
            event.due_date,
            event.amount_due_cents,
            event.invoice_ids,
        )
        return replace(state, patient_id=event.patient_id, statements=(*state.statements, statement))
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
    return state


DECIDER: Decider[Command, PatientAccountState] = Decider(
    initial=PatientAccountState(), decide=decide, evolve=evolve, stream_type="patient-account"
)
