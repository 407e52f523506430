"""The patient's credit: money they paid beyond what they owe, moved to what they owe elsewhere.

Credit arises two ways: the part of a payment above the invoice's balance (PatientPaymentReceived's
credit_cents, on the account at once), and an invoice on which the patient paid more than their
share once the payers answered, or whose charge was voided (released from the invoice's ledger to the
account). Credit is applied automatically to the patient's open invoices, oldest date of service
first, so that nothing waits for a biller; what no open invoice needs stays on the account until it
is refunded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from billing_events.contracts.base import Event
from billing_events.contracts.invoicing import PatientCreditApplied, PatientCreditReleased
from invoicing.domain import ids
from invoicing.domain.errors import FieldError, InvalidInput

if TYPE_CHECKING:
    from invoicing.domain.invoice import InvoiceState
    from invoicing.domain.patient_account import OpenItem


@dataclass(frozen=True)
class ReleasePatientCredit:
    """Move what the patient overpaid on this invoice to their account."""

    invoice_id: str
    released_on: date


@dataclass(frozen=True)
class ApplyPatientCredit:
    invoice_id: str
    credit_id: str
    amount_cents: int
    applied_on: date


def releasable_cents(state: InvoiceState) -> int:
    """What the patient paid on the invoice that it does not need.

    On a voided invoice, all the patient paid (the charge it paid for is gone). On an issued one, the
    part of a negative balance that the patient's payments make: a balance below zero after the
    payers answered means the patient paid more than their share (a copay above the PR, say); a payer
    that overpaid keeps its own part for a payer refund. Nothing moves while a payer after the
    current one has yet to answer: the patient's share is not known then.
    """
    paid = state.patient_paid_cents
    if paid <= 0:
        return 0
    if state.lifecycle == "voided":
        return paid
    if state.lifecycle != "issued" or state.awaiting_next_payer:
        return 0
    return min(max(-state.balance_cents, 0), paid)


def decide_release(command: ReleasePatientCredit, state: InvoiceState) -> list[Event]:
    amount = releasable_cents(state)
    if amount == 0:
        return []
    return [
        PatientCreditReleased(
            invoice_id=state.invoice_id,
            # Deterministic: the n-th posting of this invoice, so a replayed policy names the same credit.
            credit_id=ids.credit_id(state.invoice_id, "released", len(state.postings)),
            patient_id=state.patient_id,
            amount_cents=amount,
            released_on=command.released_on,
        )
    ]


def decide_apply(command: ApplyPatientCredit, state: InvoiceState) -> list[Event]:
    if state.has_posting(command.credit_id):
        return []
    owed = state.patient_responsibility_cents
    if command.amount_cents <= 0 or command.amount_cents > owed:
        raise InvalidInput(
            [
                FieldError(
                    "amount_cents", f"credit applied must be between 1 and what the patient owes ({owed})"
                )
            ]
        )
    return [
        PatientCreditApplied(
            invoice_id=state.invoice_id,
            credit_id=command.credit_id,
            patient_id=state.patient_id,
            amount_cents=command.amount_cents,
            applied_on=command.applied_on,
        )
    ]


def allocate(credit_cents: int, open_items: Sequence[OpenItem]) -> list[tuple[str, int]]:
    """Spread the credit over the open items, oldest date of service first (ties in the order given),
    each up to what it is owed: [(invoice_id, amount)]. What remains stays credit."""
    order = sorted(
        enumerate(open_items),
        key=lambda pair: (pair[1].service_date or date.max, pair[0]),
    )
    left = credit_cents
    allocations: list[tuple[str, int]] = []
    for _, item in order:
        if left <= 0:
            break
        amount = min(left, item.amount_cents)
        if amount > 0:
            allocations.append((item.invoice_id, amount))
            left -= amount
    return allocations
