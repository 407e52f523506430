"""Finance's refusals, as named values. The entrypoints turn them into HTTP problems in one place."""

from __future__ import annotations

from collections.abc import Sequence

from billing_events.errors import FieldError as FieldError


class DomainError(Exception):
    """A command that the rules refuse."""


class InvalidInput(DomainError):
    """One or more fields (or lines of an import) break a rule; every one is listed at once."""

    def __init__(self, issues: Sequence[FieldError]) -> None:
        super().__init__("; ".join(f"{i.field}: {i.message}" for i in issues))
        self.issues = list(issues)


class AlreadyExists(DomainError):
    def __init__(self, what: str) -> None:
        super().__init__(f"this {what} already exists")
        self.what = what


class NotFound(DomainError):
    def __init__(self, what: str) -> None:
        super().__init__(f"no such {what}")
        self.what = what


class AlreadyReversed(DomainError):
    def __init__(self) -> None:
        super().__init__("this expense is already reversed")
