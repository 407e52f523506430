"""Invoicing's refusals, as named values. The entrypoints turn them into HTTP problems in one place.

Messages name fields, ids, codes and line numbers, never patient data: they travel to clients, logs and
dead-letter reasons.
"""

from __future__ import annotations

from collections.abc import Sequence

from billing_events.errors import FieldError as FieldError


class DomainError(Exception):
    """A command that the rules refuse."""


class InvalidInput(DomainError):
    """One or more fields break a rule; every broken field is listed at once."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = tuple(errors)


class UnknownInvoice(DomainError):
    """No invoice with this id in this tenant."""

    def __init__(self, invoice_id: str) -> None:
        super().__init__(f"invoice {invoice_id} does not exist")
        self.invoice_id = invoice_id


class InvoiceNotPayable(DomainError):
    """Money can be posted only to an issued invoice (not a held or voided one)."""

    def __init__(self, invoice_id: str, status: str) -> None:
        super().__init__(f"invoice {invoice_id} is {status}")
        self.invoice_id = invoice_id
        self.status = status


class NothingToReverse(DomainError):
    """A payer reversal arrived for a claim with no posting left to undo."""

    def __init__(self, invoice_id: str, claim_id: str) -> None:
        super().__init__(f"invoice {invoice_id} has no posting of claim {claim_id} to reverse")


class PaymentPlanActive(DomainError):
    """A patient has one payment plan at a time: the active one must complete first."""

    def __init__(self, plan_id: str) -> None:
        super().__init__(f"payment plan {plan_id} is still active")
        self.plan_id = plan_id
