"""The one place where invoicing's domain errors become HTTP problems."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from billing_service.problems import Problem, conflict, invalid, not_found
from invoicing.domain.errors import (
    DomainError,
    InvalidInput,
    InvoiceNotPayable,
    PaymentPlanActive,
    UnknownInvoice,
)


def problem_of(error: DomainError) -> Problem:
    if isinstance(error, InvalidInput):
        return invalid(list(error.errors))
    if isinstance(error, UnknownInvoice):
        return not_found("invoice")
    if isinstance(error, InvoiceNotPayable):
        return conflict(
            f"The invoice is {error.status}; payments and write-offs are posted only to issued invoices.",
            "invoice-not-payable",
        )
    if isinstance(error, PaymentPlanActive):
        return conflict(
            "The patient has an active payment plan; it must complete before another is made.",
            "payment-plan-active",
        )
    return conflict(str(error))


@contextmanager
def domain_errors() -> Iterator[None]:
    try:
        yield
    except DomainError as error:
        raise problem_of(error) from None
