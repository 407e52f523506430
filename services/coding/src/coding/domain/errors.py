"""Coding's refusals, as named values. The entrypoints turn them into HTTP answers in one place.

Messages name fields, edits and codes, never patient data.
"""

from __future__ import annotations

from collections.abc import Sequence

from coding.domain.values import Finding


class DomainError(Exception):
    """A command that the rules refuse."""


class CodingRejected(DomainError):
    """At least one edit failed with severity error; every finding (errors and warnings) is listed."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = tuple(findings)
        self.errors = tuple(f for f in self.findings if f.severity == "error")
        self.warnings = tuple(f for f in self.findings if f.severity == "warning")
        super().__init__(
            f"{len(self.errors)} edits failed: {', '.join(sorted({f.edit_id for f in self.errors}))}"
        )


class EncounterUnknown(DomainError):
    """Coding has no record of this encounter in the tenant (never opened, or not consumed yet)."""

    def __init__(self) -> None:
        super().__init__("coding has not received this encounter from registration")


class NotCoded(DomainError):
    """The encounter has no coding yet."""

    def __init__(self) -> None:
        super().__init__("this encounter has not been coded")


class WrongCodingKind(DomainError):
    """Professional coding sent for an admission, or institutional coding for a professional encounter."""

    def __init__(self, institutional_encounter: bool) -> None:
        self.institutional_encounter = institutional_encounter
        super().__init__(
            "this encounter is an admission: send principal_diagnosis, diagnoses [{code, poa}] and procedures"
            if institutional_encounter
            else "this encounter is professional: send diagnoses as codes and lines"
        )
