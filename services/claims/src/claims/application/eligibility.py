"""Eligibility inquiries: registration's checks go out as 270 files, the payers' 271s come back.

1. `queue_inquiry` (consumer of EligibilityCheckRequested) records the check as waiting; the event
   carries ids only, and the 270 is written from this service's own copy of registration's data,
   as the 837P is.
2. `EligibilitySender.run_once` (a worker) takes the waiting inquiries, decrypts what the 270 needs,
   writes one file per tenant and payer (one transaction set per inquiry) and appends
   EligibilityInquirySent for each. An inquiry whose coverage, patient, payer or provider has not
   arrived yet waits for the next round, up to `reference_wait`; then, like one whose patient was
   erased or whose data X12 cannot carry, it fails (EligibilityInquiryFailed) with the reason.
3. `record_responses` (the inbound folder, beside 835/999/277CA) applies each 271 to its inquiry:
   EligibilityResponseReceived with the status and benefits (see claims.domain.eligibility).

Why the file is written before the commit, unlike the 837's: an inquiry is a question, asking it
twice is harmless (a second answer changes nothing), while a file lost after the commit would leave
the front desk waiting forever. So the file is written inside the transaction, then the events are
appended: a crash between the two sends the question again in the next round, and the answer to the
first file, finding no inquiry sent, is left unmatched.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, Protocol

from billing_events.contracts.claims import RejectionReason
from billing_events.contracts.registration import EligibilityCheckRequested
from billing_events.decider import StreamOfAnotherTenant, execute, load_state
from billing_events.envelope import Metadata
from billing_events.phi import KeyDestroyed
from billing_events.store import EventStore, Session
from billing_events.unit_of_work import EventSession, UnitOfWork
from claims.application.ports import (
    Batches,
    CoverageRecord,
    Outbox,
    PatientRecord,
    PayerRecord,
    ProviderRecord,
    Vault,
)
from claims.application.submission import Unreadable, _patient_person, _subscriber_person
from claims.domain.eligibility import (
    EligibilityResponseRead,
    FailInquiry,
    Inquiry,
    Inquiry270,
    Interchange270,
    Person270,
    Receiver270,
    RecordResponse,
    SendInquiry,
    UnknownInquiry,
    inquiry_decider,
)
from claims.domain.outbound import Person837

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "claims-eligibility"
MISSING_PARTIES = "the coverage, patient, payer or provider is not on file"


@dataclass(frozen=True)
class InquiryRow:
    check_id: str
    tenant: str
    coverage_id: str
    patient_id: str
    payer_id: str
    provider_id: str | None
    service_date: date
    requested_at: datetime

    @property
    def inquiry(self) -> Inquiry:
        return Inquiry(self.check_id, self.coverage_id, self.patient_id, self.payer_id)


@dataclass(frozen=True)
class InquiryParties:
    payer: PayerRecord
    receiver: ProviderRecord
    patient: PatientRecord
    coverage: CoverageRecord


class Inquiries(Protocol):
    async def queue(self, tenant: str, event: EligibilityCheckRequested, requested_at: datetime) -> None: ...
    async def waiting(self, limit: int) -> list[InquiryRow]:
        """Waiting inquiries of every tenant, oldest first, locked (SKIP LOCKED) for this round."""
        ...

    async def parties(self, row: InquiryRow) -> InquiryParties | None: ...
    async def settle(
        self, check_id: str, status: Literal["sent", "failed"], file_name: str | None
    ) -> None: ...


@dataclass(frozen=True)
class EligibilityViews:
    inquiries: Inquiries
    batches: Batches


EligibilityUnit = UnitOfWork[EligibilityViews]


async def queue_inquiry(
    inquiries: Inquiries, tenant: str, event: EligibilityCheckRequested, at: datetime
) -> None:
    await inquiries.queue(tenant, event, at)


class Unwritable(Exception):
    """Decrypted data the 270 format cannot carry (a delimiter in a name): the renderer's refusal,
    naming no value."""


@dataclass(frozen=True)
class EligibilityConfig:
    usage: Literal["P", "T"] = "P"
    submitter_id: str | None = None
    # How long an inquiry waits for registration's data to reach this service before it fails.
    reference_wait: timedelta = timedelta(minutes=10)
    max_inquiries_per_round: int = 200


def _person(person: Person837) -> Person270:
    return Person270(person.family_name, person.given_name, person.birth_date, person.sex or "U")


def _reason(code: str, description: str) -> tuple[RejectionReason, ...]:
    return (RejectionReason(code=code, description=description),)


class EligibilitySender:
    def __init__(
        self,
        store: EventStore,
        unit_for: Callable[[Session], EligibilityUnit],
        vault: Vault,
        outbox: Outbox,
        render: Callable[[Interchange270], str],
        config: EligibilityConfig,
    ) -> None:
        self.store = store
        self.unit_for = unit_for
        self.vault = vault
        self.outbox = outbox
        self.render = render
        self.config = config

    async def _inquiry_270(self, row: InquiryRow, parties: InquiryParties) -> Inquiry270:
        """Decrypts as the 837 does (submission's own readers, so both files read a patient and a
        subscriber alike). Raises KeyDestroyed or Unreadable (naming a field only)."""
        patient = await _patient_person(self.vault, parties.patient)
        coverage = parties.coverage
        subscriber = await _subscriber_person(self.vault, coverage, patient)
        member_id = await self.vault.open(coverage.member_id, "member_id") if coverage.member_id else None
        receiver = parties.receiver
        return Inquiry270(
            check_id=row.check_id,
            service_date=row.service_date,
            payer_name=parties.payer.name,
            payer_edi_id=parties.payer.edi_payer_id,
            receiver=Receiver270(
                receiver.npi, receiver.organization_name, receiver.family_name, receiver.given_name
            ),
            member_id=str(member_id or ""),
            subscriber=_person(subscriber),
            dependent=None if coverage.relationship == "self" else _person(patient),
            relationship=coverage.relationship,
        )

    async def run_once(self, now: datetime) -> list[str]:
        """Send what waits; the names of the files written."""
        written: list[str] = []
        async with self.store.session() as session:
            unit = self.unit_for(session)
            inquiries = unit.views.inquiries
            ready: dict[tuple[str, str], list[tuple[InquiryRow, Inquiry270]]] = {}
            failed: list[tuple[InquiryRow, tuple[RejectionReason, ...]]] = []
            for row in await inquiries.waiting(self.config.max_inquiries_per_round):
                # A request replayed from registration's topic (a rebuild) finds its inquiry settled.
                state, _ = await load_state(session, inquiry_decider, row.check_id)
                if state.sent or state.closed:
                    await inquiries.settle(row.check_id, "sent" if state.sent else "failed", None)
                    continue
                parties = await inquiries.parties(row)
                if parties is None:
                    if now - row.requested_at >= self.config.reference_wait:
                        failed.append(
                            (
                                row,
                                _reason(
                                    "REF:missing", "the coverage, patient, payer or provider is not on file"
                                ),
                            )
                        )
                    continue
                try:
                    inquiry = await self._inquiry_270(row, parties)
                except KeyDestroyed:
                    failed.append((row, _reason("PHI:erased", "the patient's data was erased")))
                    continue
                except Unreadable as error:
                    failed.append((row, _reason("PHI:unreadable", f"the {error.field} is not readable")))
                    continue
                if not inquiry.member_id:
                    failed.append((row, _reason("REF:member_id", "the coverage has no member id")))
                    continue
                ready.setdefault((row.tenant, row.payer_id), []).append((row, inquiry))
            sends: list[tuple[InquiryRow, SendInquiry]] = []
            for (tenant, _payer_id), items in ready.items():
                sent = await self._write_file(unit, tenant, items, now)
                if sent is None:
                    failed.extend(
                        (row, _reason("X12:unwritable", "the patient's data cannot be written in X12"))
                        for row, _ in items
                    )
                    continue
                file_name, commands = sent
                written.append(file_name)
                sends.extend(commands)
            # Appends last: they hold the log's head lock until commit.
            for row, command in sends:
                await self._run(session, row, command)
                await inquiries.settle(row.check_id, "sent", command.file_name)
            for row, reasons in failed:
                await self._run(session, row, FailInquiry(row.inquiry, reasons))
                await inquiries.settle(row.check_id, "failed", None)
        return written

    async def _write_file(
        self, unit: EligibilityUnit, tenant: str, items: list[tuple[InquiryRow, Inquiry270]], now: datetime
    ) -> tuple[str, list[tuple[InquiryRow, SendInquiry]]] | None:
        number = await unit.views.batches.next_control_number(tenant)
        sender = await unit.views.batches.submitter_id(tenant, self.config.submitter_id)
        interchange = Interchange270(
            sender_id=sender,
            receiver_id=items[0][1].payer_edi_id,
            control_number=number,
            created_at=now,
            inquiries=tuple(inquiry for _, inquiry in items),
            usage=self.config.usage,
        )
        try:
            text = self.render(interchange)
        except Unwritable:
            return None
        file_name = f"270-{number:09d}-{uuid.uuid4()}.x12"
        self.outbox.write_outbound(file_name, text)
        commands = [
            (row, SendInquiry(row.inquiry, file_name, f"{number:09d}", f"{index:04d}"))
            for index, (row, _) in enumerate(items, start=1)
        ]
        return file_name, commands

    @staticmethod
    async def _run(session: EventSession, row: InquiryRow, command: SendInquiry | FailInquiry) -> None:
        metadata = Metadata(tenant=row.tenant, actor=SYSTEM_ACTOR, correlation_id=str(uuid.uuid4()))
        await execute(session, inquiry_decider, row.check_id, command, metadata)


async def record_responses(
    session: EventSession, responses: Sequence[EligibilityResponseRead], file_name: str, metadata: Metadata
) -> int:
    """Apply each 271 to the inquiry it answers; the number matched. An answer to no inquiry of the
    file's tenant is left: it changes nothing."""
    matched = 0
    for response in responses:
        try:
            await execute(
                session, inquiry_decider, response.check_id, RecordResponse(response, file_name), metadata
            )
        except (UnknownInquiry, StreamOfAnotherTenant):
            log.info("eligibility response to no inquiry of this tenant", extra={"file_name": file_name})
            continue
        matched += 1
    return matched
