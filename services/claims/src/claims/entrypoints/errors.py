"""Domain errors become problem details here, and only here."""

from __future__ import annotations

from billing_service.problems import FieldError, Problem, conflict, invalid, not_found
from claims.domain.errors import (
    AlreadyMatched,
    ClaimNotFound,
    DomainError,
    HeldPaymentNotFound,
    InvalidTransition,
    NotThisPayersClaim,
    ScrubFailed,
    UnbalancedEob,
    UnknownPayer,
)


def problem_of(error: DomainError) -> Problem:
    if isinstance(error, ClaimNotFound):
        return not_found("claim")
    if isinstance(error, InvalidTransition):
        return conflict(str(error), "invalid-transition")
    if isinstance(error, ScrubFailed):
        return invalid(
            [FieldError(f.field, f"{f.edit_id}: {f.message}") for f in error.findings],
            "The claim fails the scrubber's edits; fix the data upstream and try again.",
        )
    if isinstance(error, HeldPaymentNotFound):
        return not_found("held claim payment")
    if isinstance(error, AlreadyMatched):
        return conflict(str(error), "already-matched")
    if isinstance(error, NotThisPayersClaim):
        return invalid([FieldError("claim_id", str(error))], "The payment cannot post to that claim.")
    if isinstance(error, UnknownPayer):
        return invalid([FieldError("payer_id", "is not a payer of the tenant")])
    if isinstance(error, UnbalancedEob):
        return invalid([FieldError(error.field, str(error))], "The EOB's amounts do not balance.")
    return conflict(str(error))
