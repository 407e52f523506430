"""The claims service's named refusals. The API maps them to problem details in one place."""

from __future__ import annotations

from billing_events.contracts.claims import Finding


class DomainError(Exception):
    """A command the domain refuses. Messages name states and fields, never patient data."""


class ClaimNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("no such claim")


class InvalidTransition(DomainError):
    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"a claim in status {status} cannot be {action}")
        self.status = status
        self.action = action


class ScrubFailed(DomainError):
    """A biller's command would send a claim that fails the scrubber's edits."""

    def __init__(self, findings: tuple[Finding, ...]) -> None:
        super().__init__("the claim fails " + ", ".join(sorted({f.edit_id for f in findings})))
        self.findings = findings


class EmptyBatch(DomainError):
    def __init__(self) -> None:
        super().__init__("a submission batch needs at least one claim")


class BatchAlreadySent(DomainError):
    def __init__(self) -> None:
        super().__init__("this submission batch was already sent")


class HeldPaymentNotFound(DomainError):
    """No claim payment of the remittance under that CLP01 waits for a match."""

    def __init__(self) -> None:
        super().__init__("no held claim payment of this remittance has that patient control number")


class AlreadyMatched(DomainError):
    def __init__(self) -> None:
        super().__init__("this claim payment was already matched to another claim")


class NotThisPayersClaim(DomainError):
    """A payer's money is never posted to a claim it was not billed, nor forwarded."""

    def __init__(self) -> None:
        super().__init__("the claim is not billed to the payer of this payment")


class UnbalancedEob(DomainError):
    """A paper EOB whose amounts do not add up (charge - paid = adjustments, per line)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownPayer(DomainError):
    def __init__(self) -> None:
        super().__init__("no such payer")
