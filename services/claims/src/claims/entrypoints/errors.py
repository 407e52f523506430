"""Domain errors become problem details here, and only here."""

from __future__ import annotations

from billing_service.problems import FieldError, Problem, conflict, invalid, not_found
from claims.domain.errors import ClaimNotFound, DomainError, InvalidTransition, ScrubFailed


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
    return conflict(str(error))
