"""Ingestion of the payer's answers (999, 277CA, 835), from the API or the inbound folder.

A file is read and checked whole first, then applied in one transaction: it lands entirely or not
at all. Each file is recorded by its SHA-256, so the same bytes twice change nothing; each 835
payment is a Remittance stream keyed by payer and trace number (TRN02), so the same payment in
another file changes nothing either.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from billing_events.consumer import describe_error, is_transient
from billing_events.contracts.claims import RejectionReason
from billing_events.envelope import Metadata
from billing_events.store import EventStore, Session
from claims.application.eligibility import record_responses
from claims.application.handlers import CommandFor, lock_claims, on_claim
from claims.application.ports import FileRefused, InboundItem, InboundReader, Inbox, Unit
from claims.application.posting import (
    POSTING_PART,
    complete_remittance,
    post_remittance,
    post_remittance_part,
    posting_parts,
)
from claims.domain.claim import Acknowledge, ClaimState, Command, Reject
from claims.domain.inbound import (
    ClaimStatusAnswer,
    GroupAnswer,
    InboundDocument,
    Reason,
    RemittanceAdvice,
)

log = logging.getLogger(__name__)

Outcome = Literal["applied", "duplicate"]
CLEARINGHOUSE_ACTOR = "clearinghouse"


@dataclass
class IngestResult:
    kind: str
    tenant: str
    outcome: Outcome
    remittance_ids: list[str] = field(default_factory=list)
    matched_claims: int = 0
    unmatched_claims: int = 0
    acknowledged: int = 0
    rejected: int = 0


def _reasons(reasons: tuple[Reason, ...]) -> tuple[RejectionReason, ...]:
    return tuple(RejectionReason(code=r.code, description=r.description) for r in reasons)


class Ingestion:
    def __init__(self, store: EventStore, unit_for: Callable[[Session], Unit]) -> None:
        self.store = store
        self.unit_for = unit_for

    async def ingest(
        self,
        document: InboundDocument,
        *,
        sha256: str,
        file_name: str,
        tenant: str | None,
        metadata_for: Callable[[str], Metadata],
    ) -> IngestResult:
        """Apply a read file in its own transaction (the inbound folder), or, for a payer's large 835,
        in a transaction per part (see posting.POSTING_PART)."""
        if posts_in_parts(document):
            return await self._ingest_in_parts(
                document, sha256=sha256, file_name=file_name, tenant=tenant, metadata_for=metadata_for
            )
        async with self.store.session() as session:
            return await self.apply(
                self.unit_for(session),
                document,
                sha256=sha256,
                file_name=file_name,
                tenant=tenant,
                metadata_for=metadata_for,
            )

    async def apply(
        self,
        unit: Unit,
        document: InboundDocument,
        *,
        sha256: str,
        file_name: str,
        tenant: str | None,
        metadata_for: Callable[[str], Metadata],
    ) -> IngestResult:
        """Apply a read file within the caller's transaction. `tenant` is the caller's (API); None
        resolves it from ISA08, the submitter id the service sent the claims under (folder)."""
        tenant = await _tenant_of(unit, document, tenant)
        first = await unit.views.inbound.record_file(sha256, tenant, file_name, document.kind)
        result = IngestResult(document.kind, tenant, "applied" if first else "duplicate")
        if not first:
            return result
        metadata = metadata_for(tenant)
        if document.kind == "835":
            for advice in document.remittances:
                await self._remittance(unit, tenant, advice, file_name, metadata, result)
        elif document.kind == "999":
            for group in document.groups:
                await self._implementation_ack(unit, tenant, group, file_name, metadata, result)
        elif document.kind == "271":
            matched = await record_responses(
                unit.session, document.eligibility_responses, file_name, metadata
            )
            result.matched_claims += matched
            result.unmatched_claims += len(document.eligibility_responses) - matched
        else:
            await self._claim_acks(unit, tenant, document, file_name, metadata, result)
        return result

    async def _ingest_in_parts(
        self,
        document: InboundDocument,
        *,
        sha256: str,
        file_name: str,
        tenant: str | None,
        metadata_for: Callable[[str], Metadata],
    ) -> IngestResult:
        """A payer's large 835: each remittance part by part, each part in its own transaction, then
        the remittance; the file is recorded last. Stopped half-way (a crash, a restart), the same
        file read again goes on after the parts already posted: every claim posts once."""
        async with self.store.session() as session:
            tenant = await _tenant_of(self.unit_for(session), document, tenant)
        metadata = metadata_for(tenant)
        result = IngestResult(document.kind, tenant, "applied")
        for advice in document.remittances:
            for part in posting_parts(advice.claims):
                async with self.store.session() as session:
                    unit = self.unit_for(session)
                    payer_ids = await unit.views.reference.payer_ids_for_edi(tenant, advice.payer_key)
                    if not await post_remittance_part(unit, tenant, advice, part, payer_ids, metadata):
                        break  # received already: the same payment in an earlier file
            async with self.store.session() as session:
                unit = self.unit_for(session)
                payer_ids = await unit.views.reference.payer_ids_for_edi(tenant, advice.payer_key)
                posted = await complete_remittance(unit, tenant, advice, payer_ids, file_name, metadata)
            result.remittance_ids.append(posted.remittance_id)
            if not posted.duplicate:
                result.matched_claims += len(advice.claims) - posted.unmatched
                result.unmatched_claims += posted.unmatched
        async with self.store.session() as session:
            first = await self.unit_for(session).views.inbound.record_file(
                sha256, tenant, file_name, document.kind
            )
        if not first and not result.matched_claims and not result.unmatched_claims:
            result.outcome = "duplicate"
        return result

    async def _remittance(
        self,
        unit: Unit,
        tenant: str,
        advice: RemittanceAdvice,
        file_name: str,
        metadata: Metadata,
        result: IngestResult,
    ) -> None:
        payer_ids = await unit.views.reference.payer_ids_for_edi(tenant, advice.payer_key)
        posted = await post_remittance(unit, tenant, advice, payer_ids, file_name, metadata)
        result.remittance_ids.append(posted.remittance_id)
        if not posted.duplicate:
            result.matched_claims += len(advice.claims) - posted.unmatched
            result.unmatched_claims += posted.unmatched

    async def _implementation_ack(
        self,
        unit: Unit,
        tenant: str,
        group: GroupAnswer,
        file_name: str,
        metadata: Metadata,
        result: IngestResult,
    ) -> None:
        number = int(group.group_control_number) if group.group_control_number.isdigit() else 0
        batch = await unit.views.batches.find(tenant, number)
        if batch is None:
            raise FileRefused("the 999 answers a functional group (AK102) this service never sent")
        answer = next(
            (
                ts
                for ts in group.transaction_sets
                if ts.control_number.isdigit() and int(ts.control_number) == batch.control_number
            ),
            None,
        )
        accepted = answer.accepted if answer is not None else group.accepted
        reasons = (answer.reasons if answer is not None else ()) + group.reasons
        await lock_claims(unit, batch.claim_ids)
        for claim_id in batch.claim_ids:
            command: Command
            if accepted:
                command = Acknowledge(
                    "999", group.interchange_control_number, None, file_name, batch.batch_id
                )
                result.acknowledged += 1
            else:
                fallback = (Reason("AK9:R", "the functional group was rejected"),)
                command = Reject(
                    "999",
                    group.interchange_control_number,
                    _reasons(reasons or fallback),
                    file_name,
                    batch.batch_id,
                )
                result.rejected += 1
            await on_claim(unit, tenant, claim_id, command, metadata)

    async def _claim_acks(
        self,
        unit: Unit,
        tenant: str,
        document: InboundDocument,
        file_name: str,
        metadata: Metadata,
        result: IngestResult,
    ) -> None:
        rows = await unit.views.claims.by_patient_control_numbers(
            tenant, [answer.patient_control_number for answer in document.claim_statuses]
        )
        await lock_claims(unit, [row.claim_id for row in rows.values()])
        for answer in document.claim_statuses:
            row = rows.get(answer.patient_control_number)
            if row is None or answer.disposition == "pending":
                result.unmatched_claims += row is None
                continue
            if answer.disposition == "accepted":
                result.acknowledged += 1
            else:
                result.rejected += 1
            await on_claim(unit, tenant, row.claim_id, _claim_ack_command(answer, file_name), metadata)


def _claim_ack_command(answer: ClaimStatusAnswer, file_name: str) -> CommandFor:
    """A 277CA's answer to a claim, for the batch the claim last went out in."""

    async def command(state: ClaimState) -> Command:
        batch_id = state.submissions[-1].batch_id if state.submissions else None
        if answer.disposition == "accepted":
            return Acknowledge(
                "277CA",
                answer.interchange_control_number,
                answer.payer_claim_control_number,
                file_name,
                batch_id,
            )
        reasons = answer.reasons or (Reason("A3", "rejected by the payer"),)
        return Reject("277CA", answer.interchange_control_number, _reasons(reasons), file_name, batch_id)

    return command


