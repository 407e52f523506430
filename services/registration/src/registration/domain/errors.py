"""Registration's refusals, as named values. The entrypoints turn them into HTTP problems in one place.

Messages name fields and rules, never the values given: they travel to clients and logs.
"""

from __future__ import annotations

from collections.abc import Sequence

from billing_events.errors import FieldError as FieldError


class DomainError(Exception):
    """A command that the rules refuse."""


class InvalidInput(DomainError):
    """One or more fields break a rule; every broken field is listed at once."""

    def __init__(self, issues: Sequence[FieldError]) -> None:
        super().__init__("; ".join(f"{i.field}: {i.message}" for i in issues))
        self.issues = list(issues)


class AlreadyExists(DomainError):
    """The aggregate's stream already holds its creating event."""

    def __init__(self, what: str) -> None:
        super().__init__(f"this {what} already exists")
        self.what = what


class NotRegistered(DomainError):
    """A command for an aggregate that was never created."""

    def __init__(self, what: str) -> None:
        super().__init__(f"no such {what}")
        self.what = what


class DuplicateMrn(DomainError):
    def __init__(self) -> None:
        super().__init__("another patient of this tenant has this MRN")


class DuplicateProvider(DomainError):
    def __init__(self) -> None:
        super().__init__("a provider with this NPI is already enrolled in this role")


class CoverageOverlap(DomainError):
    def __init__(self, priority: str) -> None:
        super().__init__(f"the patient already has a {priority} coverage for overlapping dates")
        self.priority = priority


class CoverageAlreadyTerminated(DomainError):
    def __init__(self) -> None:
        super().__init__("this coverage is already terminated")


class RetentionHold(DomainError):
    """The patient's records must be kept until `until` (the retention period after the last service
    date); only a legal order forgets them earlier."""

    def __init__(self, until: str) -> None:
        super().__init__(f"records are held until {until}")
        self.until = until


class DuplicateFacility(DomainError):
    def __init__(self) -> None:
        super().__init__("a facility with this NPI is already registered")


class AlreadyDischarged(DomainError):
    """The stay is closed: a second discharge is refused (charges after discharge are invoicing's)."""

    def __init__(self) -> None:
        super().__init__("this admission is already discharged")
