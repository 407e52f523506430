"""The PatientAccount decider: statements for what is owed, payments split into applied and credit."""

from __future__ import annotations

from datetime import date

import pytest

from billing_events.contracts.invoicing import PatientPaymentReceived, PatientStatementIssued
from invoicing.domain.errors import InvalidInput
from invoicing.domain.patient_account import DECIDER, IssueStatement, OpenItem, RecordPayment


def statement(*items: OpenItem, statement_id: str = "st-1") -> IssueStatement:
    return IssueStatement(statement_id, "pat-1", date(2026, 4, 1), items)


def record(amount: int, applied: int, payment_id: str = "pay-1") -> RecordPayment:
    return RecordPayment(payment_id, "pat-1", "inv-1", amount, applied, "card", date(2026, 4, 10))


def test_a_statement_asks_for_the_sum_of_the_open_items_within_thirty_days() -> None:
    events = DECIDER.decide(
        statement(OpenItem("inv-b", 2500), OpenItem("inv-a", 1000), OpenItem("inv-c", 0)), DECIDER.initial
    )
    assert events == [
        PatientStatementIssued(
            statement_id="st-1",
            patient_id="pat-1",
            statement_date=date(2026, 4, 1),
            due_date=date(2026, 5, 1),
            amount_due_cents=3500,
            invoice_ids=("inv-a", "inv-b"),
            # The account's first statement opens a statement cycle and bills both invoices first.
            cycle=0,
            cycle_started_on=date(2026, 4, 1),
            first_statement_invoice_ids=("inv-a", "inv-b"),
        )
    ]


def test_a_statement_is_sent_once_and_never_for_nothing() -> None:
    state = DECIDER.fold(DECIDER.decide(statement(OpenItem("inv-a", 1000)), DECIDER.initial))
    assert DECIDER.decide(statement(OpenItem("inv-a", 1000)), state) == []
    assert DECIDER.decide(statement(OpenItem("inv-a", 0), statement_id="st-2"), state) == []


def test_what_a_payment_does_not_apply_becomes_credit() -> None:
    (event,) = DECIDER.decide(record(3000, 2500), DECIDER.initial)
    assert isinstance(event, PatientPaymentReceived)
    assert (event.amount_cents, event.applied_cents, event.credit_cents) == (3000, 2500, 500)
    state = DECIDER.fold([event])
    assert (state.credit_cents, state.received_cents) == (500, 3000)
    state = DECIDER.fold(DECIDER.decide(record(700, 0, "pay-2"), state), state)
    assert state.credit_cents == 1200


def test_the_same_payment_is_recorded_once() -> None:
    state = DECIDER.fold(DECIDER.decide(record(3000, 2500), DECIDER.initial))
    assert DECIDER.decide(record(3000, 2500), state) == []


def test_a_payment_cannot_apply_more_than_it_brings() -> None:
    with pytest.raises(InvalidInput):
        DECIDER.decide(record(100, 200), DECIDER.initial)