def posts_in_parts(document: InboundDocument) -> bool:
    """A payer's large 835 is posted a part at a time, each part in its own transaction."""
    return document.kind == "835" and any(len(a.claims) > POSTING_PART for a in document.remittances)


async def _tenant_of(unit: Unit, document: InboundDocument, tenant: str | None) -> str:
    addressed_to = await unit.views.batches.tenant_of_submitter(document.receiver_id)
    if tenant is None:
        if addressed_to is None:
            raise FileRefused("the file's receiver (ISA08) is none of this service's submitter ids")
        return addressed_to
    if addressed_to is not None and addressed_to != tenant:
        raise FileRefused("the file is addressed (ISA08) to another tenant's submitter id")
    return tenant


class InboundFolder:
    """The inbound folder worker: each file once, then to processed/ or, refused, to rejected/."""

    def __init__(self, ingestion: Ingestion, inbox: Inbox, read: InboundReader) -> None:
        self.ingestion = ingestion
        self.inbox = inbox
        self.read = read

    async def run_once(self) -> list[IngestResult]:
        results = []
        for item in self.inbox.waiting():
            try:
                read = self.read(item.content)
                document = await read if inspect.isawaitable(read) else read
            except FileRefused as refused:
                self._reject(item, refused.reason)
                continue
            except Exception as error:
                # A reader bug must not block the files behind this one: the file waits in
                # rejected/ for a person, named by the error's type only.
                self._reject(item, f"the file could not be read ({type(error).__name__})")
                continue
            try:
                result = await self.ingestion.ingest(
                    document,
                    sha256=item.sha256,
                    file_name=item.name,
                    tenant=None,
                    metadata_for=lambda tenant: Metadata(
                        tenant=tenant, actor=CLEARINGHOUSE_ACTOR, correlation_id=str(uuid.uuid4())
                    ),
                )
            except FileRefused as refused:
                self._reject(item, refused.reason)
                continue
            except Exception as error:
                if is_transient(error):
                    # The database or broker is away: the file stays for the next round, and the
                    # files behind it are still tried (one may belong to a tenant that works).
                    log.warning(
                        "inbound file postponed",
                        extra={"file_name": item.name, "error": describe_error(error)},
                    )
                    continue
                # The file's data breaks a rule the service keeps (its transaction rolled back, so
                # nothing of it was applied): it waits in rejected/ for a person, never blocking.
                self._reject(item, f"the file could not be applied ({describe_error(error)})")
                continue
            self.inbox.processed(item)
            results.append(result)
        return results

    def _reject(self, item: InboundItem, reason: str) -> None:
        log.warning("inbound file refused", extra={"file_name": item.name, "reason": reason})
        self.inbox.rejected(item, reason)
