"""What the application needs from the outside, named here and implemented in adapters/."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from billing_events.contracts.base import Sealed
from billing_events.contracts.claims import RemittanceReceived
from billing_events.contracts.registration import (
    Address,
    CoverageAdded,
    CoverageTerminated,
    PatientDemographicsUpdated,
    PatientRegistered,
    PayerRegistered,
    ProviderEnrolled,
)
from billing_events.unit_of_work import UnitOfWork
from claims.domain.claim import ClaimState
from claims.domain.coordination import CoverageInForce
from claims.domain.inbound import ClaimPaymentAdvice, InboundDocument
from claims.domain.model import ClaimContent, ScrubContext
from claims.domain.outbound import Claim837, Interchange837, Problem837


@dataclass(frozen=True)
class PayerRecord:
    payer_id: str
    name: str
    edi_payer_id: str
    claim_filing_indicator: str
    timely_filing_days: int


@dataclass(frozen=True)
class ProviderRecord:
    provider_id: str
    npi: str
    taxonomy_code: str
    organization_name: str | None
    given_name: str | None
    family_name: str | None
    tax_id: str | None
    address: Address


@dataclass(frozen=True)
class PatientRecord:
    patient_id: str
    name: Sealed | None
    birth_date: Sealed | None
    sex: str | None
    address: Sealed | None


@dataclass(frozen=True)
class CoverageRecord:
    coverage_id: str
    patient_id: str
    payer_id: str
    member_id: Sealed | None
    group_number: str | None
    priority: str
    relationship: str
    subscriber: Sealed | None
    effective_from: date
    effective_to: date | None


@dataclass(frozen=True)
class ClaimParties:
    """The sealed and clear records a claim's 837 is written from."""

    payer: PayerRecord
    billing_provider: ProviderRecord
    rendering_provider: ProviderRecord | None
    patient: PatientRecord
    coverage: CoverageRecord
    # The patient's other coverages in effect on the date of service, with their payers (loop 2320).
    other_coverages: tuple[tuple[CoverageRecord, PayerRecord], ...]


class ReferenceData(Protocol):
    """Registration's data as this service keeps it (its own projection)."""

    async def record_payer(self, tenant: str, event: PayerRegistered) -> None: ...
    async def record_provider(self, tenant: str, event: ProviderEnrolled) -> None: ...
    async def record_patient(self, tenant: str, event: PatientRegistered) -> None: ...
    async def update_patient(self, tenant: str, event: PatientDemographicsUpdated) -> None: ...
    async def record_coverage(self, tenant: str, event: CoverageAdded) -> None: ...
    async def terminate_coverage(self, tenant: str, event: CoverageTerminated) -> None: ...
    async def scrub_context(self, tenant: str, content: ClaimContent) -> ScrubContext: ...
    async def payer_ids_for_edi(self, tenant: str, edi_payer_id: str) -> list[str]: ...
    async def payer(self, tenant: str, payer_id: str) -> PayerRecord | None: ...
    async def parties(self, tenant: str, content: ClaimContent) -> ClaimParties | None: ...
    async def coverages_in_force(self, tenant: str, patient_id: str, on: date) -> list[CoverageInForce]: ...


@dataclass(frozen=True)
class ClaimRow:
    claim_id: str
    tenant: str
    status: str
    patient_id: str
    payer_id: str
    pending_frequency: str | None
    patient_control_number: str


class ClaimViews(Protocol):
    """The claims read model, written in the same transaction as the claim's events."""

    async def lock(self, claim_id: str) -> ClaimRow | None: ...
    async def lock_many(self, claim_ids: Sequence[str]) -> list[str]:
        """Lock the rows of these claims in one round trip; the ids of those that exist."""
        ...

    async def save(
        self, tenant: str, state: ClaimState, version: int, at: datetime, *, later: bool = False
    ) -> None:
        """`later`: the caller reads no claim row again before it commits (sent with the others)."""
        ...

    async def waiting_on(self, tenant: str, *, column: str, value: str) -> list[str]: ...
    async def claim_ids_for_invoice(self, tenant: str, invoice_id: str) -> list[str]: ...
    async def payers_with_claims_to_send(self) -> list[tuple[str, str]]: ...
    async def claims_to_send(self, tenant: str, payer_id: str, limit: int) -> list[str]: ...
    async def by_patient_control_numbers(
        self, tenant: str | None, numbers: Sequence[str]
    ) -> dict[str, ClaimRow]: ...


@dataclass(frozen=True)
class BatchRecord:
    batch_id: str
    tenant: str
    payer_id: str
    control_number: int
    file_name: str
    claim_ids: tuple[str, ...]
    frequencies: tuple[str, ...]
    sender_id: str
    receiver_id: str
    created_at: datetime


class Batches(Protocol):
    async def next_control_number(self, tenant: str) -> int: ...
    async def submitter_id(self, tenant: str, preferred: str | None) -> str: ...
    async def tenant_of_submitter(self, submitter_id: str) -> str | None: ...
    async def record(self, batch: BatchRecord) -> None: ...
    async def record_claim_file(
        self, tenant: str, claim_id: str, batch_id: str, frequency: str, sealed_x12: Sealed, at: datetime
    ) -> None: ...
    async def unwritten(self) -> list[BatchRecord]: ...
    async def mark_written(self, batch_id: str) -> None: ...
    async def lock_unwritten(self, batch_id: str, *, wait: bool) -> bool:
        """Lock the batch if its file is still to be written; without `wait`, skip a locked one."""
        ...

    async def find(self, tenant: str, control_number: int) -> BatchRecord | None: ...


@dataclass(frozen=True)
class RemittanceProgress:
    version: int  # the stream's length: the version the next append expects
    received: bool
    claims_posted: int
    listed: int


class InboundRecords(Protocol):
    """What the service keeps of the files it read: which it applied, and remittances it could not match."""

    async def record_file(self, sha256: str, tenant: str, file_name: str, kind: str) -> bool:
        """True the first time these bytes arrive; False for a duplicate."""
        ...

    async def lock_remittance(self, remittance_id: str) -> None: ...
    async def remittance_progress(self, remittance_id: str) -> RemittanceProgress:
        """How far a large payment's posting went, read from its last event alone (a payment of
        250,000 claims has over a hundred parts: loading them all for each part would be quadratic)."""
        ...

    async def held_on_remittance(self, remittance_id: str) -> int:
        """How many claim payments the payment's parts hold."""
        ...

    async def record_unmatched(
        self, tenant: str, remittance_id: str, claim: ClaimPaymentAdvice, payer_name: str
    ) -> None: ...
    async def record_matched(
        self, tenant: str, remittance_id: str, patient_control_number: str, claim_id: str
    ) -> None:
        """A held claim payment was matched: it leaves the unmatched list."""
        ...

    async def held_under(self, tenant: str, patient_control_number: str) -> list[str]:
        """The remittances holding a claim payment under this CLP01 that no claim was matched to yet."""
        ...

    async def record_provider_adjustments(self, tenant: str, received: RemittanceReceived) -> None:
        """The provider-level ledger: each PLB reason of the payment, once."""
        ...


class Vault(Protocol):
    async def open(self, sealed: Sealed, field: str) -> Any: ...
    async def seal_fields(self, key_id: str, values: dict[str, Any]) -> dict[str, Sealed | None]: ...


class ClaimFileFormat(Protocol):
    """The 837 format: what decrypted data it cannot carry, and the text of a file."""

    def check(self, claim: Claim837) -> list[Problem837]: ...
    def render(self, interchange: Interchange837) -> str: ...


class Outbox(Protocol):
    """Where outbound files go (the clearinghouse's outbound folder)."""

    def write_outbound(self, name: str, content: str) -> object: ...
    def outbound_exists(self, name: str) -> bool: ...


class FileRefused(Exception):
    """An inbound file is refused whole and changes nothing. `reason` names rules, segments and
    positions, never a value from the file (X12 files carry patient data)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InboundReader(Protocol):
    """Reads a file whole; may answer later (the service reads X12 in worker processes)."""

    def __call__(self, data: bytes) -> InboundDocument | Awaitable[InboundDocument]: ...


@dataclass(frozen=True)
class InboundItem:
    name: str
    content: bytes
    sha256: str


class Inbox(Protocol):
    """Where inbound files arrive (the clearinghouse's inbound folder)."""

    def waiting(self) -> Iterable[InboundItem]:
        """The files waiting, oldest first, each read when the caller comes to it."""
        ...

    def processed(self, item: InboundItem) -> None: ...
    def rejected(self, item: InboundItem, reason: str) -> None: ...


@dataclass(frozen=True)
class ClaimsViews:
    """The service's own tables, on one transaction's connection."""

    reference: ReferenceData
    claims: ClaimViews
    batches: Batches
    inbound: InboundRecords


# One transaction's log and read models (billing_events.unit_of_work).
Unit = UnitOfWork[ClaimsViews]
